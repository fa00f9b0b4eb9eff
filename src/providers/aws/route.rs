//! `aws_route` and `aws_route_table_association`: both read from DescribeRouteTables, one
//! call per page of route tables or association ids.

use super::ec2::{by_ids, filter_any, ids_of, merge_config};
use super::network::route_tables_by_id;
use super::pages::from_pages;
use super::{prior_id, sdk_error};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Route;
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

fn s(v: Option<&str>) -> Value {
    v.map(Value::str).unwrap_or(Value::Null)
}

fn with_id(id: &str, config: &Value) -> Value {
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    merge_config(&known, config)
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
    Ok(read_routes(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// The route table and destination of a route: from the prior's attributes, or from its
/// id (`r-<table>_<destination>`) when importing.
fn route_key(prior: &Value) -> Result<(String, String)> {
    let table = prior
        .get("route_table_id")
        .as_str()
        .filter(|t| !t.is_empty());
    let dest = prior
        .get("destination_cidr_block")
        .as_str()
        .filter(|d| !d.is_empty());
    if let (Some(t), Some(d)) = (table, dest) {
        return Ok((t.to_string(), d.to_string()));
    }
    let id = prior_id(prior)?;
    id.strip_prefix("r-")
        .and_then(|rest| rest.split_once('_'))
        .filter(|(t, d)| t.starts_with("rtb-") && !d.is_empty())
        .map(|(t, d)| (t.to_string(), d.to_string()))
        .ok_or_else(|| {
            ProviderError::new(format!(
                "route id {id:?} is not r-<route table id>_<destination CIDR>"
            ))
        })
}

/// Reads routes with one DescribeRouteTables call per page of their route tables.
pub async fn read_routes(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let keys = priors.iter().map(route_key).collect::<Result<Vec<_>>>()?;
    let tables: Vec<String> = keys.iter().map(|(t, _)| t.clone()).collect();
    let found = route_tables_by_id(ec2, &tables).await?;
    Ok(priors
        .iter()
        .zip(&keys)
        .map(|(prior, (table, dest))| {
            let route = found.get(table).and_then(|rt| {
                rt.routes()
                    .iter()
                    .find(|r| r.destination_cidr_block() == Some(dest.as_str()))
            })?;
            Some(route_value(prior, table, dest, route))
        })
        .collect())
}

fn route_value(prior: &Value, table: &str, dest: &str, route: &Route) -> Value {
    let mut attrs = BTreeMap::from([
        ("id".to_string(), Value::str(route_id(table, dest))),
        ("route_table_id".to_string(), Value::str(table)),
        ("destination_cidr_block".to_string(), Value::str(dest)),
        ("origin".to_string(), s(route.origin().map(|o| o.as_str()))),
        ("state".to_string(), s(route.state().map(|o| o.as_str()))),
    ]);
    // EC2 reports a gateway endpoint's route with its vpce- id in GatewayId.
    let gateway = route.gateway_id();
    let endpoint = gateway.filter(|g| g.starts_with("vpce-"));
    let targets = [
        gateway.filter(|g| !g.starts_with("vpce-")),
        route.nat_gateway_id(),
        endpoint,
        route.network_interface_id(),
        route.vpc_peering_connection_id(),
    ];
    for (name, value) in ROUTE_TARGETS.iter().zip(targets) {
        attrs.insert(name.to_string(), s(value));
    }
    // A NAT gateway's or instance's route also names its network interface; keep that
    // out unless the configuration routes to the interface itself.
    if route.nat_gateway_id().is_some() && prior.get("network_interface_id").is_null() {
        attrs.insert("network_interface_id".to_string(), Value::Null);
    }
    Value::Map(attrs)
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
    Ok(
        read_route_table_associations(ec2, std::slice::from_ref(prior))
            .await?
            .pop()
            .flatten(),
    )
}

/// Reads associations with one DescribeRouteTables call per page of association ids.
pub async fn read_route_table_associations(
    ec2: &Client,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_route_tables()
            .filters(filter_any("association.route-table-association-id", &chunk))
            .into_paginator()
            .send();
        // A table answers all its associations: keep the asked-for ones.
        from_pages(
            "DescribeRouteTables",
            pages,
            |p| p.route_tables(),
            move |rt| {
                rt.associations()
                    .iter()
                    .filter_map(|a| {
                        let id = a.route_table_association_id()?;
                        chunk
                            .iter()
                            .any(|c| c == id)
                            .then(|| (id.to_string(), a.clone()))
                    })
                    .collect::<Vec<_>>()
            },
        )
    })
    .await?;
    Ok(ids
        .iter()
        .map(|id| {
            let a = found.get(id)?;
            Some(Value::Map(BTreeMap::from([
                ("id".to_string(), Value::str(id)),
                ("route_table_id".to_string(), s(a.route_table_id())),
                ("subnet_id".to_string(), s(a.subnet_id())),
                ("gateway_id".to_string(), s(a.gateway_id())),
            ])))
        })
        .collect())
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

// Schemas: Terraform AWS provider (v5) names.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_route_is_found_from_its_id_alone() {
        let only_id = Value::Map(BTreeMap::from([(
            "id".to_string(),
            Value::str(route_id("rtb-0abc", "0.0.0.0/0")),
        )]));
        assert_eq!(
            route_key(&only_id).unwrap(),
            ("rtb-0abc".to_string(), "0.0.0.0/0".to_string())
        );
        let bad = Value::Map(BTreeMap::from([("id".to_string(), Value::str("r-nope"))]));
        assert!(
            route_key(&bad)
                .unwrap_err()
                .message
                .contains("r-<route table id>")
        );
    }
}
