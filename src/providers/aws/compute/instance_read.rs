//! Reading `aws_instance` in batches. n instances take:
//!
//! * ceil(n / 200) DescribeInstances calls (filtered by `instance-id`),
//! * ceil(n / 200) DescribeVolumes calls for their root volumes (filtered by `volume-id`),
//! * and, per instance, one DescribeInstanceAttribute call for each of user data,
//!   termination protection and shutdown behaviour that its state records as set (all
//!   three when the state holds no value for it, as on import). EC2 reports these three
//!   only one instance and one attribute at a time; an instance that leaves them at EC2's
//!   defaults costs no call, so a change made by hand to one of those defaults is not seen.

use super::values::{block, first, object, opt_bool, opt_int, opt_str, own_tags, string_set};
use crate::providers::ProviderError;
use crate::providers::aws::ec2::{by_ids, ec2_arn, filter_any, ids_of, tags_of};
use crate::providers::aws::pages::from_pages;
use crate::providers::aws::{sdk_error, tags_value, user_tags};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Instance, InstanceAttributeName, Volume};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

/// EC2 lists terminated instances for a while; keel counts them as gone.
fn gone(i: &Instance) -> bool {
    matches!(
        i.state().and_then(|s| s.name()).map(|s| s.as_str()),
        Some("shutting-down") | Some("terminated")
    )
}

/// Instances by id with their owner account, terminated ones included, one
/// DescribeInstances call per page of 200 ids.
async fn describe(ec2: &Client, ids: &[String]) -> Result<HashMap<String, (Instance, String)>> {
    by_ids(ids, |chunk| {
        let pages = ec2
            .describe_instances()
            .filters(filter_any("instance-id", &chunk))
            .max_results(1000)
            .into_paginator()
            .send();
        from_pages(
            "DescribeInstances",
            pages,
            |p| p.reservations(),
            |r| {
                let owner = r.owner_id().unwrap_or_default();
                r.instances()
                    .iter()
                    .filter_map(|i| {
                        Some((i.instance_id()?.to_string(), (i.clone(), owner.to_string())))
                    })
                    .collect::<Vec<_>>()
            },
        )
    })
    .await
}

/// One instance, whatever its state, for the waiters.
pub(super) async fn describe_one(ec2: &Client, id: &str) -> Result<Option<Instance>> {
    Ok(describe(ec2, &[id.to_string()])
        .await?
        .remove(id)
        .map(|(i, _)| i))
}

fn root_volume(i: &Instance) -> Option<(&str, Option<bool>, &str)> {
    let root = i.root_device_name()?;
    i.block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some(root))
        .and_then(|m| m.ebs())
        .and_then(|e| Some((e.volume_id()?, e.delete_on_termination(), root)))
}

/// What DescribeInstances does not tell: user data, termination protection and shutdown
/// behaviour. `None` where keel did not ask.
#[derive(Default)]
struct Extras {
    user_data: Option<Option<String>>,
    disable_api_termination: Option<bool>,
    shutdown: Option<String>,
}

fn wants(prior: &Value, attr: InstanceAttributeName) -> bool {
    let recorded = |key: &str| prior.get_opt(key);
    match attr {
        InstanceAttributeName::UserData => {
            recorded("user_data").is_none()
                || !prior.get("user_data").is_null()
                || !prior.get("user_data_base64").is_null()
        }
        InstanceAttributeName::DisableApiTermination => {
            recorded("disable_api_termination").is_none_or(|v| v.as_bool() == Some(true))
        }
        InstanceAttributeName::InstanceInitiatedShutdownBehavior => {
            recorded("instance_initiated_shutdown_behavior")
                .is_none_or(|v| v.as_str().is_some_and(|s| s != "stop"))
        }
        _ => false,
    }
}

