//! `aws_vpc_endpoint`: private access to AWS services from a VPC with no route to the
//! internet. A Gateway endpoint (S3, DynamoDB) adds a route to its service's prefix list
//! in each of its route tables; an Interface endpoint puts network interfaces in subnets.
//! Route tables, subnets, security groups, the policy and private DNS change in place
//! (ModifyVpcEndpoint). Read in batches: one DescribeVpcEndpoints call per page of ids,
//! plus one DescribePrefixLists call for the prefix lists of the page's Gateway services.

use super::ec2::{by_ids, ec2_arn, filter_any, ids_of, merge_config, retag, tag_spec, tags_of};
use super::pages::from_pages;
use super::wait::{self, Patience, Poll};
use super::{TAGS, TAGS_ALL};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::providers::ProviderError;
use crate::providers::policy;
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{ResourceType, VpcEndpoint, VpcEndpointType};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

/// Terraform's timeouts for endpoints: ten minutes each way.
const ENDPOINT_WAIT: Patience = Patience::minutes(10);

fn s(v: Option<&str>) -> Value {
    v.filter(|v| !v.is_empty())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

fn list(items: impl IntoIterator<Item = impl Into<String>>) -> Value {
    let set: BTreeSet<String> = items.into_iter().map(Into::into).collect();
    Value::List(set.into_iter().map(Value::String).collect())
}

fn with_id(id: &str, config: &Value) -> Value {
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    merge_config(&known, config)
}

/// A configured string set, or `None` when the configuration leaves it to AWS.
fn configured_set(config: &Value, key: &str) -> Option<Vec<String>> {
    let v = config.get(key);
    (!v.is_null()).then(|| v.string_set().into_iter().collect())
}

pub async fn create_vpc_endpoint(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let kind = config
        .get("vpc_endpoint_type")
        .as_str()
        .unwrap_or("Gateway");
    let out = ec2
        .create_vpc_endpoint()
        .vpc_id(config.get("vpc_id").as_str().unwrap_or_default())
        .service_name(config.get("service_name").as_str().unwrap_or_default())
        .vpc_endpoint_type(VpcEndpointType::from(kind))
        .set_route_table_ids(configured_set(config, "route_table_ids"))
        .set_subnet_ids(configured_set(config, "subnet_ids"))
        .set_security_group_ids(configured_set(config, "security_group_ids"))
        .set_private_dns_enabled(config.get("private_dns_enabled").as_bool())
        .set_policy_document(config.get("policy").as_str().map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::VpcEndpoint, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateVpcEndpoint", e))?;
    let id = out
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .ok_or_else(|| ProviderError::new("CreateVpcEndpoint returned no id"))?
        .to_string();
    settle(ec2, &id, config).await?;
    read_vpc_endpoint(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("VPC endpoint {id} vanished")))
}

/// Waits until the endpoint is available. An endpoint to a service in this account that
/// needs acceptance is accepted when `auto_accept` is set, as Terraform does.
async fn settle(ec2: &Client, id: &str, config: &Value) -> Result<()> {
    let auto_accept = config.get("auto_accept").as_bool() == Some(true);
    let mut accepted = false;
    let what = format!("VPC endpoint {id} to become available");
    loop {
        let state = wait::until(&what, ENDPOINT_WAIT, || async {
            let Some(e) = describe_endpoint(ec2, id).await? else {
                return Ok(Poll::Pending("not visible yet".to_string()));
            };
            let state = state_of(&e);
            match state.as_str() {
                "available" | "pendingacceptance" => Ok(Poll::Done(state)),
                "failed" | "rejected" | "expired" => Err(ProviderError::with_code(
                    e.last_error()
                        .and_then(|l| l.code())
                        .unwrap_or("VpcEndpointFailed"),
                    format!(
                        "VPC endpoint {id} is {state}: {}",
                        e.last_error()
                            .and_then(|l| l.message())
                            .or(e.failure_reason())
                            .unwrap_or("no reason given")
                    ),
                )),
                _ => Ok(Poll::Pending(state)),
            }
        })
        .await?;
        if state == "available" || !auto_accept || accepted {
            return Ok(());
        }
        accept(
            ec2,
            id,
            config.get("service_name").as_str().unwrap_or_default(),
        )
        .await?;
        accepted = true;
    }
}

/// The endpoint's state, lowercased: AWS answers `available`, `pendingAcceptance`, ...
/// while the SDK's enum spells them `Available`, so the SDK's variants never match.
fn state_of(e: &VpcEndpoint) -> String {
    e.state()
        .map(|s| s.as_str().to_ascii_lowercase())
        .unwrap_or_else(|| "unknown".to_string())
}

async fn accept(ec2: &Client, id: &str, service_name: &str) -> Result<()> {
    let services = ec2
        .describe_vpc_endpoint_services()
        .service_names(service_name)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeVpcEndpointServices", e))?;
    let service_id = services
        .service_details()
        .first()
        .and_then(|d| d.service_id())
        .ok_or_else(|| {
            ProviderError::new(format!(
                "auto_accept: the endpoint service {service_name} is not in this account"
            ))
        })?;
    ec2.accept_vpc_endpoint_connections()
        .service_id(service_id)
        .vpc_endpoint_ids(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("AcceptVpcEndpointConnections", e))
}

async fn describe_endpoint(ec2: &Client, id: &str) -> Result<Option<VpcEndpoint>> {
    let out = ec2
        .describe_vpc_endpoints()
        .filters(filter_any("vpc-endpoint-id", &[id.to_string()]))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeVpcEndpoints", e))?;
    Ok(out.vpc_endpoints().first().cloned())
}

pub async fn read_vpc_endpoint(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_vpc_endpoints(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads endpoints with one DescribeVpcEndpoints call per page of ids, and the prefix
/// lists of their Gateway services with one DescribePrefixLists call per page of names.
/// A deleted endpoint stays listed for a while, in state `deleted`: it counts as gone.
pub async fn read_vpc_endpoints(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_vpc_endpoints()
            .filters(filter_any("vpc-endpoint-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeVpcEndpoints",
            pages,
            |p| p.vpc_endpoints(),
            |e| {
                let id = e.vpc_endpoint_id()?;
                (state_of(e) != "deleted").then(|| (id.to_string(), e.clone()))
            },
        )
    })
    .await?;
    let services: Vec<String> = found
        .values()
        .filter(|e| e.vpc_endpoint_type() == Some(&VpcEndpointType::Gateway))
        .filter_map(|e| e.service_name().map(str::to_string))
        .collect();
    let prefix_lists = prefix_lists(ec2, &services).await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            found
                .get(id)
                .map(|e| endpoint_value(ec2, prior, id, e, &prefix_lists))
        })
        .collect())
}

