//! `aws_ami`: one image found with EC2 DescribeImages by `owners`, `filter` blocks and
//! `executable_users`, then `name_regex`; several matches are an error unless
//! `most_recent = true` picks the newest by creation date, as Terraform does.

use super::super::{AwsProvider, sdk_error};
use super::{FILTER, filters, strings, with_results};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, DataSchema, Default, Ty};
use crate::value::Value;
use aws_sdk_ec2::types::Image;
use std::collections::BTreeMap;

fn regex_check(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(re) => regex_lite::Regex::new(re)
            .map(|_| ())
            .map_err(|e| format!("not a valid regular expression: {e}")),
        None => Ok(()),
    }
}

pub(super) const SCHEMA: DataSchema = DataSchema {
    type_name: "aws_ami",
    args: &[
        Attr::optional("owners", Ty::StringList),
        Attr::optional("most_recent", Ty::Bool).default(Default::Bool(false)),
        Attr::optional("name_regex", Ty::String).check(regex_check),
        Attr::optional("executable_users", Ty::StringList),
        Attr::optional("include_deprecated", Ty::Bool).default(Default::Bool(false)),
    ],
    blocks: &[FILTER],
    results: &[
        "arn",
        "architecture",
        "block_device_mappings",
        "boot_mode",
        "creation_date",
        "deprecation_time",
        "description",
        "ena_support",
        "hypervisor",
        "image_id",
        "image_location",
        "image_owner_alias",
        "image_type",
        "kernel_id",
        "name",
        "owner_id",
        "platform",
        "platform_details",
        "public",
        "ramdisk_id",
        "root_device_name",
        "root_device_type",
        "root_snapshot_id",
        "sriov_net_support",
        "state",
        "tags",
        "usage_operation",
        "virtualization_type",
    ],
};

pub(super) async fn read(p: &AwsProvider, config: &Value) -> Result<Value, ProviderError> {
    let filters = filters(config);
    let owners = strings(config.get("owners"));
    let users = strings(config.get("executable_users"));
    let mut images = Vec::new();
    let mut token = None;
    loop {
        let out = p
            .ec2
            .describe_images()
            .set_owners((!owners.is_empty()).then(|| owners.clone()))
            .set_executable_users((!users.is_empty()).then(|| users.clone()))
            .set_filters((!filters.is_empty()).then(|| filters.clone()))
            .set_include_deprecated(config.get("include_deprecated").as_bool())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeImages", e))?;
        images.extend(out.images().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if let Some(re) = config.get("name_regex").as_str() {
        let re = regex_lite::Regex::new(re)
            .map_err(|e| ProviderError::new(format!("name_regex: {e}")))?;
        images.retain(|i| i.name().is_some_and(|n| !n.is_empty() && re.is_match(n)));
    }
    if images.is_empty() {
        return Err(ProviderError::new(
            "Your query returned no results. Please change your search criteria and try again.",
        ));
    }
    let most_recent = config.get("most_recent").as_bool().unwrap_or(false);
    if images.len() > 1 && !most_recent {
        return Err(ProviderError::new(
            "Your query returned more than one result. Please try a more specific search criteria, or set `most_recent` attribute to true.",
        ));
    }
    // The newest by creation date (ISO 8601 in one format, so text order is time order);
    // the first of equals.
    let mut newest = &images[0];
    for i in &images[1..] {
        if i.creation_date().unwrap_or_default() > newest.creation_date().unwrap_or_default() {
            newest = i;
        }
    }
    Ok(with_results(config, attributes(p, newest)))
}

fn attributes(p: &AwsProvider, i: &Image) -> Vec<(&'static str, Value)> {
    let s = |v: Option<&str>| Value::str(v.unwrap_or_default());
    let id = i.image_id().unwrap_or_default();
    let root_snapshot = i
        .block_device_mappings()
        .iter()
        .find(|b| b.device_name().is_some() && b.device_name() == i.root_device_name())
        .and_then(|b| b.ebs()?.snapshot_id())
        .unwrap_or_default();
    let mappings = i
        .block_device_mappings()
        .iter()
        .map(|b| {
            let mut m = BTreeMap::from([
                ("device_name".to_string(), s(b.device_name())),
                ("virtual_name".to_string(), s(b.virtual_name())),
                ("no_device".to_string(), s(b.no_device())),
            ]);
            if let Some(e) = b.ebs() {
                let num = |n: Option<i32>| Value::str(n.map(|n| n.to_string()).unwrap_or_default());
                let flag =
                    |b: Option<bool>| Value::str(b.map(|b| b.to_string()).unwrap_or_default());
                m.insert(
                    "ebs".into(),
                    Value::Map(BTreeMap::from([
                        (
                            "delete_on_termination".into(),
                            flag(e.delete_on_termination()),
                        ),
                        ("encrypted".into(), flag(e.encrypted())),
                        ("iops".into(), num(e.iops())),
                        ("snapshot_id".into(), s(e.snapshot_id())),
                        ("throughput".into(), num(e.throughput())),
                        ("volume_size".into(), num(e.volume_size())),
                        (
                            "volume_type".into(),
                            Value::str(e.volume_type().map(|t| t.as_str()).unwrap_or_default()),
                        ),
                    ])),
                );
            }
            Value::Map(m)
        })
        .collect();
    let tags: BTreeMap<String, Value> = i
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), s(t.value()))))
        .collect();
    let text = |v: Option<String>| Value::str(v.unwrap_or_default());
    vec![
        ("id", Value::str(id)),
        ("image_id", Value::str(id)),
        (
            "arn",
            Value::str(format!("arn:aws:ec2:{}::image/{id}", p.region())),
        ),
        (
            "architecture",
            text(i.architecture().map(|a| a.as_str().to_string())),
        ),
        ("block_device_mappings", Value::List(mappings)),
        (
            "boot_mode",
            text(i.boot_mode().map(|b| b.as_str().to_string())),
        ),
        ("creation_date", s(i.creation_date())),
        ("deprecation_time", s(i.deprecation_time())),
        ("description", s(i.description())),
        ("ena_support", Value::Bool(i.ena_support().unwrap_or(false))),
        (
            "hypervisor",
            text(i.hypervisor().map(|h| h.as_str().to_string())),
        ),
        ("image_location", s(i.image_location())),
        ("image_owner_alias", s(i.image_owner_alias())),
        (
            "image_type",
            text(i.image_type().map(|t| t.as_str().to_string())),
        ),
        ("kernel_id", s(i.kernel_id())),
        ("name", s(i.name())),
        ("owner_id", s(i.owner_id())),
        (
            "platform",
            text(i.platform().map(|p| p.as_str().to_string())),
        ),
        ("platform_details", s(i.platform_details())),
        ("public", Value::Bool(i.public().unwrap_or(false))),
        ("ramdisk_id", s(i.ramdisk_id())),
        ("root_device_name", s(i.root_device_name())),
        (
            "root_device_type",
            text(i.root_device_type().map(|t| t.as_str().to_string())),
        ),
        ("root_snapshot_id", Value::str(root_snapshot)),
        ("sriov_net_support", s(i.sriov_net_support())),
        ("state", text(i.state().map(|t| t.as_str().to_string()))),
        ("tags", Value::Map(tags)),
        ("usage_operation", s(i.usage_operation())),
        (
            "virtualization_type",
            text(i.virtualization_type().map(|t| t.as_str().to_string())),
        ),
    ]
}
