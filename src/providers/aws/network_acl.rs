//! `aws_network_acl`: a stateless subnet firewall. Its `ingress` and `egress` entries are
//! compared as sets (rule number, action, protocol, addresses, ports), and managed only
//! when the configuration has them, as Terraform's attributes-as-blocks. `subnet_ids`
//! moves subnets in place: a subnet joining is taken from whatever ACL it had, a subnet
//! leaving goes back to its VPC's default ACL, as Terraform does. Read in batches: one
//! DescribeNetworkAcls call per page of ids.

use super::ec2::{
    by_ids, ec2_arn, filter, filter_any, ids_of, merge_config, retag, tag_spec, tags_of,
};
use super::network::{DRAIN, DRAINING};
use super::pages::from_pages;
use super::wait;
use super::{TAGS, TAGS_ALL};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, BlockType, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    IcmpTypeCode, NetworkAcl, NetworkAclEntry, PortRange, ResourceType, RuleAction,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

/// The entry AWS puts in every ACL (rule `*`, deny everything): not the stack's to manage.
const DEFAULT_RULE: i64 = 32767;

fn s(v: Option<&str>) -> Value {
    v.filter(|v| !v.is_empty())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

fn number(v: &Value) -> i64 {
    match v {
        Value::Number(n) => *n as i64,
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// ACL entries name protocols by number; the names users write map to them.
fn protocol(p: &str) -> String {
    match p.trim().to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".to_string(),
        "tcp" => "6".to_string(),
        "udp" => "17".to_string(),
        "icmp" => "1".to_string(),
        "icmpv6" => "58".to_string(),
        other => other.to_string(),
    }
}

/// One entry in canonical form. Ports count only for TCP and UDP, ICMP type and code only
/// for ICMP, as AWS stores them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    rule_no: i64,
    action: String,
    protocol: String,
    cidr_block: String,
    ipv6_cidr_block: String,
    from_port: i64,
    to_port: i64,
    icmp_type: i64,
    icmp_code: i64,
}

fn has_ports(protocol: &str) -> bool {
    matches!(protocol, "6" | "17")
}

fn has_icmp(protocol: &str) -> bool {
    matches!(protocol, "1" | "58")
}

impl Entry {
    fn from_value(v: &Value) -> Entry {
        let protocol = protocol(v.get("protocol").as_str().unwrap_or("-1"));
        let ports = has_ports(&protocol);
        let icmp = has_icmp(&protocol);
        Entry {
            rule_no: number(v.get("rule_no")),
            action: v
                .get("action")
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase(),
            cidr_block: v.get("cidr_block").as_str().unwrap_or_default().to_string(),
            ipv6_cidr_block: v
                .get("ipv6_cidr_block")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            from_port: if ports { number(v.get("from_port")) } else { 0 },
            to_port: if ports { number(v.get("to_port")) } else { 0 },
            icmp_type: if icmp { number(v.get("icmp_type")) } else { 0 },
            icmp_code: if icmp { number(v.get("icmp_code")) } else { 0 },
            protocol,
        }
    }

    fn from_aws(e: &NetworkAclEntry) -> Entry {
        let protocol = protocol(e.protocol().unwrap_or("-1"));
        let ports = has_ports(&protocol);
        let icmp = has_icmp(&protocol);
        let port = |f: fn(&PortRange) -> Option<i32>| {
            e.port_range().and_then(f).filter(|_| ports).unwrap_or(0) as i64
        };
        let code = |f: fn(&IcmpTypeCode) -> Option<i32>| {
            e.icmp_type_code().and_then(f).filter(|_| icmp).unwrap_or(0) as i64
        };
        Entry {
            rule_no: e.rule_number().unwrap_or(0) as i64,
            action: e
                .rule_action()
                .map(|a| a.as_str().to_ascii_lowercase())
                .unwrap_or_default(),
            cidr_block: e.cidr_block().unwrap_or_default().to_string(),
            ipv6_cidr_block: e.ipv6_cidr_block().unwrap_or_default().to_string(),
            from_port: port(|p| p.from()),
            to_port: port(|p| p.to()),
            icmp_type: code(|c| c.r#type()),
            icmp_code: code(|c| c.code()),
            protocol,
        }
    }

    /// As state records an entry the configuration does not have (drift, an import).
    fn to_value(&self) -> Value {
        let n = |v: i64| Value::Number(v as f64);
        let icmp = has_icmp(&self.protocol);
        let opt = |v: &str| {
            if v.is_empty() {
                Value::Null
            } else {
                Value::str(v)
            }
        };
        Value::Map(BTreeMap::from([
            ("rule_no".to_string(), n(self.rule_no)),
            ("action".to_string(), Value::str(&self.action)),
            ("protocol".to_string(), Value::str(&self.protocol)),
            ("cidr_block".to_string(), opt(&self.cidr_block)),
            ("ipv6_cidr_block".to_string(), opt(&self.ipv6_cidr_block)),
            ("from_port".to_string(), n(self.from_port)),
            ("to_port".to_string(), n(self.to_port)),
            (
                "icmp_type".to_string(),
                if icmp { n(self.icmp_type) } else { Value::Null },
            ),
            (
                "icmp_code".to_string(),
                if icmp { n(self.icmp_code) } else { Value::Null },
            ),
        ]))
    }
}

fn entries_of(v: &Value, block: &str) -> BTreeSet<Entry> {
    v.get(block)
        .as_list()
        .unwrap_or(&[])
        .iter()
        .map(Entry::from_value)
        .collect()
}

/// The cloud's entries as state records them: those the prior also has keep the prior's
/// spelling and order; the rest follow in rule order.
fn entries_value(cloud: &BTreeSet<Entry>, prior: &Value, block: &str) -> Value {
    let mut left = cloud.clone();
    let mut out = Vec::new();
    for p in prior.get(block).as_list().unwrap_or(&[]) {
        if left.remove(&Entry::from_value(p)) {
            out.push(p.clone());
        }
    }
    out.extend(left.iter().map(Entry::to_value));
    Value::List(out)
}

pub async fn create_network_acl(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let out = ec2
        .create_network_acl()
        .vpc_id(config.get("vpc_id").as_str().unwrap_or_default())
        .tag_specifications(tag_spec(ResourceType::NetworkAcl, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateNetworkAcl", e))?;
    let id = out
        .network_acl()
        .and_then(|a| a.network_acl_id())
        .ok_or_else(|| ProviderError::new("CreateNetworkAcl returned no id"))?
        .to_string();
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    // The ACL exists from here on; what follows is reported with its id.
    let empty = Value::Map(BTreeMap::new());
    sync_entries(ec2, &id, &empty, config).await?;
    move_subnets(ec2, &id, &empty, config).await?;
    read_network_acl(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("network ACL {id} vanished")))
}

/// Deletes the entries the cloud has and the configuration does not, then creates the
/// ones it lacks (an entry whose rule number is reused goes first). Entry lists the
/// configuration leaves out are not managed.
async fn sync_entries(ec2: &Client, id: &str, current: &Value, config: &Value) -> Result<()> {
    for (block, egress) in [("ingress", false), ("egress", true)] {
        if config.get(block).is_null() {
            continue;
        }
        let have = entries_of(current, block);
        let want = entries_of(config, block);
        for e in have.difference(&want) {
            match ec2
                .delete_network_acl_entry()
                .network_acl_id(id)
                .rule_number(e.rule_no as i32)
                .egress(egress)
                .send()
                .await
            {
                Ok(_) => {}
                Err(err) if err.code() == Some("InvalidNetworkAclEntry.NotFound") => {}
                Err(err) => return Err(sdk_error("DeleteNetworkAclEntry", err)),
            }
        }
        for e in want.difference(&have) {
            let opt = |v: &str| (!v.is_empty()).then(|| v.to_string());
            ec2.create_network_acl_entry()
                .network_acl_id(id)
                .rule_number(e.rule_no as i32)
                .egress(egress)
                .protocol(&e.protocol)
                .rule_action(RuleAction::from(e.action.as_str()))
                .set_cidr_block(opt(&e.cidr_block))
                .set_ipv6_cidr_block(opt(&e.ipv6_cidr_block))
                .set_port_range(has_ports(&e.protocol).then(|| {
                    PortRange::builder()
                        .from(e.from_port as i32)
                        .to(e.to_port as i32)
                        .build()
                }))
                .set_icmp_type_code(has_icmp(&e.protocol).then(|| {
                    IcmpTypeCode::builder()
                        .r#type(e.icmp_type as i32)
                        .code(e.icmp_code as i32)
                        .build()
                }))
                .send()
                .await
                .map_err(|err| sdk_error("CreateNetworkAclEntry", err))?;
        }
    }
    Ok(())
}

/// The association id of each of `subnets` (whichever ACL it is in), and the VPC's
/// default ACL, from one DescribeNetworkAcls call each.
async fn associations(
    ec2: &Client,
    vpc: &str,
    subnets: &[String],
) -> Result<(HashMap<String, String>, String)> {
    let mut assoc = HashMap::new();
    if !subnets.is_empty() {
        let out = ec2
            .describe_network_acls()
            .filters(filter_any("association.subnet-id", subnets))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeNetworkAcls", e))?;
        for a in out.network_acls().iter().flat_map(|a| a.associations()) {
            if let (Some(subnet), Some(id)) = (a.subnet_id(), a.network_acl_association_id())
                && subnets.iter().any(|s| s == subnet)
            {
                assoc.insert(subnet.to_string(), id.to_string());
            }
        }
    }
    let out = ec2
        .describe_network_acls()
        .filters(filter("vpc-id", vpc))
        .filters(filter("default", "true"))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeNetworkAcls", e))?;
    let default = out
        .network_acls()
        .first()
        .and_then(|a| a.network_acl_id())
        .ok_or_else(|| ProviderError::new(format!("VPC {vpc} has no default network ACL")))?
        .to_string();
    Ok((assoc, default))
}

async fn reassociate(ec2: &Client, association: &str, acl: &str) -> Result<()> {
    ec2.replace_network_acl_association()
        .association_id(association)
        .network_acl_id(acl)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("ReplaceNetworkAclAssociation", e))
}

/// Moves subnets joining the ACL into it and subnets leaving it back to the VPC's default
/// ACL. Left out of the configuration, `subnet_ids` is not managed.
async fn move_subnets(ec2: &Client, id: &str, current: &Value, config: &Value) -> Result<()> {
    if config.get("subnet_ids").is_null() {
        return Ok(());
    }
    let have = current.get("subnet_ids").string_set();
    let want = config.get("subnet_ids").string_set();
    let moving: Vec<String> = have.symmetric_difference(&want).cloned().collect();
    if moving.is_empty() {
        return Ok(());
    }
    let vpc = config.get("vpc_id").as_str().unwrap_or_default();
    let (assoc, default) = associations(ec2, vpc, &moving).await?;
    for subnet in &moving {
        let target = if want.contains(subnet) { id } else { &default };
        match assoc.get(subnet) {
            Some(a) => reassociate(ec2, a, target).await?,
            // A subnet that left and no longer exists has nothing to move.
            None if !want.contains(subnet) => {}
            None => {
                return Err(ProviderError::new(format!(
                    "subnet {subnet} has no network ACL association to move (is it in VPC {vpc}?)"
                )));
            }
        }
    }
    Ok(())
}

pub async fn read_network_acl(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_network_acls(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads network ACLs with one DescribeNetworkAcls call per page of ids.
pub async fn read_network_acls(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_network_acls()
            .filters(filter_any("network-acl-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeNetworkAcls",
            pages,
            |p| p.network_acls(),
            |a| Some((a.network_acl_id()?.to_string(), a.clone())),
        )
    })
    .await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| found.get(id).map(|a| acl_value(ec2, prior, id, a)))
        .collect())
}

fn acl_value(ec2: &Client, prior: &Value, id: &str, acl: &NetworkAcl) -> Value {
    let tags = tags_of(acl.tags());
    let owner = acl.owner_id().unwrap_or_default();
    let entries = |egress: bool| -> BTreeSet<Entry> {
        acl.entries()
            .iter()
            .filter(|e| e.egress() == Some(egress))
            .map(Entry::from_aws)
            .filter(|e| e.rule_no != DEFAULT_RULE)
            .collect()
    };
    let subnets: BTreeSet<&str> = acl
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id())
        .collect();
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(ec2_arn(ec2, owner, "network-acl", id)),
        ),
        ("owner_id".to_string(), Value::str(owner)),
        ("vpc_id".to_string(), s(acl.vpc_id())),
        (
            "subnet_ids".to_string(),
            Value::List(subnets.into_iter().map(Value::str).collect()),
        ),
        (
            "ingress".to_string(),
            entries_value(&entries(false), prior, "ingress"),
        ),
        (
            "egress".to_string(),
            entries_value(&entries(true), prior, "egress"),
        ),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

