//! `aws_placement_group`: a cluster, spread or partition group that GPU instances launch
//! into. Terraform's id is the group's name; tags go on its `pg-...` id.

use super::values::{int, object, opt_int, opt_str, string};
use super::wait::{PLACEMENT_GROUP, Poll, until};
use crate::providers::ProviderError;
use crate::providers::aws::ec2::{
    by_ids, filter_any, ids_of, merge_config, retag, tag_spec, tags_of,
};
use crate::providers::aws::{TAGS, TAGS_ALL, prior_id, sdk_error, string_map};
use crate::providers::aws::{tags_value, user_tags};
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{PlacementGroup, PlacementStrategy, ResourceType, SpreadLevel};
use std::collections::HashMap;

type Result<T> = std::result::Result<T, ProviderError>;

pub static AWS_PLACEMENT_GROUP: ResourceSchema = ResourceSchema {
    type_name: "aws_placement_group",
    attrs: &[
        Attr::required("name", Ty::String).force_new(),
        Attr::required("strategy", Ty::String).force_new(),
        Attr::optional_computed("partition_count", Ty::Number).force_new(),
        Attr::optional_computed("spread_level", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("placement_group_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub(super) async fn create(ec2: &Client, config: &Value) -> Result<Value> {
    let name = string(config, "name").unwrap_or_default();
    ec2.create_placement_group()
        .group_name(&name)
        .set_strategy(string(config, "strategy").map(|s| PlacementStrategy::from(s.as_str())))
        .set_partition_count(int(config, "partition_count"))
        .set_spread_level(string(config, "spread_level").map(|s| SpreadLevel::from(s.as_str())))
        .tag_specifications(tag_spec(
            ResourceType::PlacementGroup,
            &string_map(config, "tags_all"),
        ))
        .send()
        .await
        .map_err(|e| sdk_error("CreatePlacementGroup", e))?;
    let known = object([("id", Value::str(&name))]);
    let prior = &merge_config(&known, config);
    let names = std::slice::from_ref(&name);
    until(
        &format!("placement group {name} to become available"),
        PLACEMENT_GROUP,
        || async move {
            let group = describe(ec2, names).await?;
            Ok(match group.get(&names[0]) {
                Some(g) if g.state().map(|s| s.as_str()) == Some("available") => {
                    Poll::Done(value(prior, &names[0], g))
                }
                Some(g) => Poll::Pending(
                    g.state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                ),
                None => Poll::Pending("not yet visible".to_string()),
            })
        },
    )
    .await
}

/// Placement groups by name, one DescribePlacementGroups call per page of names. Groups
/// being deleted count as gone.
async fn describe(ec2: &Client, names: &[String]) -> Result<HashMap<String, PlacementGroup>> {
    by_ids(names, |chunk| async move {
        let out = ec2
            .describe_placement_groups()
            .filters(filter_any("group-name", &chunk))
            .send()
            .await
            .map_err(|e| sdk_error("DescribePlacementGroups", e))?;
        Ok(out
            .placement_groups()
            .iter()
            .filter(|g| {
                !matches!(
                    g.state().map(|s| s.as_str()),
                    Some("deleting") | Some("deleted")
                )
            })
            .filter_map(|g| Some((g.group_name()?.to_string(), g.clone())))
            .collect())
    })
    .await
}

/// Reads placement groups with one DescribePlacementGroups call per page of 200 names.
pub(super) async fn read_many(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let names = ids_of(priors)?;
    let found = describe(ec2, &names).await?;
    Ok(priors
        .iter()
        .zip(&names)
        .map(|(prior, name)| found.get(name).map(|g| value(prior, name, g)))
        .collect())
}

fn value(prior: &Value, name: &str, g: &PlacementGroup) -> Value {
    let tags = tags_of(g.tags());
    object([
        ("id", Value::str(name)),
        ("name", Value::str(name)),
        ("strategy", opt_str(g.strategy().map(|s| s.as_str()))),
        ("partition_count", opt_int(g.partition_count())),
        (
            "spread_level",
            opt_str(g.spread_level().map(|s| s.as_str())),
        ),
        ("placement_group_id", opt_str(g.group_id())),
        ("arn", opt_str(g.group_arn())),
        ("tags", user_tags(prior, &tags)),
        ("tags_all", tags_value(&tags)),
    ])
}

pub(super) async fn update(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let name = prior_id(prior)?.to_string();
    let group_id = string(prior, "placement_group_id").ok_or_else(|| {
        ProviderError::new(format!(
            "the state holds no placement_group_id for placement group {name}; run keel apply -refresh-only first"
        ))
    })?;
    retag(ec2, &group_id, prior, config).await?;
    let known = object([("id", Value::str(&name))]);
    read_many(ec2, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("placement group {name} no longer exists")))
}

/// Deletes the group. While the instances in it terminate, EC2 refuses with
/// InvalidPlacementGroup.InUse; keel keeps trying for as long as it waits for a group.
pub(super) async fn delete(ec2: &Client, prior: &Value) -> Result<()> {
    let name = prior_id(prior)?.to_string();
    until(
        &format!("placement group {name} to be deleted"),
        PLACEMENT_GROUP,
        || async {
            match ec2.delete_placement_group().group_name(&name).send().await {
                Ok(_) => {}
                Err(e) if e.code() == Some("InvalidPlacementGroup.Unknown") => {}
                Err(e) if e.code() == Some("InvalidPlacementGroup.InUse") => {
                    return Ok(Poll::Pending("in use by instances".to_string()));
                }
                Err(e) => return Err(sdk_error("DeletePlacementGroup", e)),
            }
            let left = describe(ec2, std::slice::from_ref(&name)).await?;
            Ok(if left.contains_key(&name) {
                Poll::Pending("deleting".to_string())
            } else {
                Poll::Done(())
            })
        },
    )
    .await
}
