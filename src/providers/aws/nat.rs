//! Egress for private subnets: `aws_eip` (an Elastic IP, id = allocation id) and
//! `aws_nat_gateway`, which waits until AWS reports it available after a create and gone
//! after a delete. Both are read in batches: one DescribeAddresses or DescribeNatGateways
//! call per page of ids.

use super::ec2::{
    account_id, by_ids, ec2_arn, filter_any, ids_of, merge_config, retag, tag_spec, tags_of,
};
use super::network::DRAIN;
use super::pages::from_pages;
use super::wait::{self, Patience, Poll};
use super::{TAGS, TAGS_ALL};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    Address, ConnectivityType, DomainType, NatGateway, NatGatewayState, ResourceType,
};
use aws_sdk_sts::Client as StsClient;
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

fn s(v: Option<&str>) -> Value {
    v.filter(|v| !v.is_empty())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

fn with_id(id: &str, config: &Value) -> Value {
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    merge_config(&known, config)
}

/// A configured, non-empty string attribute.
fn set<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config.get(key).as_str().filter(|v| !v.is_empty())
}

// ---- aws_eip --------------------------------------------------------------------------

pub async fn create_eip(ec2: &Client, sts: &StsClient, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .allocate_address()
        .domain(DomainType::from(set(config, "domain").unwrap_or("vpc")))
        .set_public_ipv4_pool(set(config, "public_ipv4_pool").map(str::to_string))
        .set_address(set(config, "address").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::ElasticIp, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("AllocateAddress", e))?;
    let id = out
        .allocation_id()
        .ok_or_else(|| ProviderError::new("AllocateAddress returned no allocation id"))?
        .to_string();
    // The address exists from here on; a failed association is reported with its id.
    associate_eip(ec2, &id, config).await?;
    read_eip(ec2, sts, &with_id(&id, config))
        .await?
        .ok_or_else(|| {
            ProviderError::new(format!(
                "Elastic IP {id} vanished right after it was allocated"
            ))
        })
}

/// Associates the address with the configured instance or network interface, if any.
async fn associate_eip(ec2: &Client, id: &str, config: &Value) -> Result<()> {
    let instance = set(config, "instance");
    let eni = set(config, "network_interface");
    if instance.is_none() && eni.is_none() {
        return Ok(());
    }
    ec2.associate_address()
        .allocation_id(id)
        .set_instance_id(instance.map(str::to_string))
        .set_network_interface_id(eni.map(str::to_string))
        .set_private_ip_address(set(config, "associate_with_private_ip").map(str::to_string))
        .allow_reassociation(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("AssociateAddress", e))
}

async fn disassociate_eip(ec2: &Client, association: &str) -> Result<()> {
    match ec2
        .disassociate_address()
        .association_id(association)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidAssociationID.NotFound") => Ok(()),
        Err(e) => Err(sdk_error("DisassociateAddress", e)),
    }
}

pub async fn read_eip(ec2: &Client, sts: &StsClient, prior: &Value) -> Result<Option<Value>> {
    Ok(read_eips(ec2, sts, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Addresses by allocation id, one DescribeAddresses call per page of ids.
async fn addresses(ec2: &Client, ids: &[String]) -> Result<HashMap<String, Address>> {
    by_ids(ids, |chunk| async move {
        let out = ec2
            .describe_addresses()
            .filters(filter_any("allocation-id", &chunk))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeAddresses", e))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| Some((a.allocation_id()?.to_string(), a.clone())))
            .collect())
    })
    .await
}

/// Reads Elastic IPs with one DescribeAddresses call per page of allocation ids, and one
/// GetCallerIdentity for their ARNs (an address names no owner).
pub async fn read_eips(
    ec2: &Client,
    sts: &StsClient,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = addresses(ec2, &ids).await?;
    let account = if found.is_empty() {
        String::new()
    } else {
        account_id(sts).await?
    };
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            found
                .get(id)
                .map(|a| eip_value(ec2, &account, prior, id, a))
        })
        .collect())
}

