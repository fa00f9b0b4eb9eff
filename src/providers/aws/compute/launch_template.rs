//! `aws_launch_template`: the settings GPU instances launch with (image, IMDSv2, encrypted
//! root volume, EFA interfaces, spot options, placement). A change to the template's data
//! makes a new version in place, and the new default when `update_default_version` is set,
//! as Terraform does.

use super::template_data::{DATA, request, response};
use super::values::{account_of, flag, object, opt_str, string, unique_name};
use crate::providers::ProviderError;
use crate::providers::aws::ec2::{by_ids, ec2_arn, ids_of, merge_config, retag, tag_spec, tags_of};
use crate::providers::aws::{TAGS, TAGS_ALL, prior_id, sdk_error, string_map};
use crate::providers::aws::{tags_value, user_tags};
use crate::providers::schema::{Attr, BlockType, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    LaunchTemplate, LaunchTemplateVersion, ResourceType, ResponseLaunchTemplateData,
};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;

type Result<T> = std::result::Result<T, ProviderError>;

const fn one(
    name: &'static str,
    attrs: &'static [Attr],
    blocks: &'static [BlockType],
) -> BlockType {
    BlockType {
        name,
        attrs,
        blocks,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
        computed: false,
    }
}

const fn many(
    name: &'static str,
    attrs: &'static [Attr],
    blocks: &'static [BlockType],
) -> BlockType {
    BlockType {
        name,
        attrs,
        blocks,
        min_items: 0,
        max_items: None,
        force_new: false,
        computed: false,
    }
}

const EBS: &[Attr] = &[
    Attr::optional("volume_size", Ty::Number),
    Attr::optional("volume_type", Ty::String),
    Attr::optional("encrypted", Ty::Bool),
    Attr::optional("kms_key_id", Ty::String),
    Attr::optional("delete_on_termination", Ty::Bool),
    Attr::optional("iops", Ty::Number),
    Attr::optional("throughput", Ty::Number),
    Attr::optional("snapshot_id", Ty::String),
];

const SPOT: &[Attr] = &[
    Attr::optional("max_price", Ty::String),
    Attr::optional("spot_instance_type", Ty::String),
    Attr::optional("instance_interruption_behavior", Ty::String),
];

/// IMDS settings; each one left out is EC2's default.
pub(super) const METADATA: &[Attr] = &[
    Attr::optional_computed("http_endpoint", Ty::String),
    Attr::optional_computed("http_tokens", Ty::String),
    Attr::optional_computed("http_put_response_hop_limit", Ty::Number),
    Attr::optional_computed("instance_metadata_tags", Ty::String),
];

pub static AWS_LAUNCH_TEMPLATE: ResourceSchema = ResourceSchema {
    type_name: "aws_launch_template",
    attrs: &[
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional("name_prefix", Ty::String).force_new(),
        Attr::optional("description", Ty::String),
        Attr::optional("image_id", Ty::String),
        Attr::optional("instance_type", Ty::String),
        Attr::optional("key_name", Ty::String),
        Attr::optional("user_data", Ty::String),
        Attr::optional("vpc_security_group_ids", Ty::StringSet),
        Attr::optional("update_default_version", Ty::Bool),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("latest_version", Ty::Number),
        Attr::computed("default_version", Ty::Number),
    ],
    blocks: &[
        one(
            "iam_instance_profile",
            &[
                Attr::optional("name", Ty::String),
                Attr::optional("arn", Ty::String),
            ],
            &[],
        ),
        one("metadata_options", METADATA, &[]),
        many(
            "block_device_mappings",
            &[Attr::optional("device_name", Ty::String)],
            &[one("ebs", EBS, &[])],
        ),
        many(
            "network_interfaces",
            &[
                Attr::optional("device_index", Ty::Number),
                Attr::optional("network_card_index", Ty::Number),
                Attr::optional("interface_type", Ty::String),
                Attr::optional("subnet_id", Ty::String),
                Attr::optional("security_groups", Ty::StringSet),
                Attr::optional("associate_public_ip_address", Ty::Bool),
                Attr::optional("delete_on_termination", Ty::Bool),
                Attr::optional("description", Ty::String),
                Attr::optional("private_ip_address", Ty::String),
            ],
            &[],
        ),
        one(
            "instance_market_options",
            &[Attr::optional("market_type", Ty::String)],
            &[one("spot_options", SPOT, &[])],
        ),
        one(
            "placement",
            &[
                Attr::optional("group_name", Ty::String),
                Attr::optional("availability_zone", Ty::String),
                Attr::optional("tenancy", Ty::String),
                Attr::optional("partition_number", Ty::Number),
            ],
            &[],
        ),
        many(
            "tag_specifications",
            &[
                Attr::optional("resource_type", Ty::String),
                Attr::optional("tags", Ty::StringMap),
            ],
            &[],
        ),
    ],
    taggable: true,
};

