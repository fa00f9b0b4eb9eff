//! `aws_security_group` with inline `ingress` and `egress` rules.
//!
//! Rules are kept the way the Terraform AWS provider keeps them: one rule per
//! (protocol, from_port, to_port) with its CIDR blocks, prefix lists and source groups, and
//! compared as sets, never by the order AWS lists them in. As in Terraform, the egress rule
//! AWS adds to every new group (all traffic to 0.0.0.0/0) is removed unless the
//! configuration lists it: a group keel creates allows exactly what the stack says.
//!
//! `ingress` and `egress` are managed only when the configuration has them (Terraform's
//! attributes-as-blocks): a group with no `ingress` blocks leaves its ingress rules alone,
//! so rules added by `aws_vpc_security_group_ingress_rule` resources survive, and
//! `ingress = []` revokes them all. Terraform warns that inline rules and rule resources
//! on one group fight; keel goes one step further and leaves rules that carry a
//! `keel:address` tag (those of rule resources) out of the group's inline rules, so the
//! group never revokes them and they never show up as drift on the group.

use super::ec2::{by_ids, filter_any, ids_of, merge_config, retag, tag_spec, tags_of};
use super::pages::from_pages;
use super::security_group_rule::{self as rule, Direction};
use super::wait::{self, Patience};
use super::{AwsProvider, TAGS, TAGS_ALL, unsupported};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, BlockType, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup, SecurityGroupRule,
    UserIdGroupPair,
};
use std::collections::{BTreeMap, BTreeSet};

type Result<T> = std::result::Result<T, ProviderError>;

/// One rule in canonical form, for comparing configuration with the cloud.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from_port: i64,
    to_port: i64,
    cidr_blocks: BTreeSet<String>,
    ipv6_cidr_blocks: BTreeSet<String>,
    prefix_list_ids: BTreeSet<String>,
    security_groups: BTreeSet<String>,
    self_: bool,
    description: String,
}

/// AWS spells "all protocols" -1 and answers with protocol numbers for the named ones it
/// knows only by number; the names users write map to what AWS returns.
fn protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".to_string(),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        other => other.to_string(),
    }
}