/// The DNS names AWS gives an address: `ec2-1-2-3-4.compute-1.amazonaws.com` and
/// `ip-10-0-1-5.ec2.internal` in us-east-1, `...REGION.compute...` elsewhere.
fn eip_dns(region: &str, ip: &str, public: bool) -> String {
    let dashed = ip.replace('.', "-");
    match (public, region) {
        (true, "us-east-1") => format!("ec2-{dashed}.compute-1.amazonaws.com"),
        (true, r) => format!("ec2-{dashed}.{r}.compute.amazonaws.com"),
        (false, "us-east-1") => format!("ip-{dashed}.ec2.internal"),
        (false, r) => format!("ip-{dashed}.{r}.compute.internal"),
    }
}

/// Whether the resource manages the address's association: it names an instance or a
/// network interface. An association someone else made (a NAT gateway taking the
/// address by its allocation id) belongs to them: it is left out of the address's
/// attributes, so it is neither a change to plan nor drift on the address.
fn manages_association(v: &Value) -> bool {
    set(v, "instance").is_some() || set(v, "network_interface").is_some()
}

fn eip_value(ec2: &Client, account: &str, prior: &Value, id: &str, a: &Address) -> Value {
    let tags = tags_of(a.tags());
    let region = ec2
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let ours = manages_association(prior);
    let assoc = |v: Option<&str>| if ours { s(v) } else { Value::Null };
    let public_ip = a.public_ip().filter(|ip| !ip.is_empty());
    let private_ip = a.private_ip_address().filter(|ip| !ip.is_empty() && ours);
    let dns = |ip: Option<&str>, public| {
        ip.map(|ip| Value::str(eip_dns(&region, ip, public)))
            .unwrap_or(Value::Null)
    };
    // Only a configured private address is compared; an address AWS picked (a NAT
    // gateway's) is in private_ip.
    let with_private = if prior.get("associate_with_private_ip").is_null() {
        Value::Null
    } else {
        s(private_ip)
    };
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("allocation_id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(ec2_arn(ec2, account, "elastic-ip", id)),
        ),
        ("domain".to_string(), s(a.domain().map(|d| d.as_str()))),
        ("instance".to_string(), assoc(a.instance_id())),
        (
            "network_interface".to_string(),
            assoc(a.network_interface_id()),
        ),
        ("associate_with_private_ip".to_string(), with_private),
        ("association_id".to_string(), assoc(a.association_id())),
        ("public_ip".to_string(), s(public_ip)),
        ("private_ip".to_string(), s(private_ip)),
        ("public_dns".to_string(), dns(public_ip, true)),
        ("private_dns".to_string(), dns(private_ip, false)),
        ("public_ipv4_pool".to_string(), s(a.public_ipv4_pool())),
        ("address".to_string(), prior.get("address").clone()),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

/// `instance`, `network_interface` and `associate_with_private_ip` move the association
/// in place; tags change in place.
pub async fn update_eip(
    ec2: &Client,
    sts: &StsClient,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let moved = ["instance", "network_interface", "associate_with_private_ip"]
        .iter()
        .any(|k| !config.get(k).is_null() && set(config, k) != set(prior, k));
    if moved {
        if let Some(assoc) = set(prior, "association_id") {
            disassociate_eip(ec2, assoc).await?;
        }
        associate_eip(ec2, &id, config).await?;
    }
    retag(ec2, &id, prior, config).await?;
    read_eip(ec2, sts, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("Elastic IP {id} no longer exists")))
}

