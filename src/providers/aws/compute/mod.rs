//! Compute for GPU clusters: `aws_placement_group`, `aws_key_pair`, `aws_launch_template`
//! and `aws_instance`. Takes a resource's configured attributes (or its recorded state) and
//! produces what EC2 holds, read in batches: one `Describe*` call per page of ids, with the
//! few per-resource calls that EC2 offers no batch for named where they are made.

mod instance;
mod instance_read;
mod instance_update;
mod key_pair;
mod launch_template;
mod placement_group;
mod template_data;
mod values;
mod wait;

tokio::task_local! {
    /// The create's idempotency token from apply's journal, for RunInstances.
    pub(crate) static CLIENT_TOKEN: String;
}

use super::{AwsProvider, unsupported};
use crate::addr::ResourceAddr;
use crate::providers::{ProviderError, ResourceSchema};
use crate::value::Value;

type Result<T> = std::result::Result<T, ProviderError>;

pub(super) static SCHEMAS: &[&ResourceSchema] = &[
    &placement_group::AWS_PLACEMENT_GROUP,
    &key_pair::AWS_KEY_PAIR,
    &launch_template::AWS_LAUNCH_TEMPLATE,
    &instance::AWS_INSTANCE,
];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_placement_group" => placement_group::create(&p.ec2, config).await,
        "aws_key_pair" => key_pair::create(p, config).await,
        "aws_launch_template" => launch_template::create(&p.ec2, config).await,
        "aws_instance" => instance::create(&p.ec2, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    match type_ {
        "aws_placement_group" => placement_group::read_many(&p.ec2, priors).await,
        "aws_key_pair" => key_pair::read_many(p, priors).await,
        "aws_launch_template" => launch_template::read_many(&p.ec2, priors).await,
        "aws_instance" => instance_read::read_many(&p.ec2, priors).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn update(
    p: &AwsProvider,
    addr: &ResourceAddr,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_placement_group" => placement_group::update(&p.ec2, prior, config).await,
        "aws_key_pair" => key_pair::update(p, prior, config).await,
        "aws_launch_template" => launch_template::update(&p.ec2, prior, config).await,
        "aws_instance" => instance_update::update(&p.ec2, prior, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_placement_group" => placement_group::delete(&p.ec2, prior).await,
        "aws_key_pair" => key_pair::delete(&p.ec2, prior).await,
        "aws_launch_template" => launch_template::delete(&p.ec2, prior).await,
        "aws_instance" => instance::delete(&p.ec2, prior).await,
        other => Err(unsupported(other)),
    }
}
