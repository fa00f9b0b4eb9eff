//! `aws_availability_zones`: the region's zones (EC2 DescribeAvailabilityZones), by
//! `state`, `filter` blocks and `all_availability_zones`, minus `exclude_names` /
//! `exclude_zone_ids`; `names` and `zone_ids` in zone-name order, as Terraform gives them.

use super::super::{AwsProvider, sdk_error};
use super::{FILTER, filters, strings, with_results};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, DataSchema, Ty, one_of};
use crate::value::Value;
use std::collections::BTreeSet;

fn state_check(v: &Value) -> Result<(), String> {
    one_of(v, &["available", "information", "impaired", "unavailable"])
}

pub(super) const SCHEMA: DataSchema = DataSchema {
    type_name: "aws_availability_zones",
    args: &[
        Attr::optional("all_availability_zones", Ty::Bool),
        Attr::optional("exclude_names", Ty::StringSet),
        Attr::optional("exclude_zone_ids", Ty::StringSet),
        Attr::optional("state", Ty::String).check(state_check),
    ],
    blocks: &[FILTER],
    results: &["names", "zone_ids", "group_names"],
};

pub(super) async fn read(p: &AwsProvider, config: &Value) -> Result<Value, ProviderError> {
    let mut filters = filters(config);
    if let Some(state) = config.get("state").as_str() {
        filters.push(
            aws_sdk_ec2::types::Filter::builder()
                .name("state")
                .values(state)
                .build(),
        );
    }
    let out = p
        .ec2
        .describe_availability_zones()
        .set_all_availability_zones(config.get("all_availability_zones").as_bool())
        .set_filters((!filters.is_empty()).then_some(filters))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeAvailabilityZones", e))?;
    let exclude_names: BTreeSet<String> =
        strings(config.get("exclude_names")).into_iter().collect();
    let exclude_ids: BTreeSet<String> = strings(config.get("exclude_zone_ids"))
        .into_iter()
        .collect();
    let mut zones: Vec<(String, String, String)> = out
        .availability_zones()
        .iter()
        .filter_map(|z| {
            Some((
                z.zone_name()?.to_string(),
                z.zone_id().unwrap_or_default().to_string(),
                z.group_name().unwrap_or_default().to_string(),
            ))
        })
        .filter(|(name, id, _)| !exclude_names.contains(name) && !exclude_ids.contains(id))
        .collect();
    zones.sort();
    let groups: BTreeSet<String> = zones
        .iter()
        .map(|(_, _, g)| g.clone())
        .filter(|g| !g.is_empty())
        .collect();
    let list = |it: Vec<String>| Value::List(it.into_iter().map(Value::String).collect());
    Ok(with_results(
        config,
        [
            ("id", Value::str(p.region())),
            ("names", list(zones.iter().map(|z| z.0.clone()).collect())),
            (
                "zone_ids",
                list(zones.iter().map(|z| z.1.clone()).collect()),
            ),
            ("group_names", list(groups.into_iter().collect())),
        ],
    ))
}