pub async fn update_network_acl(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    sync_entries(ec2, &id, prior, config).await?;
    move_subnets(ec2, &id, prior, config).await?;
    retag(ec2, &id, prior, config).await?;
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_network_acl(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("network ACL {id} no longer exists")))
}

/// Sends the ACL's subnets back to their VPC's default ACL, then deletes it (waiting while
/// AWS still counts an association).
pub async fn delete_network_acl(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    let Some(current) = read_network_acl(ec2, prior).await? else {
        return Ok(());
    };
    let mut leaving = current.clone();
    if let Value::Map(m) = &mut leaving {
        m.insert("subnet_ids".to_string(), Value::List(vec![]));
    }
    move_subnets(ec2, id, &current, &leaving).await?;
    wait::while_refused(DRAINING, DRAIN, || async {
        match ec2.delete_network_acl().network_acl_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("InvalidNetworkAclID.NotFound") => Ok(()),
            Err(e) => Err(sdk_error("DeleteNetworkAcl", e)),
        }
    })
    .await
}

// Schema: Terraform AWS provider (v5) names.

const ACL_ENTRY: &[Attr] = &[
    Attr::required("rule_no", Ty::Number),
    Attr::required("action", Ty::String),
    Attr::required("protocol", Ty::String),
    Attr::required("from_port", Ty::Number),
    Attr::required("to_port", Ty::Number),
    Attr::optional("cidr_block", Ty::String),
    Attr::optional("ipv6_cidr_block", Ty::String),
    Attr::optional("icmp_type", Ty::Number),
    Attr::optional("icmp_code", Ty::Number),
];

