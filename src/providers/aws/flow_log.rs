//! `aws_flow_log`: VPC flow logs from a VPC, subnet, network interface or transit gateway
//! to S3 (a bucket ARN is enough) or CloudWatch Logs. Everything but tags is fixed at
//! creation, as in Terraform. Read in batches: one DescribeFlowLogs call per page of ids,
//! plus one GetCallerIdentity for the ARNs.

use super::ec2::{account_id, by_ids, filter_any, ids_of, merge_config, retag, tag_spec, tags_of};
use super::pages::from_pages;
use super::{TAGS, TAGS_ALL};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    FlowLog, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType,
};
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

/// The attributes naming what is logged, their AWS resource type, and the id prefix that
/// tells a resource id's attribute when reading it back (longest prefix first).
const SOURCES: &[(&str, FlowLogsResourceType, &str)] = &[
    (
        "transit_gateway_attachment_id",
        FlowLogsResourceType::TransitGatewayAttachment,
        "tgw-attach-",
    ),
    (
        "transit_gateway_id",
        FlowLogsResourceType::TransitGateway,
        "tgw-",
    ),
    ("vpc_id", FlowLogsResourceType::Vpc, "vpc-"),
    ("subnet_id", FlowLogsResourceType::Subnet, "subnet-"),
    ("eni_id", FlowLogsResourceType::NetworkInterface, "eni-"),
];

fn s(v: Option<&str>) -> Value {
    v.filter(|v| !v.is_empty())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

fn set<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config.get(key).as_str().filter(|v| !v.is_empty())
}

/// The one source the configuration names, as (AWS resource type, id).
fn source(config: &Value) -> Result<(FlowLogsResourceType, String)> {
    let named: Vec<_> = SOURCES
        .iter()
        .filter_map(|(attr, kind, _)| set(config, attr).map(|id| (kind.clone(), id.to_string())))
        .collect();
    match <[_; 1]>::try_from(named) {
        Ok([one]) => Ok(one),
        Err(named) => Err(ProviderError::new(format!(
            "aws_flow_log needs exactly one of {} (it has {})",
            SOURCES
                .iter()
                .map(|(a, _, _)| *a)
                .collect::<Vec<_>>()
                .join(", "),
            named.len()
        ))),
    }
}

pub async fn create_flow_log(
    ec2: &Client,
    sts: &aws_sdk_sts::Client,
    config: &Value,
) -> Result<Value> {
    let (kind, resource) = source(config)?;
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_flow_logs()
        .resource_type(kind)
        .resource_ids(&resource)
        .set_traffic_type(set(config, "traffic_type").map(TrafficType::from))
        .log_destination_type(LogDestinationType::from(
            set(config, "log_destination_type").unwrap_or("cloud-watch-logs"),
        ))
        .set_log_destination(set(config, "log_destination").map(str::to_string))
        .set_log_group_name(set(config, "log_group_name").map(str::to_string))
        .set_deliver_logs_permission_arn(set(config, "iam_role_arn").map(str::to_string))
        .set_deliver_cross_account_role(
            set(config, "deliver_cross_account_role").map(str::to_string),
        )
        .set_max_aggregation_interval(match config.get("max_aggregation_interval") {
            Value::Number(n) => Some(*n as i32),
            _ => None,
        })
        .set_log_format(set(config, "log_format").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::VpcFlowLog, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateFlowLogs", e))?;
    if let Some(err) = out.unsuccessful().first().and_then(|u| u.error()) {
        return Err(ProviderError::with_code(
            err.code().unwrap_or("FlowLogNotCreated"),
            format!(
                "CreateFlowLogs for {resource}: {}",
                err.message().unwrap_or("no message from AWS")
            ),
        ));
    }
    let id = out
        .flow_log_ids()
        .first()
        .ok_or_else(|| ProviderError::new("CreateFlowLogs returned no flow log id"))?
        .to_string();
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_flow_logs(ec2, sts, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("flow log {id} vanished")))
}

/// Reads flow logs with one DescribeFlowLogs call per page of ids.
pub async fn read_flow_logs(
    ec2: &Client,
    sts: &aws_sdk_sts::Client,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_flow_logs()
            .filter(filter_any("flow-log-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeFlowLogs",
            pages,
            |p| p.flow_logs(),
            |f| Some((f.flow_log_id()?.to_string(), f.clone())),
        )
    })
    .await?;
    let account = if found.is_empty() {
        String::new()
    } else {
        account_id(sts).await?
    };
    let region = ec2
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            let f = found.get(id)?;
            let arn = format!("arn:aws:ec2:{region}:{account}:vpc-flow-log/{id}");
            Some(flow_log_value(prior, id, arn, f))
        })
        .collect())
}

