//! `aws_caller_identity` (who the provider's credentials are: STS GetCallerIdentity),
//! `aws_region` (the provider's region, or the one named; no call) and `aws_partition`
//! (the region's partition, for ARNs; no call).

use super::super::{AwsProvider, sdk_error};
use super::with_results;
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, DataSchema, Ty};
use crate::value::Value;

pub(super) const CALLER_IDENTITY: DataSchema = DataSchema {
    type_name: "aws_caller_identity",
    args: &[],
    blocks: &[],
    results: &["account_id", "arn", "user_id"],
};

pub(super) const REGION: DataSchema = DataSchema {
    type_name: "aws_region",
    args: &[
        Attr::optional("name", Ty::String),
        Attr::optional("endpoint", Ty::String),
    ],
    blocks: &[],
    // `region` is the AWS provider v6's name for `name`; modules written for v6 read it.
    results: &["name", "description", "endpoint", "region"],
};

pub(super) const PARTITION: DataSchema = DataSchema {
    type_name: "aws_partition",
    args: &[],
    blocks: &[],
    results: &["partition", "dns_suffix", "reverse_dns_prefix"],
};

/// The partition of the provider's region: `aws`, `aws-cn` or `aws-us-gov`.
pub(super) fn partition(p: &AwsProvider, config: &Value) -> Result<Value, ProviderError> {
    let region = p.region();
    let (partition, suffix, reverse) = if region.starts_with("cn-") {
        ("aws-cn", "amazonaws.com.cn", "cn.com.amazonaws")
    } else if region.starts_with("us-gov-") {
        ("aws-us-gov", "amazonaws.com", "com.amazonaws")
    } else {
        ("aws", "amazonaws.com", "com.amazonaws")
    };
    Ok(with_results(
        config,
        [
            ("id", Value::str(partition)),
            ("partition", Value::str(partition)),
            ("dns_suffix", Value::str(suffix)),
            ("reverse_dns_prefix", Value::str(reverse)),
        ],
    ))
}

pub(super) async fn caller_identity(
    p: &AwsProvider,
    config: &Value,
) -> Result<Value, ProviderError> {
    let out = p
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_error("GetCallerIdentity", e))?;
    let account = out.account().unwrap_or_default().to_string();
    Ok(with_results(
        config,
        [
            ("id", Value::str(&account)),
            ("account_id", Value::str(account)),
            ("arn", Value::str(out.arn().unwrap_or_default())),
            ("user_id", Value::str(out.user_id().unwrap_or_default())),
        ],
    ))
}

pub(super) fn region(p: &AwsProvider, config: &Value) -> Result<Value, ProviderError> {
    let name = config
        .get("name")
        .as_str()
        .unwrap_or(p.region())
        .to_string();
    let Some(description) = description(&name) else {
        return Err(ProviderError::new(format!(
            "region \"{name}\" is not an AWS region keel knows"
        )));
    };
    let endpoint = format!("ec2.{name}.amazonaws.com");
    if let Some(wanted) = config.get("endpoint").as_str()
        && wanted != endpoint
    {
        return Err(ProviderError::new(format!(
            "no region has the endpoint \"{wanted}\" (region {name}'s is {endpoint})"
        )));
    }
    Ok(with_results(
        config,
        [
            ("id", Value::str(&name)),
            ("name", Value::str(&name)),
            ("region", Value::str(&name)),
            ("description", Value::str(description)),
            ("endpoint", Value::str(endpoint)),
        ],
    ))
}

/// The description AWS gives a region (the AWS partition's commercial regions).
fn description(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "Europe (Frankfurt)",
        "eu-central-2" => "Europe (Zurich)",
        "eu-west-1" => "Europe (Ireland)",
        "eu-west-2" => "Europe (London)",
        "eu-west-3" => "Europe (Paris)",
        "eu-south-1" => "Europe (Milan)",
        "eu-south-2" => "Europe (Spain)",
        "eu-north-1" => "Europe (Stockholm)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "sa-east-1" => "South America (Sao Paulo)",
        _ => return None,
    })
}
