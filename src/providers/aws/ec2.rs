//! EC2 resources: `aws_vpc` and `aws_subnet`.

use super::pages::from_pages;
use super::{AwsProvider, TAGS, TAGS_ALL, unsupported};
use super::{prior_id, sdk_error, string_map, tag_changes, tags_value, user_tags};
use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, ResourceType, Subnet, Tag, TagSpecification, Tenancy,
    VpcAttributeName,
};
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

pub(super) fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(ec2_tags(tags)))
        .build()
}

pub(super) fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// The ARN of an EC2 object of `kind` (`vpc`, `subnet`, `route-table`, ...).
pub(super) fn ec2_arn(ec2: &Client, owner: &str, kind: &str, id: &str) -> String {
    let region = ec2
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    format!("arn:aws:ec2:{region}:{owner}:{kind}/{id}")
}

/// The account the provider's credentials belong to, for ARNs of EC2 objects whose
/// Describe answer names no owner (Elastic IPs, flow logs): one GetCallerIdentity call.
pub(super) async fn account_id(sts: &aws_sdk_sts::Client) -> Result<String> {
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_error("GetCallerIdentity", e))?;
    out.account()
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new("GetCallerIdentity returned no account"))
}

pub(super) fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// A filter matching any of `values`.
pub(super) fn filter_any(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// EC2 takes at most 200 values in one filter, so batched reads go in pages of 200 ids.
/// Filtering by id (rather than passing `VpcIds`, `SubnetIds`, ...) means an id that no
/// longer exists is simply absent from the answer instead of failing the whole page.
pub(super) const ID_PAGE: usize = 200;

/// The `id` of every prior, in order.
pub(super) fn ids_of(priors: &[Value]) -> Result<Vec<String>> {
    priors
        .iter()
        .map(|p| prior_id(p).map(str::to_string))
        .collect()
}

/// Runs `fetch` over `ids` in pages of [`ID_PAGE`] and gathers what it found, keyed by id.
/// Up to four pages are read at once; each is a handful of calls at most.
pub(super) async fn by_ids<T, F, Fut>(ids: &[String], fetch: F) -> Result<HashMap<String, T>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, T)>>>,
{
    use futures_util::stream::StreamExt;
    let mut unique: Vec<String> = ids.to_vec();
    unique.sort();
    unique.dedup();
    let chunks: Vec<Vec<String>> = unique.chunks(ID_PAGE).map(<[String]>::to_vec).collect();
    // The pages are independent reads: a few at a time, so thousands of ids take a few
    // round trips of wall time rather than one per page.
    let mut pages = futures_util::stream::iter(chunks)
        .map(&fetch)
        .buffer_unordered(4);
    let mut found = HashMap::new();
    while let Some(page) = pages.next().await {
        found.extend(page?);
    }
    Ok(found)
}

fn bool_attr(b: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(b).build()
}