/// Disassociates the address (as the cloud has it now) and releases it. While a NAT
/// gateway that used it is still being deleted AWS refuses the release; keel waits.
pub async fn delete_eip(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    let found = addresses(ec2, &[id.to_string()]).await?;
    let Some(current) = found.get(id) else {
        return Ok(());
    };
    if let Some(assoc) = current.association_id().filter(|a| !a.is_empty()) {
        disassociate_eip(ec2, assoc).await?;
    }
    wait::while_refused(
        &[
            "InvalidIPAddress.InUse",
            "AuthFailure",
            "DependencyViolation",
        ],
        DRAIN,
        || async {
            match ec2.release_address().allocation_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some("InvalidAllocationID.NotFound") => Ok(()),
                Err(e) => Err(sdk_error("ReleaseAddress", e)),
            }
        },
    )
    .await
}

// ---- aws_nat_gateway ------------------------------------------------------------------

/// Terraform's timeouts: ten minutes to become available, thirty to be deleted.
const NAT_CREATE: Patience = Patience::minutes(10);
const NAT_DELETE: Patience = Patience::minutes(30);

pub async fn create_nat_gateway(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_nat_gateway()
        .subnet_id(config.get("subnet_id").as_str().unwrap_or_default())
        .set_allocation_id(set(config, "allocation_id").map(str::to_string))
        .connectivity_type(ConnectivityType::from(
            set(config, "connectivity_type").unwrap_or("public"),
        ))
        .set_private_ip_address(set(config, "private_ip").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::Natgateway, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateNatGateway", e))?;
    let id = out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .ok_or_else(|| ProviderError::new("CreateNatGateway returned no id"))?
        .to_string();
    let what = format!("NAT gateway {id} to become available");
    wait::until(&what, NAT_CREATE, || async {
        let Some(nat) = describe_nat(ec2, &id).await? else {
            return Ok(Poll::Pending("not visible yet".to_string()));
        };
        match nat.state() {
            Some(NatGatewayState::Available) => Ok(Poll::Done(())),
            Some(NatGatewayState::Failed) => Err(ProviderError::with_code(
                nat.failure_code().unwrap_or("NatGatewayFailed"),
                format!(
                    "NAT gateway {id} failed: {}",
                    nat.failure_message().unwrap_or("no reason given")
                ),
            )),
            state => Ok(Poll::Pending(
                state.map(|s| s.as_str()).unwrap_or("unknown").to_string(),
            )),
        }
    })
    .await?;
    read_nat_gateway(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("NAT gateway {id} vanished")))
}

/// One NAT gateway as DescribeNatGateways reports it (deleted ones included).
async fn describe_nat(ec2: &Client, id: &str) -> Result<Option<NatGateway>> {
    let out = ec2
        .describe_nat_gateways()
        .filter(filter_any("nat-gateway-id", &[id.to_string()]))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeNatGateways", e))?;
    Ok(out.nat_gateways().first().cloned())
}

pub async fn read_nat_gateway(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_nat_gateways(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads NAT gateways with one DescribeNatGateways call per page of ids. A deleted NAT
/// gateway stays listed for a while, in state `deleted`: it counts as gone.
pub async fn read_nat_gateways(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_nat_gateways()
            .filter(filter_any("nat-gateway-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeNatGateways",
            pages,
            |p| p.nat_gateways(),
            |n| {
                let id = n.nat_gateway_id()?;
                (n.state() != Some(&NatGatewayState::Deleted)).then(|| (id.to_string(), n.clone()))
            },
        )
    })
    .await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| found.get(id).map(|n| nat_value(prior, id, n)))
        .collect())
}