async fn extras(
    ec2: &Client,
    asks: Vec<(String, InstanceAttributeName)>,
) -> Result<HashMap<String, Extras>> {
    use futures_util::stream::{StreamExt, TryStreamExt};
    let one = |(id, attr): (String, InstanceAttributeName)| async move {
        let out = ec2
            .describe_instance_attribute()
            .instance_id(&id)
            .attribute(attr.clone())
            .send()
            .await
            .map_err(|e| sdk_error("DescribeInstanceAttribute", e))?;
        Ok::<_, ProviderError>((id, attr, out))
    };
    let answers: Vec<_> = futures_util::stream::iter(asks.into_iter().map(one))
        .buffered(16)
        .try_collect()
        .await?;
    let mut found: HashMap<String, Extras> = HashMap::new();
    for (id, attr, out) in answers {
        let e = found.entry(id).or_default();
        match attr {
            InstanceAttributeName::UserData => {
                e.user_data = Some(
                    out.user_data()
                        .and_then(|v| v.value())
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            InstanceAttributeName::DisableApiTermination => {
                e.disable_api_termination = out.disable_api_termination().and_then(|v| v.value());
            }
            _ => {
                e.shutdown = out
                    .instance_initiated_shutdown_behavior()
                    .and_then(|v| v.value())
                    .map(str::to_string);
            }
        }
    }
    Ok(found)
}

pub(super) async fn read_many(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let mut found = describe(ec2, &ids).await?;
    found.retain(|_, (i, _)| !gone(i));
    let roots: Vec<String> = found
        .values()
        .filter_map(|(i, _)| root_volume(i).map(|(v, _, _)| v.to_string()))
        .collect();
    let volumes = by_ids(&roots, |chunk| async move {
        let out = ec2
            .describe_volumes()
            .filters(filter_any("volume-id", &chunk))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeVolumes", e))?;
        Ok(out
            .volumes()
            .iter()
            .filter_map(|v| Some((v.volume_id()?.to_string(), v.clone())))
            .collect())
    })
    .await?;
    let mut asks = Vec::new();
    for (prior, id) in priors.iter().zip(&ids) {
        if !found.contains_key(id) {
            continue;
        }
        for attr in [
            InstanceAttributeName::UserData,
            InstanceAttributeName::DisableApiTermination,
            InstanceAttributeName::InstanceInitiatedShutdownBehavior,
        ] {
            if wants(prior, attr.clone()) {
                asks.push((id.clone(), attr));
            }
        }
    }
    let extras = extras(ec2, asks).await?;
    let none = Extras::default();
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            let (i, owner) = found.get(id)?;
            let volume = root_volume(i).and_then(|(v, _, _)| volumes.get(v));
            Some(value(
                ec2,
                prior,
                id,
                i,
                owner,
                volume,
                extras.get(id).unwrap_or(&none),
            ))
        })
        .collect())
}

/// State's `volume_tags`: the configured keys, with the values the root volume holds; on
/// import (nothing recorded) every tag of the root volume but keel's and AWS's own.
fn volume_tags(prior: &Value, cloud: Option<&BTreeMap<String, String>>) -> Value {
    match (prior.get_opt("volume_tags"), cloud) {
        (Some(Value::Map(m)), Some(cloud)) => Value::Map(
            m.keys()
                .filter_map(|k| cloud.get(k).map(|v| (k.clone(), Value::str(v))))
                .collect(),
        ),
        (None, Some(cloud)) => {
            let theirs: BTreeMap<String, String> = own_tags(cloud.clone())
                .into_iter()
                .filter(|(k, _)| !k.starts_with("keel:"))
                .collect();
            if theirs.is_empty() {
                Value::Null
            } else {
                tags_value(&theirs)
            }
        }
        (Some(recorded), _) => recorded.clone(),
        (None, None) => Value::Null,
    }
}

