//! VPC routing resources: `aws_internet_gateway` and `aws_route_table` here, `aws_route`
//! and `aws_route_table_association` in [`super::route`]. This module is the network
//! family's router: it also routes the VPC-isolation types kept in their own files.

use super::ec2::{by_ids, ec2_arn, filter_any, ids_of, merge_config, retag, tag_spec, tags_of};
use super::pages::from_pages;
use super::route::{self, *};
use super::wait::{self, Patience};
use super::{AwsProvider, TAGS, TAGS_ALL, unsupported};
use super::{endpoint, flow_log, nat, network_acl};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{InternetGateway, ResourceType, RouteTable};
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

/// What AWS answers while an object's dependents are still going away.
pub(super) const DRAINING: &[&str] = &["DependencyViolation"];
/// How long a delete waits for dependents to drain (Terraform waits minutes too).
pub(super) const DRAIN: Patience = Patience::minutes(5);

fn s(v: Option<&str>) -> Value {
    v.map(Value::str).unwrap_or(Value::Null)
}

fn with_id(id: &str, config: &Value) -> Value {
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    merge_config(&known, config)
}

// ---- aws_internet_gateway -------------------------------------------------------------

pub async fn create_internet_gateway(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateInternetGateway", e))?;
    let id = out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .ok_or_else(|| ProviderError::new("CreateInternetGateway returned no id"))?
        .to_string();
    if let Some(vpc) = config.get("vpc_id").as_str().filter(|v| !v.is_empty()) {
        attach_igw(ec2, &id, vpc).await?;
    }
    read_internet_gateway(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("internet gateway {id} vanished")))
}

async fn attach_igw(ec2: &Client, id: &str, vpc: &str) -> Result<()> {
    ec2.attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("AttachInternetGateway", e))
}

async fn detach_igw(ec2: &Client, id: &str, vpc: &str) -> Result<()> {
    match ec2
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("Gateway.NotAttached") => Ok(()),
        Err(e) => Err(sdk_error("DetachInternetGateway", e)),
    }
}

pub async fn read_internet_gateway(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_internet_gateways(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads internet gateways with one DescribeInternetGateways call per page of ids.
pub async fn read_internet_gateways(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_internet_gateways()
            .filters(filter_any("internet-gateway-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeInternetGateways",
            pages,
            |p| p.internet_gateways(),
            |g| Some((g.internet_gateway_id()?.to_string(), g.clone())),
        )
    })
    .await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| found.get(id).map(|g| igw_value(ec2, prior, id, g)))
        .collect())
}

fn igw_value(ec2: &Client, prior: &Value, id: &str, igw: &InternetGateway) -> Value {
    let tags = tags_of(igw.tags());
    let owner = igw.owner_id().unwrap_or_default();
    let vpc = igw.attachments().first().and_then(|a| a.vpc_id());
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(ec2_arn(ec2, owner, "internet-gateway", id)),
        ),
        ("owner_id".to_string(), Value::str(owner)),
        ("vpc_id".to_string(), s(vpc)),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

pub async fn update_internet_gateway(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let old = prior.get("vpc_id").as_str().filter(|v| !v.is_empty());
    let new = config.get("vpc_id").as_str().filter(|v| !v.is_empty());
    if old != new {
        if let Some(old) = old {
            detach_igw(ec2, &id, old).await?;
        }
        if let Some(new) = new {
            attach_igw(ec2, &id, new).await?;
        }
    }
    retag(ec2, &id, prior, config).await?;
    read_internet_gateway(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("internet gateway {id} no longer exists")))
}

pub async fn delete_internet_gateway(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    // Detach from whatever the cloud says it is attached to, not only what state recorded.
    // AWS refuses to detach while the VPC still has public addresses mapped (a NAT
    // gateway or EIP being released): wait for them to drain.
    if let Some(current) = read_internet_gateway(ec2, prior).await?
        && let Some(vpc) = current.get("vpc_id").as_str()
    {
        wait::while_refused(DRAINING, DRAIN, || detach_igw(ec2, id, vpc)).await?;
    }
    wait::while_refused(DRAINING, DRAIN, || async {
        match ec2
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("InvalidInternetGatewayID.NotFound") => Ok(()),
            Err(e) => Err(sdk_error("DeleteInternetGateway", e)),
        }
    })
    .await
}

// ---- aws_route_table ------------------------------------------------------------------