fn flow_log_value(prior: &Value, id: &str, arn: String, f: &FlowLog) -> Value {
    let tags = tags_of(f.tags());
    let resource = f.resource_id().unwrap_or_default();
    let mut attrs = BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("arn".to_string(), Value::str(arn)),
        (
            "traffic_type".to_string(),
            s(f.traffic_type().map(|t| t.as_str())),
        ),
        (
            "log_destination_type".to_string(),
            s(f.log_destination_type().map(|t| t.as_str())),
        ),
        ("log_destination".to_string(), s(f.log_destination())),
        ("log_group_name".to_string(), s(f.log_group_name())),
        (
            "iam_role_arn".to_string(),
            s(f.deliver_logs_permission_arn()),
        ),
        (
            "deliver_cross_account_role".to_string(),
            s(f.deliver_cross_account_role()),
        ),
        (
            "max_aggregation_interval".to_string(),
            f.max_aggregation_interval()
                .map(|n| Value::Number(n as f64))
                .unwrap_or(Value::Null),
        ),
        ("log_format".to_string(), s(f.log_format())),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]);
    let owner = SOURCES
        .iter()
        .find(|(_, _, prefix)| resource.starts_with(prefix))
        .map(|(attr, _, _)| *attr);
    for (attr, _, _) in SOURCES {
        let v = if Some(*attr) == owner {
            Value::str(resource)
        } else {
            Value::Null
        };
        attrs.insert(attr.to_string(), v);
    }
    Value::Map(attrs)
}

/// Only tags change in place.
pub async fn update_flow_log(
    ec2: &Client,
    sts: &aws_sdk_sts::Client,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    retag(ec2, &id, prior, config).await?;
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_flow_logs(ec2, sts, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("flow log {id} no longer exists")))
}

pub async fn delete_flow_log(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    let out = match ec2.delete_flow_logs().flow_log_ids(id).send().await {
        Ok(out) => out,
        Err(e) if e.code() == Some("InvalidFlowLogId.NotFound") => return Ok(()),
        Err(e) => return Err(sdk_error("DeleteFlowLogs", e)),
    };
    match out.unsuccessful().first().and_then(|u| u.error()) {
        Some(err) if err.code() != Some("InvalidFlowLogId.NotFound") => {
            Err(ProviderError::with_code(
                err.code().unwrap_or("FlowLogNotDeleted"),
                format!(
                    "DeleteFlowLogs: {}",
                    err.message().unwrap_or("no message from AWS")
                ),
            ))
        }
        _ => Ok(()),
    }
}

// Schema: Terraform AWS provider (v5) names. As in Terraform, every argument but the tags
// forces a new flow log.

pub static AWS_FLOW_LOG: ResourceSchema = ResourceSchema {
    type_name: "aws_flow_log",
    attrs: &[
        Attr::optional("vpc_id", Ty::String).force_new(),
        Attr::optional("subnet_id", Ty::String).force_new(),
        Attr::optional("eni_id", Ty::String).force_new(),
        Attr::optional("transit_gateway_id", Ty::String).force_new(),
        Attr::optional("transit_gateway_attachment_id", Ty::String).force_new(),
        Attr::optional("traffic_type", Ty::String).force_new(),
        Attr::optional("log_destination_type", Ty::String)
            .force_new()
            .default(Default::Str("cloud-watch-logs")),
        Attr::optional_computed("log_destination", Ty::String).force_new(),
        Attr::optional_computed("log_group_name", Ty::String).force_new(),
        Attr::optional("iam_role_arn", Ty::String).force_new(),
        Attr::optional("deliver_cross_account_role", Ty::String).force_new(),
        // AWS's default is 600 seconds.
        Attr::optional_computed("max_aggregation_interval", Ty::Number).force_new(),
        Attr::optional_computed("log_format", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_source_is_required() {
        let one = Value::Map(BTreeMap::from([(
            "subnet_id".to_string(),
            Value::str("subnet-1"),
        )]));
        let (kind, id) = source(&one).unwrap();
        assert_eq!(
            (kind, id.as_str()),
            (FlowLogsResourceType::Subnet, "subnet-1")
        );
        let none = Value::Map(BTreeMap::new());
        assert!(
            source(&none)
                .unwrap_err()
                .message
                .contains("exactly one of")
        );
        let two = Value::Map(BTreeMap::from([
            ("subnet_id".to_string(), Value::str("subnet-1")),
            ("vpc_id".to_string(), Value::str("vpc-1")),
        ]));
        assert!(source(&two).unwrap_err().message.contains("it has 2"));
    }

    #[test]
    fn a_resource_id_goes_back_to_its_attribute() {
        let f = FlowLog::builder().resource_id("tgw-attach-0123").build();
        let v = flow_log_value(&Value::Null, "fl-1", "arn".into(), &f);
        assert_eq!(
            v.get("transit_gateway_attachment_id"),
            &Value::str("tgw-attach-0123")
        );
        assert!(v.get("transit_gateway_id").is_null());
        assert!(v.get("vpc_id").is_null());
    }
}