fn value(
    ec2: &Client,
    prior: &Value,
    id: &str,
    i: &Instance,
    owner: &str,
    volume: Option<&Volume>,
    extras: &Extras,
) -> Value {
    let all_tags = tags_of(i.tags());
    let tags = own_tags(all_tags.clone());
    let placement = i.placement();
    let s = |v: Option<&str>| opt_str(v.filter(|s| !s.is_empty()));
    let groups: Vec<&str> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    let primary = i
        .network_interfaces()
        .iter()
        .find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0));
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        map.insert(k.to_string(), v);
    };
    put("id", Value::str(id));
    put("arn", Value::str(ec2_arn(ec2, owner, "instance", id)));
    put("ami", s(i.image_id()));
    put("instance_type", s(i.instance_type().map(|t| t.as_str())));
    put("subnet_id", s(i.subnet_id()));
    put("vpc_security_group_ids", string_set(groups));
    put(
        "iam_instance_profile",
        s(i.iam_instance_profile()
            .and_then(|p| p.arn())
            .and_then(|arn| arn.rsplit('/').next())),
    );
    put("placement_group", s(placement.and_then(|p| p.group_name())));
    put(
        "placement_partition_number",
        opt_int(placement.and_then(|p| p.partition_number())),
    );
    put(
        "tenancy",
        s(placement.and_then(|p| p.tenancy()).map(|t| t.as_str())),
    );
    put(
        "availability_zone",
        s(placement.and_then(|p| p.availability_zone())),
    );
    put("key_name", s(i.key_name()));
    put("private_ip", s(i.private_ip_address()));
    put("public_ip", s(i.public_ip_address()));
    put(
        "associate_public_ip_address",
        Value::Bool(i.public_ip_address().is_some()),
    );
    put("private_dns", s(i.private_dns_name()));
    put("public_dns", s(i.public_dns_name()));
    put("ebs_optimized", opt_bool(i.ebs_optimized()));
    put(
        "monitoring",
        Value::Bool(matches!(
            i.monitoring().and_then(|m| m.state()).map(|s| s.as_str()),
            Some("enabled") | Some("pending")
        )),
    );
    put(
        "instance_state",
        s(i.state().and_then(|st| st.name()).map(|n| n.as_str())),
    );
    put(
        "instance_lifecycle",
        s(i.instance_lifecycle().map(|l| l.as_str())),
    );
    put(
        "primary_network_interface_id",
        s(primary.and_then(|n| n.network_interface_id())),
    );
    put("outpost_arn", s(i.outpost_arn()));
    put(
        "disable_api_termination",
        match extras.disable_api_termination {
            Some(b) => Value::Bool(b),
            None => prior.get("disable_api_termination").clone(),
        },
    );
    put(
        "instance_initiated_shutdown_behavior",
        match &extras.shutdown {
            Some(b) => Value::str(b),
            None => prior.get("instance_initiated_shutdown_behavior").clone(),
        },
    );
    let (user_data, user_data_base64) = user_data(prior, extras);
    put("user_data", user_data);
    put("user_data_base64", user_data_base64);
    put(
        "metadata_options",
        block(i.metadata_options().map(|m| {
            object([
                (
                    "http_endpoint",
                    opt_str(m.http_endpoint().map(|s| s.as_str())),
                ),
                ("http_tokens", opt_str(m.http_tokens().map(|s| s.as_str()))),
                (
                    "http_put_response_hop_limit",
                    opt_int(m.http_put_response_hop_limit()),
                ),
                (
                    "instance_metadata_tags",
                    opt_str(m.instance_metadata_tags().map(|s| s.as_str())),
                ),
            ])
        })),
    );
    let delete_on_termination = root_volume(i).and_then(|(_, d, _)| d);
    put(
        "root_block_device",
        block(volume.map(|v| {
            object([
                ("volume_id", opt_str(v.volume_id())),
                ("device_name", opt_str(i.root_device_name())),
                ("volume_size", opt_int(v.size())),
                ("volume_type", opt_str(v.volume_type().map(|t| t.as_str()))),
                ("iops", opt_int(v.iops())),
                ("throughput", opt_int(v.throughput())),
                ("encrypted", opt_bool(v.encrypted())),
                ("kms_key_id", opt_str(v.kms_key_id())),
                ("delete_on_termination", opt_bool(delete_on_termination)),
            ])
        })),
    );
    let volume_cloud = volume.map(|v| tags_of(v.tags()));
    put("volume_tags", volume_tags(prior, volume_cloud.as_ref()));
    put("launch_template", launch_template(prior, &all_tags));
    put("instance_market_options", market_options(prior, i));
    put("tags", user_tags(prior, &tags));
    put("tags_all", tags_value(&tags));
    Value::Map(map)
}