pub(super) async fn create(ec2: &Client, config: &Value) -> Result<Value> {
    let name = string(config, "name").unwrap_or_else(|| {
        unique_name(&string(config, "name_prefix").unwrap_or_else(|| "keel-".to_string()))
    });
    let out = ec2
        .create_launch_template()
        .launch_template_name(&name)
        .launch_template_data(request(config))
        .set_version_description(string(config, "description"))
        .tag_specifications(tag_spec(
            ResourceType::LaunchTemplate,
            &string_map(config, "tags_all"),
        ))
        .send()
        .await
        .map_err(|e| sdk_error("CreateLaunchTemplate", e))?;
    let id = out
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .ok_or_else(|| ProviderError::new("CreateLaunchTemplate returned no template id"))?
        .to_string();
    read_one(ec2, &id, config).await
}

async fn read_one(ec2: &Client, id: &str, config: &Value) -> Result<Value> {
    let known = object([("id", Value::str(id))]);
    read_many(ec2, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("launch template {id} no longer exists")))
}

/// Reads launch templates: one DescribeLaunchTemplates call per page of 200 ids, then the
/// latest version of each. DescribeLaunchTemplateVersions takes one template id at a time,
/// or none at all with `$Latest`, when it lists the latest version of every template in
/// the region, 200 a page; keel reads one template's version with one call and several by
/// that listing (stopping once it has them all), so n templates take ceil(n / 200) +
/// ceil(T / 200) calls at most, T being the templates in the region. A version the listing
/// missed is read on its own.
pub(super) async fn read_many(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let templates = by_ids(&ids, |chunk| describe_templates(ec2, chunk)).await?;
    let versions = latest_versions(ec2, &templates).await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            let t = templates.get(id)?;
            let v = versions.get(id)?;
            Some(value(ec2, prior, id, t, v))
        })
        .collect())
}

type Page<'a> = Pin<Box<dyn Future<Output = Result<Vec<(String, LaunchTemplate)>>> + Send + 'a>>;

/// One page of templates by id. EC2 fails the whole call when one of the ids no longer
/// exists, so such a page is split in halves until the missing ids are found: a page with
/// k deleted templates takes about 2k log2(200) calls instead of one.
fn describe_templates(ec2: &Client, ids: Vec<String>) -> Page<'_> {
    Box::pin(async move {
        let answer = ec2
            .describe_launch_templates()
            .set_launch_template_ids(Some(ids.clone()))
            .send()
            .await;
        match answer {
            Ok(out) => Ok(out
                .launch_templates()
                .iter()
                .filter_map(|t| Some((t.launch_template_id()?.to_string(), t.clone())))
                .collect()),
            Err(e) if e.code() == Some("InvalidLaunchTemplateId.NotFound") => {
                if ids.len() <= 1 {
                    return Ok(Vec::new());
                }
                let (a, b) = ids.split_at(ids.len() / 2);
                let mut found = describe_templates(ec2, a.to_vec()).await?;
                found.extend(describe_templates(ec2, b.to_vec()).await?);
                Ok(found)
            }
            Err(e) => Err(sdk_error("DescribeLaunchTemplates", e)),
        }
    })
}

async fn latest_versions(
    ec2: &Client,
    templates: &HashMap<String, LaunchTemplate>,
) -> Result<HashMap<String, LaunchTemplateVersion>> {
    let is_latest = |id: &str, v: &LaunchTemplateVersion| {
        templates
            .get(id)
            .is_some_and(|t| t.latest_version_number() == v.version_number())
    };
    let mut found = HashMap::new();
    if templates.len() > 1 {
        let mut pages = ec2
            .describe_launch_template_versions()
            .versions("$Latest")
            .max_results(200)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeLaunchTemplateVersions", e))?;
            for v in page.launch_template_versions() {
                if let Some(id) = v.launch_template_id()
                    && is_latest(id, v)
                {
                    found.insert(id.to_string(), v.clone());
                }
            }
            if found.len() == templates.len() {
                break;
            }
        }
    }
    let missing: Vec<(String, i64)> = templates
        .iter()
        .filter(|(id, _)| !found.contains_key(*id))
        .map(|(id, t)| (id.clone(), t.latest_version_number().unwrap_or(1)))
        .collect();
    let one = |(id, number): (String, i64)| async move {
        let out = ec2
            .describe_launch_template_versions()
            .launch_template_id(&id)
            .versions(number.to_string())
            .send()
            .await;
        match out {
            Ok(out) => Ok(out
                .launch_template_versions()
                .first()
                .map(|v| (id, v.clone()))),
            // Deleted between the two calls.
            Err(e) if e.code() == Some("InvalidLaunchTemplateId.NotFound") => Ok(None),
            Err(e) => Err(sdk_error("DescribeLaunchTemplateVersions", e)),
        }
    };
    use futures_util::stream::{StreamExt, TryStreamExt};
    let rest: Vec<Option<(String, LaunchTemplateVersion)>> =
        futures_util::stream::iter(missing.into_iter().map(one))
            .buffered(16)
            .try_collect()
            .await?;
    found.extend(rest.into_iter().flatten());
    Ok(found)
}