fn nat_value(prior: &Value, id: &str, n: &NatGateway) -> Value {
    let tags = tags_of(n.tags());
    let addrs = n.nat_gateway_addresses();
    let primary = addrs
        .iter()
        .find(|a| a.is_primary() == Some(true))
        .or_else(|| addrs.first());
    let addr =
        |f: fn(&aws_sdk_ec2::types::NatGatewayAddress) -> Option<&str>| s(primary.and_then(f));
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("subnet_id".to_string(), s(n.subnet_id())),
        (
            "connectivity_type".to_string(),
            s(n.connectivity_type().map(|c| c.as_str())),
        ),
        ("allocation_id".to_string(), addr(|a| a.allocation_id())),
        ("association_id".to_string(), addr(|a| a.association_id())),
        ("public_ip".to_string(), addr(|a| a.public_ip())),
        ("private_ip".to_string(), addr(|a| a.private_ip())),
        (
            "network_interface_id".to_string(),
            addr(|a| a.network_interface_id()),
        ),
        ("state".to_string(), s(n.state().map(|s| s.as_str()))),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

/// Only tags change in place; everything else is fixed at creation.
pub async fn update_nat_gateway(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    retag(ec2, &id, prior, config).await?;
    read_nat_gateway(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("NAT gateway {id} no longer exists")))
}

/// Deletes the NAT gateway and waits until AWS reports it deleted, so that what depends
/// on it (its Elastic IP, its subnet) can go next.
pub async fn delete_nat_gateway(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match ec2.delete_nat_gateway().nat_gateway_id(id).send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("NatGatewayNotFound") => return Ok(()),
        Err(e) => return Err(sdk_error("DeleteNatGateway", e)),
    }
    let what = format!("NAT gateway {id} to be deleted");
    wait::until(&what, NAT_DELETE, || async {
        match describe_nat(ec2, id).await? {
            None => Ok(Poll::Done(())),
            Some(n) if n.state() == Some(&NatGatewayState::Deleted) => Ok(Poll::Done(())),
            Some(n) => Ok(Poll::Pending(
                n.state()
                    .map(|s| s.as_str())
                    .unwrap_or("unknown")
                    .to_string(),
            )),
        }
    })
    .await
}

// Schemas: Terraform AWS provider (v5) names.

pub static AWS_EIP: ResourceSchema = ResourceSchema {
    type_name: "aws_eip",
    attrs: &[
        Attr::optional_computed("domain", Ty::String).force_new(),
        // The association moves in place (AssociateAddress); left out, whatever AWS
        // associated it with (a NAT gateway's interface) is read back and kept.
        Attr::optional_computed("instance", Ty::String),
        Attr::optional_computed("network_interface", Ty::String),
        Attr::optional("associate_with_private_ip", Ty::String),
        Attr::optional_computed("public_ipv4_pool", Ty::String).force_new(),
        Attr::optional("address", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("allocation_id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("association_id", Ty::String),
        Attr::computed("public_ip", Ty::String),
        Attr::computed("private_ip", Ty::String),
        Attr::computed("public_dns", Ty::String),
        Attr::computed("private_dns", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_NAT_GATEWAY: ResourceSchema = ResourceSchema {
    type_name: "aws_nat_gateway",
    attrs: &[
        Attr::optional("allocation_id", Ty::String).force_new(),
        Attr::required("subnet_id", Ty::String).force_new(),
        Attr::optional("connectivity_type", Ty::String)
            .force_new()
            .default(Default::Str("public")),
        Attr::optional_computed("private_ip", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("association_id", Ty::String),
        Attr::computed("network_interface_id", Ty::String),
        Attr::computed("public_ip", Ty::String),
        Attr::computed("state", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_follow_aws_spelling() {
        assert_eq!(
            eip_dns("us-east-1", "54.1.2.3", true),
            "ec2-54-1-2-3.compute-1.amazonaws.com"
        );
        assert_eq!(
            eip_dns("eu-west-1", "54.1.2.3", true),
            "ec2-54-1-2-3.eu-west-1.compute.amazonaws.com"
        );
        assert_eq!(
            eip_dns("us-east-1", "10.0.1.5", false),
            "ip-10-0-1-5.ec2.internal"
        );
        assert_eq!(
            eip_dns("eu-west-1", "10.0.1.5", false),
            "ip-10-0-1-5.eu-west-1.compute.internal"
        );
    }
}