/// User data as state keeps it: text in `user_data`, or base64 in `user_data_base64` when
/// the stack gave it that way (or it is not UTF-8).
fn user_data(prior: &Value, extras: &Extras) -> (Value, Value) {
    let Some(cloud) = &extras.user_data else {
        return (
            prior.get("user_data").clone(),
            prior.get("user_data_base64").clone(),
        );
    };
    let Some(b64) = cloud else {
        return (Value::Null, Value::Null);
    };
    if !prior.get("user_data_base64").is_null() {
        return (Value::Null, Value::str(b64));
    }
    match B64
        .decode(b64.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    {
        Some(text) => (Value::String(text), Value::Null),
        None => (Value::Null, Value::str(b64)),
    }
}

/// The launch template an instance was launched from cannot change, so state keeps the
/// block it recorded, with the id EC2 tagged the instance with (`aws:ec2launchtemplate:id`);
/// on import (no block recorded) both id and version come from those tags.
fn launch_template(prior: &Value, tags: &BTreeMap<String, String>) -> Value {
    let id = tags.get("aws:ec2launchtemplate:id");
    let version = tags.get("aws:ec2launchtemplate:version");
    match (first(prior, "launch_template"), id) {
        (Some(p), Some(id)) => {
            let mut m = p.as_map().cloned().unwrap_or_default();
            m.insert("id".to_string(), Value::str(id));
            Value::List(vec![Value::Map(m)])
        }
        (Some(p), None) => Value::List(vec![p.clone()]),
        (None, Some(id)) if prior.get_opt("launch_template").is_none() => {
            Value::List(vec![object([
                ("id", Value::str(id)),
                ("name", Value::Null),
                ("version", opt_str(version.map(String::as_str))),
            ])])
        }
        _ => Value::List(vec![]),
    }
}

/// A spot instance says so (InstanceLifecycle); its spot options are the ones state
/// recorded, since EC2 tells them only through its spot request.
fn market_options(prior: &Value, i: &Instance) -> Value {
    let spot = i.instance_lifecycle().map(|l| l.as_str()) == Some("spot");
    if !spot {
        return Value::List(vec![]);
    }
    let spot_options = first(prior, "instance_market_options")
        .map(|o| o.get("spot_options").clone())
        .unwrap_or(Value::List(vec![]));
    Value::List(vec![object([
        ("market_type", Value::str("spot")),
        ("spot_options", spot_options),
    ])])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_only_where_state_records_them_set_or_not_at_all() {
        let import = object([("id", Value::str("i-1"))]);
        let plain = object([
            ("user_data", Value::Null),
            ("user_data_base64", Value::Null),
            ("disable_api_termination", Value::Bool(false)),
            ("instance_initiated_shutdown_behavior", Value::str("stop")),
        ]);
        let set = object([
            ("user_data", Value::str("#!/bin/sh")),
            ("disable_api_termination", Value::Bool(true)),
            (
                "instance_initiated_shutdown_behavior",
                Value::str("terminate"),
            ),
        ]);
        for attr in [
            InstanceAttributeName::UserData,
            InstanceAttributeName::DisableApiTermination,
            InstanceAttributeName::InstanceInitiatedShutdownBehavior,
        ] {
            assert!(wants(&import, attr.clone()), "{attr:?}");
            assert!(!wants(&plain, attr.clone()), "{attr:?}");
            assert!(wants(&set, attr.clone()), "{attr:?}");
        }
    }

    #[test]
    fn volume_tags_keep_the_configured_keys_or_on_import_all_but_keel_and_aws() {
        let cloud = BTreeMap::from([
            ("team".to_string(), "ml".to_string()),
            ("cost".to_string(), "gpu".to_string()),
            ("keel:stack".to_string(), "s".to_string()),
            ("aws:x".to_string(), "y".to_string()),
        ]);
        let configured = object([("volume_tags", object([("team", Value::str("old"))]))]);
        assert_eq!(
            volume_tags(&configured, Some(&cloud)),
            object([("team", Value::str("ml"))])
        );
        assert_eq!(
            volume_tags(&Value::Null, Some(&cloud)),
            object([("cost", Value::str("gpu")), ("team", Value::str("ml"))])
        );
        let none = object([("volume_tags", Value::Null)]);
        assert_eq!(volume_tags(&none, Some(&cloud)), Value::Null);
    }

    #[test]
    fn user_data_reads_back_as_text_unless_given_as_base64() {
        let cloud = Extras {
            user_data: Some(Some("aGk=".to_string())),
            ..Extras::default()
        };
        assert_eq!(
            user_data(&Value::Null, &cloud),
            (Value::str("hi"), Value::Null)
        );
        let b64 = object([("user_data_base64", Value::str("aGk="))]);
        assert_eq!(user_data(&b64, &cloud), (Value::Null, Value::str("aGk=")));
        let none = Extras {
            user_data: Some(None),
            ..Extras::default()
        };
        assert_eq!(user_data(&b64, &none), (Value::Null, Value::Null));
        let binary = Extras {
            user_data: Some(Some("/w==".to_string())),
            ..Extras::default()
        };
        assert_eq!(
            user_data(&Value::Null, &binary),
            (Value::Null, Value::str("/w=="))
        );
    }

    #[test]
    fn the_launch_template_block_comes_from_state_or_on_import_from_aws_tags() {
        let tags = BTreeMap::from([
            ("aws:ec2launchtemplate:id".to_string(), "lt-1".to_string()),
            ("aws:ec2launchtemplate:version".to_string(), "3".to_string()),
        ]);
        let recorded = object([(
            "launch_template",
            Value::List(vec![object([
                ("name", Value::str("gpu")),
                ("version", Value::str("$Default")),
            ])]),
        )]);
        let got = launch_template(&recorded, &tags);
        let item = &got.as_list().unwrap()[0];
        assert_eq!(item.get("id"), &Value::str("lt-1"));
        assert_eq!(item.get("version"), &Value::str("$Default"));
        let imported = launch_template(&Value::Null, &tags);
        assert_eq!(
            imported.as_list().unwrap()[0].get("version"),
            &Value::str("3")
        );
        let none = object([("launch_template", Value::List(vec![]))]);
        assert_eq!(
            launch_template(&none, &BTreeMap::new()),
            Value::List(vec![])
        );
    }
}