pub static AWS_NETWORK_ACL: ResourceSchema = ResourceSchema {
    type_name: "aws_network_acl",
    attrs: &[
        Attr::required("vpc_id", Ty::String).force_new(),
        // Subnets move in place (ReplaceNetworkAclAssociation).
        Attr::optional_computed("subnet_ids", Ty::StringSet),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[
        BlockType {
            name: "ingress",
            attrs: ACL_ENTRY,
            blocks: &[],
            min_items: 0,
            max_items: None,
            force_new: false,
            computed: true,
        },
        BlockType {
            name: "egress",
            attrs: ACL_ENTRY,
            blocks: &[],
            min_items: 0,
            max_items: None,
            force_new: false,
            computed: true,
        },
    ],
    taggable: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn entries_compare_by_meaning_not_spelling() {
        let n = |v: f64| Value::Number(v);
        let written = entry(&[
            ("rule_no", n(100.0)),
            ("action", Value::str("Allow")),
            ("protocol", Value::str("tcp")),
            ("cidr_block", Value::str("10.0.0.0/16")),
            ("from_port", n(443.0)),
            ("to_port", n(443.0)),
            ("icmp_type", n(3.0)),
        ]);
        let aws = NetworkAclEntry::builder()
            .rule_number(100)
            .rule_action(RuleAction::Allow)
            .protocol("6")
            .cidr_block("10.0.0.0/16")
            .port_range(PortRange::builder().from(443).to(443).build())
            .build();
        assert_eq!(Entry::from_value(&written), Entry::from_aws(&aws));
        // All protocols: ports mean nothing.
        let all = entry(&[
            ("rule_no", n(200.0)),
            ("action", Value::str("deny")),
            ("protocol", Value::str("-1")),
            ("cidr_block", Value::str("0.0.0.0/0")),
            ("from_port", n(0.0)),
            ("to_port", n(65535.0)),
        ]);
        let aws_all = NetworkAclEntry::builder()
            .rule_number(200)
            .rule_action(RuleAction::Deny)
            .protocol("-1")
            .cidr_block("0.0.0.0/0")
            .build();
        assert_eq!(Entry::from_value(&all), Entry::from_aws(&aws_all));
    }

    #[test]
    fn state_keeps_the_prior_spelling_of_unchanged_entries() {
        let n = |v: f64| Value::Number(v);
        let written = entry(&[
            ("rule_no", n(100.0)),
            ("action", Value::str("allow")),
            ("protocol", Value::str("tcp")),
            ("cidr_block", Value::str("10.0.0.0/16")),
            ("from_port", n(443.0)),
            ("to_port", n(443.0)),
        ]);
        let prior = entry(&[("ingress", Value::List(vec![written.clone()]))]);
        let extra = Entry {
            rule_no: 90,
            action: "deny".into(),
            protocol: "-1".into(),
            cidr_block: "0.0.0.0/0".into(),
            ipv6_cidr_block: String::new(),
            from_port: 0,
            to_port: 0,
            icmp_type: 0,
            icmp_code: 0,
        };
        let cloud = BTreeSet::from([Entry::from_value(&written), extra.clone()]);
        let v = entries_value(&cloud, &prior, "ingress");
        assert_eq!(v, Value::List(vec![written, extra.to_value()]));
    }
}