fn number(v: &Value) -> i64 {
    match v {
        Value::Number(n) => *n as i64,
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Rule {
    fn from_value(v: &Value) -> Rule {
        let protocol = protocol(v.get("protocol").as_str().unwrap_or("-1"));
        let all = protocol == "-1";
        Rule {
            from_port: if all { 0 } else { number(v.get("from_port")) },
            to_port: if all { 0 } else { number(v.get("to_port")) },
            protocol,
            cidr_blocks: v.get("cidr_blocks").string_set(),
            ipv6_cidr_blocks: v.get("ipv6_cidr_blocks").string_set(),
            prefix_list_ids: v.get("prefix_list_ids").string_set(),
            security_groups: v.get("security_groups").string_set(),
            self_: v.get("self").as_bool().unwrap_or(false),
            description: v.get("description").as_str().unwrap_or("").to_string(),
        }
    }

    fn from_permission(p: &IpPermission, own_id: &str) -> Rule {
        let protocol = protocol(p.ip_protocol().unwrap_or("-1"));
        let all = protocol == "-1";
        let mut description = None;
        let mut note = |d: Option<&str>| {
            if description.is_none() {
                description = d.map(str::to_string);
            }
        };
        let cidr_blocks = p
            .ip_ranges()
            .iter()
            .filter_map(|r| {
                note(r.description());
                r.cidr_ip().map(str::to_string)
            })
            .collect();
        let ipv6_cidr_blocks = p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| {
                note(r.description());
                r.cidr_ipv6().map(str::to_string)
            })
            .collect();
        let prefix_list_ids = p
            .prefix_list_ids()
            .iter()
            .filter_map(|r| {
                note(r.description());
                r.prefix_list_id().map(str::to_string)
            })
            .collect();
        let mut self_ = false;
        let mut security_groups = BTreeSet::new();
        for g in p.user_id_group_pairs() {
            note(g.description());
            match g.group_id() {
                Some(id) if id == own_id => self_ = true,
                Some(id) => {
                    security_groups.insert(id.to_string());
                }
                None => {}
            }
        }
        Rule {
            from_port: if all {
                0
            } else {
                p.from_port().unwrap_or(0) as i64
            },
            to_port: if all {
                0
            } else {
                p.to_port().unwrap_or(0) as i64
            },
            protocol,
            cidr_blocks,
            ipv6_cidr_blocks,
            prefix_list_ids,
            security_groups,
            self_,
            description: description.unwrap_or_default(),
        }
    }

    fn permission(&self, own_id: &str) -> IpPermission {
        let desc = (!self.description.is_empty()).then(|| self.description.clone());
        let mut groups: Vec<UserIdGroupPair> = self
            .security_groups
            .iter()
            .map(|g| {
                UserIdGroupPair::builder()
                    .group_id(g)
                    .set_description(desc.clone())
                    .build()
            })
            .collect();
        if self.self_ {
            groups.push(
                UserIdGroupPair::builder()
                    .group_id(own_id)
                    .set_description(desc.clone())
                    .build(),
            );
        }
        let all = self.protocol == "-1";
        IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port((!all).then_some(self.from_port as i32))
            .set_to_port((!all).then_some(self.to_port as i32))
            .set_ip_ranges(Some(
                self.cidr_blocks
                    .iter()
                    .map(|c| {
                        IpRange::builder()
                            .cidr_ip(c)
                            .set_description(desc.clone())
                            .build()
                    })
                    .collect(),
            ))
            .set_ipv6_ranges(Some(
                self.ipv6_cidr_blocks
                    .iter()
                    .map(|c| {
                        Ipv6Range::builder()
                            .cidr_ipv6(c)
                            .set_description(desc.clone())
                            .build()
                    })
                    .collect(),
            ))
            .set_prefix_list_ids(Some(
                self.prefix_list_ids
                    .iter()
                    .map(|p| {
                        PrefixListId::builder()
                            .prefix_list_id(p)
                            .set_description(desc.clone())
                            .build()
                    })
                    .collect(),
            ))
            .set_user_id_group_pairs(Some(groups))
            .build()
    }
}

fn rules_of(v: &Value, block: &str) -> Vec<Rule> {
    let mut rules: Vec<Rule> = v
        .get(block)
        .as_list()
        .unwrap_or(&[])
        .iter()
        .map(Rule::from_value)
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

/// The cloud's rules as state records them: rules the prior also has keep the prior's
/// value (its spelling of the protocol, its order); the rest follow in canonical order.
fn rules_value(cloud: &[Rule], prior: &Value, block: &str) -> Value {
    let mut left: Vec<Rule> = cloud.to_vec();
    let mut out = Vec::new();
    for p in prior.get(block).as_list().unwrap_or(&[]) {
        if let Some(i) = left.iter().position(|r| *r == Rule::from_value(p)) {
            left.remove(i);
            out.push(p.clone());
        }
    }
    left.sort();
    for r in left {
        let list = |s: &BTreeSet<String>| Value::List(s.iter().map(Value::str).collect());
        out.push(Value::Map(BTreeMap::from([
            ("protocol".to_string(), Value::str(&r.protocol)),
            ("from_port".to_string(), Value::Number(r.from_port as f64)),
            ("to_port".to_string(), Value::Number(r.to_port as f64)),
            ("cidr_blocks".to_string(), list(&r.cidr_blocks)),
            ("ipv6_cidr_blocks".to_string(), list(&r.ipv6_cidr_blocks)),
            ("prefix_list_ids".to_string(), list(&r.prefix_list_ids)),
            ("security_groups".to_string(), list(&r.security_groups)),
            ("self".to_string(), Value::Bool(r.self_)),
            (
                "description".to_string(),
                if r.description.is_empty() {
                    Value::Null
                } else {
                    Value::str(&r.description)
                },
            ),
        ])));
    }
    Value::List(out)
}

pub async fn create_security_group(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let name = config
        .get("name")
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("keel-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]));
    let out = ec2
        .create_security_group()
        .group_name(&name)
        .description(
            config
                .get("description")
                .as_str()
                .unwrap_or("Managed by keel"),
        )
        .set_vpc_id(config.get("vpc_id").as_str().map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::SecurityGroup, &tags))
        .send()
        .await
        .map_err(|e| sdk_error("CreateSecurityGroup", e))?;
    let id = out
        .group_id()
        .ok_or_else(|| ProviderError::new("CreateSecurityGroup returned no group id"))?
        .to_string();
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    // The group exists from here on; the read below sees AWS's default egress rule, which
    // the rule sync removes unless the configuration has it (even with no egress blocks,
    // as Terraform does).
    let created = read_security_group(ec2, &merge_config(&known, &Value::Null))
        .await?
        .ok_or_else(|| {
            ProviderError::new(format!(
                "security group {id} vanished right after it was created"
            ))
        })?;
    sync_rules(ec2, &id, &created, &managing_all(config)).await?;
    read_security_group(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("security group {id} no longer exists")))
}

/// `config` with both rule lists present, empty where it has none: every rule managed.
fn managing_all(config: &Value) -> Value {
    let mut map = config.as_map().cloned().unwrap_or_default();
    for block in ["ingress", "egress"] {
        if map.get(block).is_none_or(Value::is_null) {
            map.insert(block.to_string(), Value::List(vec![]));
        }
    }
    Value::Map(map)
}

/// Revokes the rules the cloud has and the configuration does not, then authorizes the
/// ones it lacks. A rule list the configuration leaves out is not managed.
async fn sync_rules(ec2: &Client, id: &str, current: &Value, config: &Value) -> Result<()> {
    for block in ["ingress", "egress"] {
        if config.get(block).is_null() {
            continue;
        }
        let have = rules_of(current, block);
        let want = rules_of(config, block);
        let revoke: Vec<IpPermission> = have
            .iter()
            .filter(|r| !want.contains(r))
            .map(|r| r.permission(id))
            .collect();
        let add: Vec<IpPermission> = want
            .iter()
            .filter(|r| !have.contains(r))
            .map(|r| r.permission(id))
            .collect();
        if !revoke.is_empty() {
            if block == "ingress" {
                ec2.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("RevokeSecurityGroupIngress", e))?;
            } else {
                ec2.revoke_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("RevokeSecurityGroupEgress", e))?;
            }
        }
        if !add.is_empty() {
            if block == "ingress" {
                ec2.authorize_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("AuthorizeSecurityGroupIngress", e))?;
            } else {
                ec2.authorize_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("AuthorizeSecurityGroupEgress", e))?;
            }
        }
    }
    Ok(())
}

