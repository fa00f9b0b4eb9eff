//! IAM: roles, policies, role policies and attachments, instance profiles.

use super::{AwsProvider, unsupported};
use crate::addr::ResourceAddr;
use crate::providers::{ProviderError, ResourceSchema};
use crate::value::Value;

type Result<T> = std::result::Result<T, ProviderError>;

pub(super) static SCHEMAS: &[&ResourceSchema] = &[];

pub(super) async fn create(
    _p: &AwsProvider,
    addr: &ResourceAddr,
    _config: &Value,
) -> Result<Value> {
    Err(unsupported(&addr.type_))
}

pub(super) async fn read_many(
    _p: &AwsProvider,
    type_: &str,
    _priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    Err(unsupported(type_))
}

pub(super) async fn update(
    _p: &AwsProvider,
    addr: &ResourceAddr,
    _prior: &Value,
    _config: &Value,
) -> Result<Value> {
    Err(unsupported(&addr.type_))
}

pub(super) async fn delete(_p: &AwsProvider, addr: &ResourceAddr, _prior: &Value) -> Result<()> {
    Err(unsupported(&addr.type_))
}