/// Applies tag differences to any EC2 resource.
pub(super) async fn retag(ec2: &Client, id: &str, prior: &Value, config: &Value) -> Result<()> {
    let (set, remove) = tag_changes(
        &string_map(prior, "tags_all"),
        &string_map(config, "tags_all"),
    );
    if !remove.is_empty() {
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(
                remove
                    .iter()
                    .map(|k| Tag::builder().key(k).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteTags", e))?;
    }
    if !set.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(ec2_tags(&set)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateTags", e))?;
    }
    Ok(())
}

pub async fn create_vpc(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_vpc()
        .cidr_block(config.get("cidr_block").as_str().unwrap_or_default())
        .instance_tenancy(Tenancy::from(
            config.get("instance_tenancy").as_str().unwrap_or("default"),
        ))
        .tag_specifications(tag_spec(ResourceType::Vpc, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateVpc", e))?;
    let id = out
        .vpc()
        .and_then(|v| v.vpc_id())
        .ok_or_else(|| ProviderError::new("CreateVpc returned no VPC id"))?
        .to_string();
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    // DNS attributes take one ModifyVpcAttribute call each. The VPC exists from here on, so
    // a failure is reported with its id: keel's tags let a later run find it.
    set_vpc_dns(ec2, &id, &Value::Null, config).await?;
    read_vpc(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("VPC {id} vanished right after it was created")))
}

async fn set_vpc_dns(ec2: &Client, id: &str, prior: &Value, config: &Value) -> Result<()> {
    for (attr, support) in [
        ("enable_dns_support", true),
        ("enable_dns_hostnames", false),
    ] {
        // AWS's defaults: DNS support on, DNS hostnames off.
        let aws_default = support;
        let want = config.get(attr).as_bool().unwrap_or(aws_default);
        let had = if prior.is_null() {
            aws_default
        } else {
            prior.get(attr).as_bool().unwrap_or(aws_default)
        };
        if want == had {
            continue;
        }
        let b = want;
        let req = ec2.modify_vpc_attribute().vpc_id(id);
        let req = if support {
            req.enable_dns_support(bool_attr(b))
        } else {
            req.enable_dns_hostnames(bool_attr(b))
        };
        req.send()
            .await
            .map_err(|e| sdk_error("ModifyVpcAttribute", e))?;
    }
    Ok(())
}

/// Configuration with the identity of what was just created, for the read that follows.
pub(super) fn merge_config(known: &Value, config: &Value) -> Value {
    let mut map = config.as_map().cloned().unwrap_or_default();
    if let Some(k) = known.as_map() {
        map.extend(k.clone());
    }
    Value::Map(map)
}

pub async fn read_vpc(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_vpcs(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads VPCs in pages of ids: DescribeVpcs and, at the same time, the main route tables
/// of the whole page in one call (and the default network ACLs and security groups, one
/// call each, of VPCs whose state does not hold them yet). The two DNS
/// attributes have no batch API, so they take two DescribeVpcAttribute calls per VPC.
pub async fn read_vpcs(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    // The VPCs and their main route tables, default network ACLs and default security
    // groups (each keyed by its VPC's id) are read at once: filters on ids that no longer
    // exist just match nothing, so none of them has to wait for DescribeVpcs.
    let vpcs = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_vpcs()
            .filters(filter_any("vpc-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeVpcs",
            pages,
            |p| p.vpcs(),
            |v| Some((v.vpc_id()?.to_string(), v.clone())),
        )
    });
    let main_rt = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_route_tables()
            .filters(filter_any("vpc-id", &chunk))
            .filters(filter("association.main", "true"))
            .into_paginator()
            .send();
        from_pages(
            "DescribeRouteTables",
            pages,
            |p| p.route_tables(),
            |r| Some((r.vpc_id()?.to_string(), r.route_table_id()?.to_string())),
        )
    });
    // A VPC's default network ACL and default security group are made with it and can
    // be neither deleted nor swapped, so ids already recorded stay true: only VPCs read
    // for the first time (an import, a state without them) look them up. The main route
    // table can be swapped, so it is read every time.
    let fixed = |prior: &Value, attr: &str| prior.get(attr).as_str().map(str::to_string);
    let unknown: Vec<String> = ids
        .iter()
        .zip(priors)
        .filter(|(_, p)| {
            fixed(p, "default_network_acl_id").is_none()
                || fixed(p, "default_security_group_id").is_none()
        })
        .map(|(id, _)| id.clone())
        .collect();
    let acl = by_ids(&unknown, |chunk| {
        let pages = ec2
            .describe_network_acls()
            .filters(filter_any("vpc-id", &chunk))
            .filters(filter("default", "true"))
            .into_paginator()
            .send();
        from_pages(
            "DescribeNetworkAcls",
            pages,
            |p| p.network_acls(),
            |a| Some((a.vpc_id()?.to_string(), a.network_acl_id()?.to_string())),
        )
    });
    let sg = by_ids(&unknown, |chunk| {
        let pages = ec2
            .describe_security_groups()
            .filters(filter_any("vpc-id", &chunk))
            .filters(filter("group-name", "default"))
            .into_paginator()
            .send();
        from_pages(
            "DescribeSecurityGroups",
            pages,
            |p| p.security_groups(),
            |g| Some((g.vpc_id()?.to_string(), g.group_id()?.to_string())),
        )
    });
    let (vpcs, main_rt, acl, sg) = futures_util::future::try_join4(vpcs, main_rt, acl, sg).await?;
    let live: Vec<String> = ids
        .iter()
        .filter(|i| vpcs.contains_key(*i))
        .cloned()
        .collect();
    let dns = |id: String| async move {
        let get = |attr: VpcAttributeName| {
            ec2.describe_vpc_attribute()
                .vpc_id(id.clone())
                .attribute(attr)
                .send()
        };
        let (support, hostnames) = futures_util::future::try_join(
            get(VpcAttributeName::EnableDnsSupport),
            get(VpcAttributeName::EnableDnsHostnames),
        )
        .await
        .map_err(|e| sdk_error("DescribeVpcAttribute", e))?;
        Ok::<_, ProviderError>((
            support.enable_dns_support().and_then(|a| a.value()),
            hostnames.enable_dns_hostnames().and_then(|a| a.value()),
        ))
    };
    use futures_util::stream::{StreamExt, TryStreamExt};
    let dns: Vec<_> = futures_util::stream::iter(live.iter().cloned().map(dns))
        .buffered(16)
        .try_collect()
        .await?;
    let dns: HashMap<&String, (Option<bool>, Option<bool>)> = live.iter().zip(dns).collect();

    let s = |v: Option<&str>| v.map(Value::str).unwrap_or(Value::Null);
    let b = |v: Option<bool>| v.map(Value::Bool).unwrap_or(Value::Null);
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            let vpc = vpcs.get(id)?;
            let acl = acl
                .get(id)
                .cloned()
                .or_else(|| fixed(prior, "default_network_acl_id"));
            let sg = sg
                .get(id)
                .cloned()
                .or_else(|| fixed(prior, "default_security_group_id"));
            let (support, hostnames) = dns.get(id).copied().unwrap_or_default();
            let tags = tags_of(vpc.tags());
            let owner = vpc.owner_id().unwrap_or_default();
            let attrs = BTreeMap::from([
                ("id".to_string(), Value::str(id)),
                (
                    "arn".to_string(),
                    Value::str(ec2_arn(ec2, owner, "vpc", id)),
                ),
                ("cidr_block".to_string(), s(vpc.cidr_block())),
                (
                    "instance_tenancy".to_string(),
                    s(vpc.instance_tenancy().map(|t| t.as_str())),
                ),
                ("enable_dns_support".to_string(), b(support)),
                ("enable_dns_hostnames".to_string(), b(hostnames)),
                ("owner_id".to_string(), Value::str(owner)),
                ("dhcp_options_id".to_string(), s(vpc.dhcp_options_id())),
                (
                    "main_route_table_id".to_string(),
                    s(main_rt.get(id).map(String::as_str)),
                ),
                ("default_network_acl_id".to_string(), s(acl.as_deref())),
                ("default_security_group_id".to_string(), s(sg.as_deref())),
                ("tags".to_string(), user_tags(prior, &tags)),
                ("tags_all".to_string(), tags_value(&tags)),
            ]);
            Some(Value::Map(attrs))
        })
        .collect())
}