/// The AWS-managed prefix list of each service name: (id, CIDR blocks).
async fn prefix_lists(
    ec2: &Client,
    services: &[String],
) -> Result<HashMap<String, (String, Vec<String>)>> {
    by_ids(services, |chunk| {
        let pages = ec2
            .describe_prefix_lists()
            .filters(filter_any("prefix-list-name", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribePrefixLists",
            pages,
            |p| p.prefix_lists(),
            |pl| {
                let (name, id) = (pl.prefix_list_name()?, pl.prefix_list_id()?);
                Some((name.to_string(), (id.to_string(), pl.cidrs().to_vec())))
            },
        )
    })
    .await
}

fn endpoint_value(
    ec2: &Client,
    prior: &Value,
    id: &str,
    e: &VpcEndpoint,
    prefix_lists: &HashMap<String, (String, Vec<String>)>,
) -> Value {
    let tags = tags_of(e.tags());
    let owner = e.owner_id().unwrap_or_default();
    let pl = e.service_name().and_then(|n| prefix_lists.get(n));
    let cloud_policy = e.policy_document().map(str::to_string);
    let policy = cloud_policy
        .map(|p| Value::str(policy::keep_prior(prior.get("policy").as_str(), p)))
        .unwrap_or(Value::Null);
    let dns_entry = Value::List(
        e.dns_entries()
            .iter()
            .map(|d| {
                Value::Map(BTreeMap::from([
                    ("dns_name".to_string(), s(d.dns_name())),
                    ("hosted_zone_id".to_string(), s(d.hosted_zone_id())),
                ]))
            })
            .collect(),
    );
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(ec2_arn(ec2, owner, "vpc-endpoint", id)),
        ),
        ("vpc_id".to_string(), s(e.vpc_id())),
        ("service_name".to_string(), s(e.service_name())),
        (
            "vpc_endpoint_type".to_string(),
            s(e.vpc_endpoint_type().map(|t| t.as_str())),
        ),
        (
            "route_table_ids".to_string(),
            list(e.route_table_ids().to_vec()),
        ),
        ("subnet_ids".to_string(), list(e.subnet_ids().to_vec())),
        (
            "security_group_ids".to_string(),
            list(e.groups().iter().filter_map(|g| g.group_id())),
        ),
        (
            "private_dns_enabled".to_string(),
            e.private_dns_enabled()
                .map(Value::Bool)
                .unwrap_or(Value::Null),
        ),
        ("policy".to_string(), policy),
        // Not stored by AWS: what the configuration asked for.
        ("auto_accept".to_string(), prior.get("auto_accept").clone()),
        ("state".to_string(), Value::str(state_of(e))),
        ("owner_id".to_string(), Value::str(owner)),
        (
            "requester_managed".to_string(),
            Value::Bool(e.requester_managed().unwrap_or(false)),
        ),
        (
            "network_interface_ids".to_string(),
            list(e.network_interface_ids().to_vec()),
        ),
        ("dns_entry".to_string(), dns_entry),
        (
            "prefix_list_id".to_string(),
            s(pl.map(|(id, _)| id.as_str())),
        ),
        (
            "cidr_blocks".to_string(),
            Value::List(
                pl.map(|(_, c)| c.iter().map(Value::str).collect())
                    .unwrap_or_default(),
            ),
        ),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

/// (to add, to remove) to go from the prior's set to the configured one; nothing when the
/// configuration leaves the set to AWS.
fn set_changes(prior: &Value, config: &Value, key: &str) -> (Vec<String>, Vec<String>) {
    let Some(want) = configured_set(config, key) else {
        return (vec![], vec![]);
    };
    let have = prior.get(key).string_set();
    let add = want
        .iter()
        .filter(|w| !have.contains(*w))
        .cloned()
        .collect();
    let remove = have.into_iter().filter(|h| !want.contains(h)).collect();
    (add, remove)
}

/// Route tables, subnets, security groups, the policy and private DNS change in place
/// with one ModifyVpcEndpoint call; tags with CreateTags/DeleteTags.
pub async fn update_vpc_endpoint(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let (add_rt, remove_rt) = set_changes(prior, config, "route_table_ids");
    let (add_sn, remove_sn) = set_changes(prior, config, "subnet_ids");
    let (add_sg, remove_sg) = set_changes(prior, config, "security_group_ids");
    let policy = config
        .get("policy")
        .as_str()
        .filter(|want| {
            prior
                .get("policy")
                .as_str()
                .is_none_or(|have| !policy::equivalent(want, have))
        })
        .map(str::to_string);
    let dns = config
        .get("private_dns_enabled")
        .as_bool()
        .filter(|want| prior.get("private_dns_enabled").as_bool() != Some(*want));
    let nonempty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let changed = [
        &add_rt, &remove_rt, &add_sn, &remove_sn, &add_sg, &remove_sg,
    ]
    .iter()
    .any(|v| !v.is_empty())
        || policy.is_some()
        || dns.is_some();
    if changed {
        ec2.modify_vpc_endpoint()
            .vpc_endpoint_id(&id)
            .set_add_route_table_ids(nonempty(add_rt))
            .set_remove_route_table_ids(nonempty(remove_rt))
            .set_add_subnet_ids(nonempty(add_sn))
            .set_remove_subnet_ids(nonempty(remove_sn))
            .set_add_security_group_ids(nonempty(add_sg))
            .set_remove_security_group_ids(nonempty(remove_sg))
            .set_policy_document(policy)
            .set_private_dns_enabled(dns)
            .send()
            .await
            .map_err(|e| sdk_error("ModifyVpcEndpoint", e))?;
        settle(ec2, &id, config).await?;
    }
    retag(ec2, &id, prior, config).await?;
    read_vpc_endpoint(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("VPC endpoint {id} no longer exists")))
}

