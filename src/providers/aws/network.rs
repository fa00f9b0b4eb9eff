//! VPC routing resources: `aws_internet_gateway`, `aws_route_table`, `aws_route` and
//! `aws_route_table_association`.

use super::ec2::{ec2_arn, filter, merge_config, retag, tag_spec, tags_of};
use super::{AwsProvider, TAGS, TAGS_ALL, read_each, unsupported};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::ResourceType;
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

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
    let id = prior_id(prior)?;
    let out = match ec2
        .describe_internet_gateways()
        .internet_gateway_ids(id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.code() == Some("InvalidInternetGatewayID.NotFound") => return Ok(None),
        Err(e) => return Err(sdk_error("DescribeInternetGateways", e)),
    };
    let Some(igw) = out.internet_gateways().first() else {
        return Ok(None);
    };
    let tags = tags_of(igw.tags());
    let owner = igw.owner_id().unwrap_or_default();
    let vpc = igw.attachments().first().and_then(|a| a.vpc_id());
    let attrs = BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(ec2_arn(ec2, owner, "internet-gateway", id)),
        ),
        ("owner_id".to_string(), Value::str(owner)),
        ("vpc_id".to_string(), s(vpc)),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]);
    Ok(Some(Value::Map(attrs)))
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
    if let Some(current) = read_internet_gateway(ec2, prior).await?
        && let Some(vpc) = current.get("vpc_id").as_str()
    {
        detach_igw(ec2, id, vpc).await?;
    }
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
    let id = prior_id(prior)?;
    let out = match ec2.describe_route_tables().route_table_ids(id).send().await {
        Ok(out) => out,
        Err(e) if e.code() == Some("InvalidRouteTableID.NotFound") => return Ok(None),
        Err(e) => return Err(sdk_error("DescribeRouteTables", e)),
    };
    let Some(rt) = out.route_tables().first() else {
        return Ok(None);
    };
    let tags = tags_of(rt.tags());
    let owner = rt.owner_id().unwrap_or_default();
    let attrs = BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(ec2_arn(ec2, owner, "route-table", id)),
        ),
        ("owner_id".to_string(), Value::str(owner)),
        ("vpc_id".to_string(), s(rt.vpc_id())),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]);
    Ok(Some(Value::Map(attrs)))
}

pub async fn update_route_table(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    retag(ec2, &id, prior, config).await?;
    read_route_table(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route table {id} no longer exists")))
}

pub async fn delete_route_table(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match ec2.delete_route_table().route_table_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidRouteTableID.NotFound") => Ok(()),
        Err(e) => Err(sdk_error("DeleteRouteTable", e)),
    }
}

// ---- aws_route ------------------------------------------------------------------------

/// Terraform's id for a route: `r-<route table id><hash of the destination>`; keel keeps the
/// two parts readable instead, since a route has no id of its own in EC2.
fn route_id(table: &str, dest: &str) -> String {
    format!("r-{table}_{dest}")
}

/// The targets a route may point at that keel supports, as (attribute, value).
const ROUTE_TARGETS: &[&str] = &[
    "gateway_id",
    "nat_gateway_id",
    "vpc_endpoint_id",
    "network_interface_id",
    "vpc_peering_connection_id",
];