pub async fn update_vpc(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    set_vpc_dns(ec2, &id, prior, config).await?;
    retag(ec2, &id, prior, config).await?;
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_vpc(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("VPC {id} no longer exists")))
}

pub async fn delete_vpc(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match ec2.delete_vpc().vpc_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidVpcID.NotFound") => Ok(()),
        Err(e) => Err(sdk_error("DeleteVpc", e)),
    }
}

pub async fn create_subnet(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_subnet()
        .vpc_id(config.get("vpc_id").as_str().unwrap_or_default())
        .cidr_block(config.get("cidr_block").as_str().unwrap_or_default())
        .set_availability_zone(config.get("availability_zone").as_str().map(str::to_string))
        .set_availability_zone_id(
            config
                .get("availability_zone_id")
                .as_str()
                .map(str::to_string),
        )
        .tag_specifications(tag_spec(ResourceType::Subnet, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateSubnet", e))?;
    let id = out
        .subnet()
        .and_then(|s| s.subnet_id())
        .ok_or_else(|| ProviderError::new("CreateSubnet returned no subnet id"))?
        .to_string();
    if config.get("map_public_ip_on_launch").as_bool() == Some(true) {
        ec2.modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(bool_attr(true))
            .send()
            .await
            .map_err(|e| sdk_error("ModifySubnetAttribute", e))?;
    }
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_subnet(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| {
            ProviderError::new(format!("subnet {id} vanished right after it was created"))
        })
}

pub async fn read_subnet(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_subnets(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads subnets with one DescribeSubnets call per page of ids.
pub async fn read_subnets(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_subnets()
            .filters(filter_any("subnet-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeSubnets",
            pages,
            |p| p.subnets(),
            |s| Some((s.subnet_id()?.to_string(), s.clone())),
        )
    })
    .await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| found.get(id).map(|s| subnet_value(ec2, prior, id, s)))
        .collect())
}

fn subnet_value(ec2: &Client, prior: &Value, id: &str, subnet: &Subnet) -> Value {
    let tags = tags_of(subnet.tags());
    let s = |v: Option<&str>| v.map(Value::str).unwrap_or(Value::Null);
    let owner = subnet.owner_id().unwrap_or_default();
    let arn = subnet
        .subnet_arn()
        .map(str::to_string)
        .unwrap_or_else(|| ec2_arn(ec2, owner, "subnet", id));
    let attrs = BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("arn".to_string(), Value::str(arn)),
        ("vpc_id".to_string(), s(subnet.vpc_id())),
        ("cidr_block".to_string(), s(subnet.cidr_block())),
        (
            "availability_zone".to_string(),
            s(subnet.availability_zone()),
        ),
        (
            "availability_zone_id".to_string(),
            s(subnet.availability_zone_id()),
        ),
        (
            "map_public_ip_on_launch".to_string(),
            Value::Bool(subnet.map_public_ip_on_launch().unwrap_or(false)),
        ),
        ("owner_id".to_string(), Value::str(owner)),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]);
    Value::Map(attrs)
}