fn value(
    ec2: &Client,
    prior: &Value,
    id: &str,
    t: &LaunchTemplate,
    v: &LaunchTemplateVersion,
) -> Value {
    let tags = tags_of(t.tags());
    let account = t.created_by().and_then(account_of).unwrap_or_default();
    let data = v
        .launch_template_data()
        .cloned()
        .unwrap_or_else(|| ResponseLaunchTemplateData::builder().build());
    let mut map: BTreeMap<String, Value> = response(&data)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let number = |n: Option<i64>| n.map(|n| Value::Number(n as f64)).unwrap_or(Value::Null);
    for (k, v) in [
        ("id", Value::str(id)),
        (
            "arn",
            Value::str(ec2_arn(ec2, account, "launch-template", id)),
        ),
        ("name", opt_str(t.launch_template_name())),
        ("name_prefix", prior.get("name_prefix").clone()),
        ("description", opt_str(v.version_description())),
        ("latest_version", number(t.latest_version_number())),
        ("default_version", number(t.default_version_number())),
        (
            "update_default_version",
            prior.get("update_default_version").clone(),
        ),
        ("tags", user_tags(prior, &tags)),
        ("tags_all", tags_value(&tags)),
    ] {
        map.insert(k.to_string(), v);
    }
    Value::Map(map)
}

pub(super) async fn update(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let changes = crate::plan::diff(&AWS_LAUNCH_TEMPLATE, config, prior, &[]);
    let mut new_version = None;
    if changes.iter().any(|c| DATA.contains(&c.name.as_str())) {
        let out = ec2
            .create_launch_template_version()
            .launch_template_id(&id)
            .launch_template_data(request(config))
            .set_version_description(string(config, "description"))
            .send()
            .await
            .map_err(|e| sdk_error("CreateLaunchTemplateVersion", e))?;
        new_version = out
            .launch_template_version()
            .and_then(|v| v.version_number());
    }
    if flag(config, "update_default_version") == Some(true) {
        let latest = opt_number(prior, "latest_version");
        let target =
            new_version.or(latest.filter(|l| Some(*l) != opt_number(prior, "default_version")));
        if let Some(n) = target {
            ec2.modify_launch_template()
                .launch_template_id(&id)
                .default_version(n.to_string())
                .send()
                .await
                .map_err(|e| sdk_error("ModifyLaunchTemplate", e))?;
        }
    }
    retag(ec2, &id, prior, config).await?;
    read_one(ec2, &id, config).await
}

fn opt_number(v: &Value, key: &str) -> Option<i64> {
    match v.get(key) {
        Value::Number(n) => Some(*n as i64),
        _ => None,
    }
}

pub(super) async fn delete(ec2: &Client, prior: &Value) -> Result<()> {
    match ec2
        .delete_launch_template()
        .launch_template_id(prior_id(prior)?)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidLaunchTemplateId.NotFound") => Ok(()),
        Err(e) => Err(sdk_error("DeleteLaunchTemplate", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_settings_are_version_data_and_tags_are_not() {
        for name in [
            "metadata_options",
            "network_interfaces",
            "placement",
            "user_data",
        ] {
            assert!(DATA.contains(&name), "{name}");
            assert!(
                AWS_LAUNCH_TEMPLATE.attr(name).is_some()
                    || AWS_LAUNCH_TEMPLATE.block(name).is_some()
            );
        }
        for name in ["tags", "tags_all", "update_default_version", "name"] {
            assert!(!DATA.contains(&name), "{name}");
        }
        assert!(AWS_LAUNCH_TEMPLATE.forces_new("name"));
        assert!(!AWS_LAUNCH_TEMPLATE.forces_new("image_id"));
    }
}