pub async fn create_route(ec2: &Client, config: &Value) -> Result<Value> {
    let table = config.get("route_table_id").as_str().unwrap_or_default();
    let dest = config
        .get("destination_cidr_block")
        .as_str()
        .unwrap_or_default();
    let target = |k: &str| {
        config
            .get(k)
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    ec2.create_route()
        .route_table_id(table)
        .destination_cidr_block(dest)
        .set_gateway_id(target("gateway_id"))
        .set_nat_gateway_id(target("nat_gateway_id"))
        .set_vpc_endpoint_id(target("vpc_endpoint_id"))
        .set_network_interface_id(target("network_interface_id"))
        .set_vpc_peering_connection_id(target("vpc_peering_connection_id"))
        .send()
        .await
        .map_err(|e| sdk_error("CreateRoute", e))?;
    read_route(ec2, &with_id(&route_id(table, dest), config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route {dest} in {table} vanished")))
}

pub async fn read_route(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    let id = prior_id(prior)?;
    let table = prior.get("route_table_id").as_str().unwrap_or_default();
    let dest = prior
        .get("destination_cidr_block")
        .as_str()
        .unwrap_or_default();
    let out = match ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.code() == Some("InvalidRouteTableID.NotFound") => return Ok(None),
        Err(e) => return Err(sdk_error("DescribeRouteTables", e)),
    };
    let Some(route) = out.route_tables().first().and_then(|rt| {
        rt.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(dest))
    }) else {
        return Ok(None);
    };
    let mut attrs = BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("route_table_id".to_string(), Value::str(table)),
        ("destination_cidr_block".to_string(), Value::str(dest)),
        ("origin".to_string(), s(route.origin().map(|o| o.as_str()))),
        ("state".to_string(), s(route.state().map(|o| o.as_str()))),
    ]);
    let targets = [
        route.gateway_id(),
        route.nat_gateway_id(),
        // EC2 reports a gateway endpoint route's target as its gateway id.
        None,
        route.network_interface_id(),
        route.vpc_peering_connection_id(),
    ];
    for (name, value) in ROUTE_TARGETS.iter().zip(targets) {
        attrs.insert(name.to_string(), s(value));
    }
    // `vpc_endpoint_id` targets come back in `gateway_id` (vpce-...): keep what was set.
    if let Some(vpce) = prior.get("vpc_endpoint_id").as_str() {
        attrs.insert("vpc_endpoint_id".to_string(), Value::str(vpce));
        if route.gateway_id() == Some(vpce) {
            attrs.insert("gateway_id".to_string(), Value::Null);
        }
    }
    Ok(Some(Value::Map(attrs)))
}

