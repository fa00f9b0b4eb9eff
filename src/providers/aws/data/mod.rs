//! Data sources: what `data "TYPE" "NAME"` blocks read, with Terraform AWS provider (v5)
//! names. Reads only: `aws_caller_identity` (STS GetCallerIdentity), `aws_region` and
//! `aws_partition` (from the provider's region; no call), `aws_availability_zones` (EC2 DescribeAvailabilityZones),
//! `aws_ami` (EC2 DescribeImages) and `aws_iam_policy_document` (rendered locally).

mod ami;
mod gojson;
mod identity;
mod policy_document;
mod zones;

use super::AwsProvider;
use crate::providers::ProviderError;
use crate::providers::schema::DataSchema;
use crate::value::Value;

pub(super) const SCHEMAS: &[&DataSchema] = &[
    &ami::SCHEMA,
    &zones::SCHEMA,
    &identity::CALLER_IDENTITY,
    &policy_document::SCHEMA,
    &identity::REGION,
    &identity::PARTITION,
];

/// Reads data source `type_` with its evaluated arguments.
pub(super) async fn read(
    p: &AwsProvider,
    type_: &str,
    config: &Value,
) -> Result<Value, ProviderError> {
    match type_ {
        "aws_caller_identity" => identity::caller_identity(p, config).await,
        "aws_region" => identity::region(p, config),
        "aws_partition" => identity::partition(p, config),
        "aws_availability_zones" => zones::read(p, config).await,
        "aws_ami" => ami::read(p, config).await,
        "aws_iam_policy_document" => policy_document::render(config).map_err(ProviderError::new),
        other => Err(ProviderError::new(format!(
            "the AWS provider cannot read data source {other}"
        ))),
    }
}

/// Reads data source `type_` without the cloud, when it needs none: an
/// `aws_iam_policy_document` is rendered from its arguments alone. `None` for data
/// sources that call AWS or read the provider's settings.
pub(super) fn render_offline(type_: &str, config: &Value) -> Option<Result<Value, String>> {
    match type_ {
        "aws_iam_policy_document" => Some(policy_document::render(config)),
        _ => None,
    }
}

/// `config` with `results` added: what a read returns.
pub(super) fn with_results(
    config: &Value,
    results: impl IntoIterator<Item = (&'static str, Value)>,
) -> Value {
    let mut map = config.as_map().cloned().unwrap_or_default();
    for (k, v) in results {
        map.insert(k.to_string(), v);
    }
    Value::Map(map)
}

/// The strings of a list argument (empty when unset).
pub(super) fn strings(v: &Value) -> Vec<String> {
    v.as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// `filter { name = ... values = [...] }` blocks as EC2 filters.
pub(super) fn filters(config: &Value) -> Vec<aws_sdk_ec2::types::Filter> {
    config
        .get("filter")
        .as_list()
        .unwrap_or(&[])
        .iter()
        .map(|f| {
            aws_sdk_ec2::types::Filter::builder()
                .name(f.get("name").as_str().unwrap_or_default())
                .set_values(Some(strings(f.get("values"))))
                .build()
        })
        .collect()
}

/// The `filter` block of EC2 data sources.
pub(super) const FILTER: crate::providers::schema::BlockType =
    crate::providers::schema::BlockType {
        name: "filter",
        attrs: &[
            crate::providers::schema::Attr::required("name", crate::providers::schema::Ty::String),
            crate::providers::schema::Attr::required(
                "values",
                crate::providers::schema::Ty::StringList,
            ),
        ],
        blocks: &[],
        min_items: 0,
        max_items: None,
        force_new: false,
        computed: false,
    };