pub async fn update_subnet(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let want = config
        .get("map_public_ip_on_launch")
        .as_bool()
        .unwrap_or(false);
    if prior.get("map_public_ip_on_launch").as_bool() != Some(want) {
        ec2.modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(bool_attr(want))
            .send()
            .await
            .map_err(|e| sdk_error("ModifySubnetAttribute", e))?;
    }
    retag(ec2, &id, prior, config).await?;
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_subnet(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("subnet {id} no longer exists")))
}

pub async fn delete_subnet(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match ec2.delete_subnet().subnet_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidSubnetID.NotFound") => Ok(()),
        Err(e) => Err(sdk_error("DeleteSubnet", e)),
    }
}

// Schemas and routing: Terraform AWS provider (v5) names.

pub static AWS_VPC: ResourceSchema = ResourceSchema {
    type_name: "aws_vpc",
    attrs: &[
        Attr::required("cidr_block", Ty::String).force_new(),
        Attr::optional("instance_tenancy", Ty::String)
            .force_new()
            .default(Default::Str("default")),
        Attr::optional("enable_dns_support", Ty::Bool).default(Default::Bool(true)),
        Attr::optional("enable_dns_hostnames", Ty::Bool).default(Default::Bool(false)),
        // IPv6 and IPAM: accepted only unset, as modules pass them through.
        Attr::unmanaged("assign_generated_ipv6_cidr_block", Ty::Bool),
        Attr::unmanaged("enable_network_address_usage_metrics", Ty::Bool),
        Attr::unmanaged("ipv4_ipam_pool_id", Ty::String),
        Attr::unmanaged("ipv4_netmask_length", Ty::Number),
        Attr::unmanaged("ipv6_cidr_block", Ty::String),
        Attr::unmanaged("ipv6_cidr_block_network_border_group", Ty::String),
        Attr::unmanaged("ipv6_ipam_pool_id", Ty::String),
        Attr::unmanaged("ipv6_netmask_length", Ty::Number),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
        Attr::computed("main_route_table_id", Ty::String),
        Attr::computed("default_network_acl_id", Ty::String),
        Attr::computed("default_security_group_id", Ty::String),
        Attr::computed("dhcp_options_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_SUBNET: ResourceSchema = ResourceSchema {
    type_name: "aws_subnet",
    attrs: &[
        Attr::required("vpc_id", Ty::String).force_new(),
        Attr::required("cidr_block", Ty::String).force_new(),
        Attr::optional_computed("availability_zone", Ty::String).force_new(),
        Attr::optional_computed("availability_zone_id", Ty::String).force_new(),
        Attr::optional("map_public_ip_on_launch", Ty::Bool).default(Default::Bool(false)),
        // IPv6, DNS64, resource-name DNS and Outposts: accepted only unset, as modules
        // pass them through.
        Attr::unmanaged("assign_ipv6_address_on_creation", Ty::Bool),
        Attr::unmanaged("customer_owned_ipv4_pool", Ty::String),
        Attr::unmanaged("enable_dns64", Ty::Bool),
        Attr::unmanaged("enable_lni_at_device_index", Ty::Number),
        Attr::unmanaged("enable_resource_name_dns_a_record_on_launch", Ty::Bool),
        Attr::unmanaged("enable_resource_name_dns_aaaa_record_on_launch", Ty::Bool),
        Attr::unmanaged("ipv6_cidr_block", Ty::String),
        Attr::unmanaged("ipv6_native", Ty::Bool),
        Attr::unmanaged("map_customer_owned_ip_on_launch", Ty::Bool),
        Attr::unmanaged("outpost_arn", Ty::String),
        Attr::unmanaged("private_dns_hostname_type_on_launch", Ty::String),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub(super) static SCHEMAS: &[&ResourceSchema] = &[&AWS_VPC, &AWS_SUBNET];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_vpc" => create_vpc(&p.ec2, config).await,
        "aws_subnet" => create_subnet(&p.ec2, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    match type_ {
        "aws_vpc" => read_vpcs(&p.ec2, priors).await,
        "aws_subnet" => read_subnets(&p.ec2, priors).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn update(
    p: &AwsProvider,
    addr: &ResourceAddr,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_vpc" => update_vpc(&p.ec2, prior, config).await,
        "aws_subnet" => update_subnet(&p.ec2, prior, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_vpc" => delete_vpc(&p.ec2, prior).await,
        "aws_subnet" => delete_subnet(&p.ec2, prior).await,
        other => Err(unsupported(other)),
    }
}