pub async fn update_route(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let target = |k: &str| {
        config
            .get(k)
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    ec2.replace_route()
        .route_table_id(config.get("route_table_id").as_str().unwrap_or_default())
        .destination_cidr_block(
            config
                .get("destination_cidr_block")
                .as_str()
                .unwrap_or_default(),
        )
        .set_gateway_id(target("gateway_id"))
        .set_nat_gateway_id(target("nat_gateway_id"))
        .set_vpc_endpoint_id(target("vpc_endpoint_id"))
        .set_network_interface_id(target("network_interface_id"))
        .set_vpc_peering_connection_id(target("vpc_peering_connection_id"))
        .send()
        .await
        .map_err(|e| sdk_error("ReplaceRoute", e))?;
    read_route(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route {id} no longer exists")))
}

pub async fn delete_route(ec2: &Client, prior: &Value) -> Result<()> {
    match ec2
        .delete_route()
        .route_table_id(prior.get("route_table_id").as_str().unwrap_or_default())
        .destination_cidr_block(
            prior
                .get("destination_cidr_block")
                .as_str()
                .unwrap_or_default(),
        )
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                Some("InvalidRoute.NotFound" | "InvalidRouteTableID.NotFound")
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(sdk_error("DeleteRoute", e)),
    }
}

// ---- aws_route_table_association ------------------------------------------------------

pub async fn create_route_table_association(ec2: &Client, config: &Value) -> Result<Value> {
    let out = ec2
        .associate_route_table()
        .route_table_id(config.get("route_table_id").as_str().unwrap_or_default())
        .set_subnet_id(config.get("subnet_id").as_str().map(str::to_string))
        .set_gateway_id(config.get("gateway_id").as_str().map(str::to_string))
        .send()
        .await
        .map_err(|e| sdk_error("AssociateRouteTable", e))?;
    let id = out
        .association_id()
        .ok_or_else(|| ProviderError::new("AssociateRouteTable returned no association id"))?
        .to_string();
    read_route_table_association(ec2, &with_id(&id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route table association {id} vanished")))
}

pub async fn read_route_table_association(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    let id = prior_id(prior)?;
    let out = ec2
        .describe_route_tables()
        .filters(filter("association.route-table-association-id", id))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeRouteTables", e))?;
    let Some(assoc) = out
        .route_tables()
        .iter()
        .flat_map(|rt| rt.associations())
        .find(|a| a.route_table_association_id() == Some(id))
    else {
        return Ok(None);
    };
    let attrs = BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("route_table_id".to_string(), s(assoc.route_table_id())),
        ("subnet_id".to_string(), s(assoc.subnet_id())),
        ("gateway_id".to_string(), s(assoc.gateway_id())),
    ]);
    Ok(Some(Value::Map(attrs)))
}

/// Only `route_table_id` changes in place: ReplaceRouteTableAssociation gives a new
/// association id, which becomes the resource's id (as Terraform does).
pub async fn update_route_table_association(
    ec2: &Client,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    let id = prior_id(prior)?;
    let out = ec2
        .replace_route_table_association()
        .association_id(id)
        .route_table_id(config.get("route_table_id").as_str().unwrap_or_default())
        .send()
        .await
        .map_err(|e| sdk_error("ReplaceRouteTableAssociation", e))?;
    let new_id = out.new_association_id().unwrap_or(id).to_string();
    read_route_table_association(ec2, &with_id(&new_id, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("route table association {new_id} vanished")))
}

pub async fn delete_route_table_association(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match ec2
        .disassociate_route_table()
        .association_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidAssociationID.NotFound") => Ok(()),
        Err(e) => Err(sdk_error("DisassociateRouteTable", e)),
    }
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

pub static AWS_ROUTE: ResourceSchema = ResourceSchema {
    type_name: "aws_route",
    attrs: &[
        Attr::required("route_table_id", Ty::String).force_new(),
        Attr::required("destination_cidr_block", Ty::String).force_new(),
        // The target changes in place (ReplaceRoute).
        Attr::optional("gateway_id", Ty::String),
        Attr::optional("nat_gateway_id", Ty::String),
        Attr::optional("vpc_endpoint_id", Ty::String),
        Attr::optional("network_interface_id", Ty::String),
        Attr::optional("vpc_peering_connection_id", Ty::String),
        Attr::computed("id", Ty::String),
        Attr::computed("origin", Ty::String),
        Attr::computed("state", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

pub static AWS_ROUTE_TABLE_ASSOCIATION: ResourceSchema = ResourceSchema {
    type_name: "aws_route_table_association",
    attrs: &[
        // Changes in place (ReplaceRouteTableAssociation).
        Attr::required("route_table_id", Ty::String),
        Attr::optional("subnet_id", Ty::String).force_new(),
        Attr::optional("gateway_id", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

pub(super) static SCHEMAS: &[&ResourceSchema] = &[
    &AWS_INTERNET_GATEWAY,
    &AWS_ROUTE_TABLE,
    &AWS_ROUTE,
    &AWS_ROUTE_TABLE_ASSOCIATION,
];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_internet_gateway" => create_internet_gateway(&p.ec2, config).await,
        "aws_route_table" => create_route_table(&p.ec2, config).await,
        "aws_route" => create_route(&p.ec2, config).await,
        "aws_route_table_association" => create_route_table_association(&p.ec2, config).await,
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
        "aws_internet_gateway" => read_each(priors, |v| read_internet_gateway(ec2, v)).await,
        "aws_route_table" => read_each(priors, |v| read_route_table(ec2, v)).await,
        "aws_route" => read_each(priors, |v| read_route(ec2, v)).await,
        "aws_route_table_association" => {
            read_each(priors, |v| read_route_table_association(ec2, v)).await
        }
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
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_internet_gateway" => delete_internet_gateway(&p.ec2, prior).await,
        "aws_route_table" => delete_route_table(&p.ec2, prior).await,
        "aws_route" => delete_route(&p.ec2, prior).await,
        "aws_route_table_association" => delete_route_table_association(&p.ec2, prior).await,
        other => Err(unsupported(other)),
    }
}