/// Deletes the endpoint (its routes and network interfaces go with it) and waits until
/// AWS reports it deleted.
pub async fn delete_vpc_endpoint(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    let out = ec2
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DeleteVpcEndpoints", e))?;
    if let Some(err) = out.unsuccessful().first().and_then(|u| u.error()) {
        let code = err.code().unwrap_or_default();
        if !code.contains("NotFound") {
            return Err(ProviderError::with_code(
                code,
                format!(
                    "DeleteVpcEndpoints: {}",
                    err.message().unwrap_or("no message from AWS")
                ),
            ));
        }
        return Ok(());
    }
    let what = format!("VPC endpoint {id} to be deleted");
    wait::until(&what, ENDPOINT_WAIT, || async {
        match describe_endpoint(ec2, id).await? {
            None => Ok(Poll::Done(())),
            Some(e) if state_of(&e) == "deleted" => Ok(Poll::Done(())),
            Some(e) => Ok(Poll::Pending(state_of(&e))),
        }
    })
    .await
}

// Schema: Terraform AWS provider (v5) names.

pub static AWS_VPC_ENDPOINT: ResourceSchema = ResourceSchema {
    type_name: "aws_vpc_endpoint",
    attrs: &[
        Attr::required("vpc_id", Ty::String).force_new(),
        Attr::required("service_name", Ty::String).force_new(),
        Attr::optional("vpc_endpoint_type", Ty::String)
            .force_new()
            .default(Default::Str("Gateway")),
        // These change in place (ModifyVpcEndpoint); left out, AWS's value is kept.
        Attr::optional_computed("route_table_ids", Ty::StringSet),
        Attr::optional_computed("subnet_ids", Ty::StringSet),
        Attr::optional_computed("security_group_ids", Ty::StringSet),
        Attr::optional_computed("private_dns_enabled", Ty::Bool),
        Attr::optional_computed("policy", Ty::Policy),
        Attr::optional("auto_accept", Ty::Bool),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
        Attr::computed("state", Ty::String),
        Attr::computed("prefix_list_id", Ty::String),
        Attr::computed("cidr_blocks", Ty::StringList),
        Attr::computed("network_interface_ids", Ty::StringSet),
        Attr::computed("requester_managed", Ty::Bool),
        // A list of { dns_name, hosted_zone_id } objects. Computed attributes are never
        // coerced or diffed, so the type here is nominal.
        Attr::computed("dns_entry", Ty::StringList),
    ],
    blocks: &[],
    taggable: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn set_changes_are_computed_only_for_configured_sets() {
        let prior = obj(&[(
            "route_table_ids",
            Value::List(vec![Value::str("rtb-a"), Value::str("rtb-b")]),
        )]);
        let config = obj(&[(
            "route_table_ids",
            Value::List(vec![Value::str("rtb-c"), Value::str("rtb-b")]),
        )]);
        assert_eq!(
            set_changes(&prior, &config, "route_table_ids"),
            (vec!["rtb-c".to_string()], vec!["rtb-a".to_string()])
        );
        assert_eq!(
            set_changes(&prior, &obj(&[]), "route_table_ids"),
            (vec![], vec![])
        );
    }
}