pub async fn read_security_group(ec2: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_security_groups(ec2, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Reads security groups in pages of ids: one DescribeSecurityGroups call, and one
/// DescribeSecurityGroupRules call for the rules of the page's groups that rule resources
/// own (tagged `keel:address`), which the groups' inline rules leave out.
pub async fn read_security_groups(ec2: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let found = by_ids(&ids, |chunk| async move {
        let pages = ec2
            .describe_security_groups()
            .filters(filter_any("group-id", &chunk))
            .into_paginator()
            .send();
        let groups = from_pages(
            "DescribeSecurityGroups",
            pages,
            |p| p.security_groups(),
            |g| Some(g.clone()),
        )
        .await?;
        let live: Vec<String> = groups
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        let mut owned = rule::owned_rules(ec2, &live).await?;
        Ok(groups
            .into_iter()
            .filter_map(|g| {
                let id = g.group_id()?.to_string();
                let mine = owned.remove(&id).unwrap_or_default();
                Some((id, (g, mine)))
            })
            .collect())
    })
    .await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| {
            found
                .get(id)
                .map(|(g, owned)| group_value(ec2, prior, id, g, owned))
        })
        .collect())
}

fn group_value(
    ec2: &Client,
    prior: &Value,
    id: &str,
    g: &SecurityGroup,
    owned: &[SecurityGroupRule],
) -> Value {
    let tags = tags_of(g.tags());
    let s = |v: Option<&str>| v.map(Value::str).unwrap_or(Value::Null);
    let owner = g.owner_id().unwrap_or_default();
    let canonical = |perms: &[IpPermission], egress: bool| {
        let mine: Vec<&SecurityGroupRule> = owned
            .iter()
            .filter(|r| r.is_egress() == Some(egress))
            .collect();
        let mut rules: Vec<Rule> = rule::without_owned(perms, &mine)
            .iter()
            .map(|p| Rule::from_permission(p, id))
            .collect();
        rules.sort();
        rules
    };
    let ingress = canonical(g.ip_permissions(), false);
    let egress = canonical(g.ip_permissions_egress(), true);
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(super::ec2::ec2_arn(ec2, owner, "security-group", id)),
        ),
        ("name".to_string(), s(g.group_name())),
        ("description".to_string(), s(g.description())),
        ("vpc_id".to_string(), s(g.vpc_id())),
        ("owner_id".to_string(), Value::str(owner)),
        (
            "revoke_rules_on_delete".to_string(),
            prior.get("revoke_rules_on_delete").clone(),
        ),
        (
            "ingress".to_string(),
            rules_value(&ingress, prior, "ingress"),
        ),
        ("egress".to_string(), rules_value(&egress, prior, "egress")),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