pub async fn create_route_table(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_route_table()
        .vpc_id(config.get("vpc_id").as_str().unwrap_or_default())
        .tag_specifications(tag_spec(ResourceType::RouteTable, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateRouteTable", e))?;
    let id = out
        .route_table()
        .and_then(|r| r.route_table_id())
        .ok_or_else(|| ProviderError::new("CreateRouteTable returned no id"))?
        .to_string();
    read_route_table(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route table {id} vanished")))
}

pub async fn read_route_table(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_route_tables(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Route tables by id, one DescribeRouteTables call per page of ids. Route tables, routes
/// and associations are all read from these answers.
pub(super) async fn route_tables_by_id(
    ec2: &Client,
    ids: &[String],
) -> Result<HashMap<String, RouteTable>> {
    by_ids(ids, |chunk| {
        let pages = ec2
            .describe_route_tables()
            .filters(filter_any("route-table-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeRouteTables",
            pages,
            |p| p.route_tables(),
            |rt| Some((rt.route_table_id()?.to_string(), rt.clone())),
        )
    })
    .await
}

/// Reads route tables with one DescribeRouteTables call per page of ids.
pub async fn read_route_tables(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = route_tables_by_id(ec2, &ids).await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            let rt = found.get(id)?;
            let tags = tags_of(rt.tags());
            let owner = rt.owner_id().unwrap_or_default();
            Some(Value::Map(BTreeMap::from([
                ("id".to_string(), Value::str(id)),
                (
                    "arn".to_string(),
                    Value::str(ec2_arn(ec2, owner, "route-table", id)),
                ),
                ("owner_id".to_string(), Value::str(owner)),
                ("vpc_id".to_string(), s(rt.vpc_id())),
                ("tags".to_string(), user_tags(prior, &tags)),
                ("tags_all".to_string(), tags_value(&tags)),
            ])))
        })
        .collect())
}

pub async fn update_route_table(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    retag(ec2, &id, prior, config).await?;
    read_route_table(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route table {id} no longer exists")))
}

/// Deletes the table, waiting while AWS still counts associations being removed.
pub async fn delete_route_table(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    wait::while_refused(DRAINING, DRAIN, || async {
        match ec2.delete_route_table().route_table_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("InvalidRouteTableID.NotFound") => Ok(()),
            Err(e) => Err(sdk_error("DeleteRouteTable", e)),
        }
    })
    .await
}

// Schemas and routing: Terraform AWS provider (v5) names.

pub static AWS_INTERNET_GATEWAY: ResourceSchema = ResourceSchema {
    type_name: "aws_internet_gateway",
    attrs: &[
        // Attaching and detaching happen in place.
        Attr::optional("vpc_id", Ty::String),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_ROUTE_TABLE: ResourceSchema = ResourceSchema {
    type_name: "aws_route_table",
    attrs: &[
        Attr::required("vpc_id", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub(super) static SCHEMAS: &[&ResourceSchema] = &[
    &AWS_INTERNET_GATEWAY,
    &AWS_ROUTE_TABLE,
    &route::AWS_ROUTE,
    &route::AWS_ROUTE_TABLE_ASSOCIATION,
    &nat::AWS_EIP,
    &nat::AWS_NAT_GATEWAY,
    &endpoint::AWS_VPC_ENDPOINT,
    &network_acl::AWS_NETWORK_ACL,
    &flow_log::AWS_FLOW_LOG,
];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_internet_gateway" => create_internet_gateway(&p.ec2, config).await,
        "aws_route_table" => create_route_table(&p.ec2, config).await,
        "aws_route" => create_route(&p.ec2, config).await,
        "aws_route_table_association" => create_route_table_association(&p.ec2, config).await,
        "aws_eip" => nat::create_eip(&p.ec2, &p.sts, config).await,
        "aws_nat_gateway" => nat::create_nat_gateway(&p.ec2, config).await,
        "aws_vpc_endpoint" => endpoint::create_vpc_endpoint(&p.ec2, config).await,
        "aws_network_acl" => network_acl::create_network_acl(&p.ec2, config).await,
        "aws_flow_log" => flow_log::create_flow_log(&p.ec2, &p.sts, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let ec2 = &p.ec2;
    match type_ {
        "aws_internet_gateway" => read_internet_gateways(ec2, priors).await,
        "aws_route_table" => read_route_tables(ec2, priors).await,
        "aws_route" => read_routes(ec2, priors).await,
        "aws_route_table_association" => read_route_table_associations(ec2, priors).await,
        "aws_eip" => nat::read_eips(ec2, &p.sts, priors).await,
        "aws_nat_gateway" => nat::read_nat_gateways(ec2, priors).await,
        "aws_vpc_endpoint" => endpoint::read_vpc_endpoints(ec2, priors).await,
        "aws_network_acl" => network_acl::read_network_acls(ec2, priors).await,
        "aws_flow_log" => flow_log::read_flow_logs(ec2, &p.sts, priors).await,
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
        "aws_internet_gateway" => update_internet_gateway(&p.ec2, prior, config).await,
        "aws_route_table" => update_route_table(&p.ec2, prior, config).await,
        "aws_route" => update_route(&p.ec2, prior, config).await,
        "aws_route_table_association" => {
            update_route_table_association(&p.ec2, prior, config).await
        }
        "aws_eip" => nat::update_eip(&p.ec2, &p.sts, prior, config).await,
        "aws_nat_gateway" => nat::update_nat_gateway(&p.ec2, prior, config).await,
        "aws_vpc_endpoint" => endpoint::update_vpc_endpoint(&p.ec2, prior, config).await,
        "aws_network_acl" => network_acl::update_network_acl(&p.ec2, prior, config).await,
        "aws_flow_log" => flow_log::update_flow_log(&p.ec2, &p.sts, prior, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_internet_gateway" => delete_internet_gateway(&p.ec2, prior).await,
        "aws_route_table" => delete_route_table(&p.ec2, prior).await,
        "aws_route" => delete_route(&p.ec2, prior).await,
        "aws_route_table_association" => delete_route_table_association(&p.ec2, prior).await,
        "aws_eip" => nat::delete_eip(&p.ec2, prior).await,
        "aws_nat_gateway" => nat::delete_nat_gateway(&p.ec2, prior).await,
        "aws_vpc_endpoint" => endpoint::delete_vpc_endpoint(&p.ec2, prior).await,
        "aws_network_acl" => network_acl::delete_network_acl(&p.ec2, prior).await,
        "aws_flow_log" => flow_log::delete_flow_log(&p.ec2, prior).await,
        other => Err(unsupported(other)),
    }
}