pub async fn update_security_group(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    sync_rules(ec2, &id, prior, config).await?;
    retag(ec2, &id, prior, config).await?;
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_security_group(ec2, &merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("security group {id} no longer exists")))
}

/// Deletes the group. A group still attached to network interfaces (an instance being
/// terminated) refuses with DependencyViolation for a while; keel waits up to two minutes.
pub async fn delete_security_group(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    if prior.get("revoke_rules_on_delete").as_bool() == Some(true) {
        sync_rules(ec2, id, prior, &managing_all(&Value::Null)).await?;
    }
    wait::while_refused(&["DependencyViolation"], Patience::minutes(2), || async {
        match ec2.delete_security_group().group_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("InvalidGroup.NotFound") => Ok(()),
            Err(e) => Err(sdk_error("DeleteSecurityGroup", e)),
        }
    })
    .await
}

// Schemas and routing: Terraform AWS provider (v5) names.

const SG_RULE: &[Attr] = &[
    Attr::required("from_port", Ty::Number),
    Attr::required("to_port", Ty::Number),
    Attr::required("protocol", Ty::String),
    Attr::optional("cidr_blocks", Ty::StringSet),
    Attr::optional("ipv6_cidr_blocks", Ty::StringSet),
    Attr::optional("prefix_list_ids", Ty::StringSet),
    Attr::optional("security_groups", Ty::StringSet),
    Attr::optional("self", Ty::Bool).default(Default::Bool(false)),
    Attr::optional("description", Ty::String),
];

pub static AWS_SECURITY_GROUP: ResourceSchema = ResourceSchema {
    type_name: "aws_security_group",
    attrs: &[
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional("description", Ty::String)
            .force_new()
            .default(Default::Str("Managed by keel")),
        Attr::optional_computed("vpc_id", Ty::String).force_new(),
        Attr::optional("revoke_rules_on_delete", Ty::Bool).default(Default::Bool(false)),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[
        BlockType {
            name: "ingress",
            attrs: SG_RULE,
            blocks: &[],
            min_items: 0,
            max_items: None,
            force_new: false,
            computed: true,
        },
        BlockType {
            name: "egress",
            attrs: SG_RULE,
            blocks: &[],
            min_items: 0,
            max_items: None,
            force_new: false,
            computed: true,
        },
    ],
    taggable: true,
};

pub(super) static SCHEMAS: &[&ResourceSchema] = &[
    &AWS_SECURITY_GROUP,
    &rule::AWS_VPC_SECURITY_GROUP_INGRESS_RULE,
    &rule::AWS_VPC_SECURITY_GROUP_EGRESS_RULE,
];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_security_group" => create_security_group(&p.ec2, config).await,
        rule_type @ ("aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule") => {
            rule::create_rule(&p.ec2, Direction::of(rule_type), config).await
        }
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    match type_ {
        "aws_security_group" => read_security_groups(&p.ec2, priors).await,
        rule_type @ ("aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule") => {
            rule::read_rules(&p.ec2, Direction::of(rule_type), priors).await
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
        "aws_security_group" => update_security_group(&p.ec2, prior, config).await,
        rule_type @ ("aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule") => {
            rule::update_rule(&p.ec2, Direction::of(rule_type), prior, config).await
        }
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_security_group" => delete_security_group(&p.ec2, prior).await,
        rule_type @ ("aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule") => {
            rule::delete_rule(&p.ec2, Direction::of(rule_type), prior).await
        }
        other => Err(unsupported(other)),
    }
}
