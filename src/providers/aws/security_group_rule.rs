//! `aws_vpc_security_group_ingress_rule` and `aws_vpc_security_group_egress_rule`: one
//! security group rule each (one source: an IPv4 or IPv6 CIDR, a prefix list or another
//! group), with its own id (`sgr-...`) and tags. The rule's ports, protocol, source and
//! description change in place (ModifySecurityGroupRules); only the group forces a new
//! rule. Changing the *kind* of source (a CIDR to a prefix list, say) cannot be modified
//! in AWS, so the update revokes the rule and authorizes a new one, whose id replaces the
//! old one. Read in batches: one DescribeSecurityGroupRules call per page of ids.
//!
//! Rules carry keel's ownership tags, which is how an `aws_security_group`'s own read
//! tells them from its inline rules and leaves them alone.

use super::ec2::{by_ids, ec2_arn, filter_any, ids_of, merge_config, retag, tag_spec, tags_of};
use super::pages::from_pages;
use super::{TAGS, TAGS_ALL};
use super::{prior_id, sdk_error, string_map, tags_value, user_tags};
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroupRule,
    SecurityGroupRuleRequest, SecurityGroupRuleUpdate, UserIdGroupPair,
};
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

/// Ingress or egress: the two types differ only in direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn of(type_: &str) -> Direction {
        if type_ == "aws_vpc_security_group_egress_rule" {
            Direction::Egress
        } else {
            Direction::Ingress
        }
    }
}

/// The four ways to name a rule's source (or destination); exactly one is set.
const SOURCES: [&str; 4] = [
    "cidr_ipv4",
    "cidr_ipv6",
    "prefix_list_id",
    "referenced_security_group_id",
];

fn s(v: Option<&str>) -> Value {
    v.filter(|v| !v.is_empty())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

fn set<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config.get(key).as_str().filter(|v| !v.is_empty())
}

fn port(config: &Value, key: &str) -> Option<i32> {
    match config.get(key) {
        Value::Number(n) => Some(*n as i32),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// AWS's spelling of a protocol: `-1` for all, names for TCP, UDP and ICMP.
fn protocol(p: &str) -> String {
    match p.trim().to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".to_string(),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        "58" => "icmpv6".to_string(),
        other => other.to_string(),
    }
}

/// Which source attribute is set.
fn source_kind(config: &Value) -> Result<&'static str> {
    let named: Vec<&str> = SOURCES
        .iter()
        .copied()
        .filter(|k| set(config, k).is_some())
        .collect();
    match named.as_slice() {
        [one] => Ok(one),
        _ => Err(ProviderError::new(format!(
            "a security group rule needs exactly one of {} (it has {})",
            SOURCES.join(", "),
            if named.is_empty() {
                "none".to_string()
            } else {
                named.join(" and ")
            }
        ))),
    }
}

fn permission(config: &Value) -> IpPermission {
    let desc = set(config, "description").map(str::to_string);
    let proto = protocol(config.get("ip_protocol").as_str().unwrap_or("-1"));
    let all = proto == "-1";
    let mut p = IpPermission::builder()
        .ip_protocol(&proto)
        .set_from_port(if all { None } else { port(config, "from_port") })
        .set_to_port(if all { None } else { port(config, "to_port") });
    if let Some(c) = set(config, "cidr_ipv4") {
        p = p.ip_ranges(IpRange::builder().cidr_ip(c).set_description(desc).build());
    } else if let Some(c) = set(config, "cidr_ipv6") {
        p = p.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(c)
                .set_description(desc)
                .build(),
        );
    } else if let Some(c) = set(config, "prefix_list_id") {
        p = p.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(c)
                .set_description(desc)
                .build(),
        );
    } else if let Some(c) = set(config, "referenced_security_group_id") {
        p = p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(c)
                .set_description(desc)
                .build(),
        );
    }
    p.build()
}

fn with_id(id: &str, config: &Value) -> Value {
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    merge_config(&known, config)
}

async fn authorize(ec2: &Client, dir: Direction, config: &Value) -> Result<String> {
    source_kind(config)?;
    let group = config.get("security_group_id").as_str().unwrap_or_default();
    let tags = tag_spec(
        ResourceType::SecurityGroupRule,
        &string_map(config, "tags_all"),
    );
    let rules = match dir {
        Direction::Ingress => ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(permission(config))
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|e| sdk_error("AuthorizeSecurityGroupIngress", e))?
            .security_group_rules
            .unwrap_or_default(),
        Direction::Egress => ec2
            .authorize_security_group_egress()
            .group_id(group)
            .ip_permissions(permission(config))
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|e| sdk_error("AuthorizeSecurityGroupEgress", e))?
            .security_group_rules
            .unwrap_or_default(),
    };
    rules
        .first()
        .and_then(|r| r.security_group_rule_id())
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::new(format!(
                "AWS returned no rule id for the new rule in {group}"
            ))
        })
}

pub async fn create_rule(ec2: &Client, dir: Direction, config: &Value) -> Result<Value> {
    let id = authorize(ec2, dir, config).await?;
    read_rules(ec2, dir, &[with_id(&id, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("security group rule {id} vanished")))
}

/// Reads rules with one DescribeSecurityGroupRules call per page of ids. A rule of the
/// other direction does not count (as Terraform's read).
pub async fn read_rules(
    ec2: &Client,
    dir: Direction,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let ids = ids_of(priors)?;
    let egress = dir == Direction::Egress;
    let found = by_ids(&ids, |chunk| {
        let pages = ec2
            .describe_security_group_rules()
            .filters(filter_any("security-group-rule-id", &chunk))
            .into_paginator()
            .send();
        from_pages(
            "DescribeSecurityGroupRules",
            pages,
            |p| p.security_group_rules(),
            move |r| {
                let id = r.security_group_rule_id()?;
                (r.is_egress() == Some(egress)).then(|| (id.to_string(), r.clone()))
            },
        )
    })
    .await?;
    Ok(priors
        .iter()
        .zip(&ids)
        .map(|(prior, id)| found.get(id).map(|r| rule_value(ec2, prior, id, r)))
        .collect())
}

fn rule_value(ec2: &Client, prior: &Value, id: &str, r: &SecurityGroupRule) -> Value {
    let tags = tags_of(r.tags());
    let owner = r.group_owner_id().unwrap_or_default();
    let cloud_proto = r.ip_protocol().unwrap_or("-1");
    // Keep the configured spelling ("6", "all") when it means what AWS holds.
    let ip_protocol = match prior.get("ip_protocol").as_str() {
        Some(p) if protocol(p) == protocol(cloud_proto) => Value::str(p),
        _ => Value::str(cloud_proto),
    };
    // AWS answers -1 for "all ports"; left out of the configuration, that stays null.
    let port = |v: Option<i32>, key: &str| match v {
        Some(-1) if prior.get(key).is_null() => Value::Null,
        Some(n) => Value::Number(n as f64),
        None => Value::Null,
    };
    Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(id)),
        ("security_group_rule_id".to_string(), Value::str(id)),
        (
            "arn".to_string(),
            Value::str(
                r.security_group_rule_arn()
                    .map(str::to_string)
                    .unwrap_or_else(|| ec2_arn(ec2, owner, "security-group-rule", id)),
            ),
        ),
        ("security_group_id".to_string(), s(r.group_id())),
        ("ip_protocol".to_string(), ip_protocol),
        ("from_port".to_string(), port(r.from_port(), "from_port")),
        ("to_port".to_string(), port(r.to_port(), "to_port")),
        ("cidr_ipv4".to_string(), s(r.cidr_ipv4())),
        ("cidr_ipv6".to_string(), s(r.cidr_ipv6())),
        ("prefix_list_id".to_string(), s(r.prefix_list_id())),
        (
            "referenced_security_group_id".to_string(),
            s(r.referenced_group_info().and_then(|g| g.group_id())),
        ),
        ("description".to_string(), s(r.description())),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]))
}

/// Ports, protocol, source and description in place with ModifySecurityGroupRules; a new
/// kind of source by revoking and authorizing again (a new rule id); tags in place.
pub async fn update_rule(
    ec2: &Client,
    dir: Direction,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    let mut id = prior_id(prior)?.to_string();
    let group = config.get("security_group_id").as_str().unwrap_or_default();
    let kind = source_kind(config)?;
    let fields = [
        "ip_protocol",
        "from_port",
        "to_port",
        "description",
        "cidr_ipv4",
        "cidr_ipv6",
        "prefix_list_id",
        "referenced_security_group_id",
    ];
    let differs = |k: &&str| match k {
        &"ip_protocol" => {
            protocol(config.get(k).as_str().unwrap_or("-1"))
                != protocol(prior.get(k).as_str().unwrap_or("-1"))
        }
        &"from_port" | &"to_port" => port(config, k) != port(prior, k),
        k => set(config, k) != set(prior, k),
    };
    if source_kind(prior).ok() != Some(kind) {
        revoke(ec2, dir, group, &id).await?;
        id = authorize(ec2, dir, config).await?;
    } else if fields.iter().any(differs) {
        let all = protocol(config.get("ip_protocol").as_str().unwrap_or("-1")) == "-1";
        let request = SecurityGroupRuleRequest::builder()
            .ip_protocol(protocol(config.get("ip_protocol").as_str().unwrap_or("-1")))
            .set_from_port(if all {
                Some(-1)
            } else {
                port(config, "from_port")
            })
            .set_to_port(if all {
                Some(-1)
            } else {
                port(config, "to_port")
            })
            .set_cidr_ipv4(set(config, "cidr_ipv4").map(str::to_string))
            .set_cidr_ipv6(set(config, "cidr_ipv6").map(str::to_string))
            .set_prefix_list_id(set(config, "prefix_list_id").map(str::to_string))
            .set_referenced_group_id(
                set(config, "referenced_security_group_id").map(str::to_string),
            )
            .set_description(set(config, "description").map(str::to_string))
            .build();
        ec2.modify_security_group_rules()
            .group_id(group)
            .security_group_rules(
                SecurityGroupRuleUpdate::builder()
                    .security_group_rule_id(&id)
                    .security_group_rule(request)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("ModifySecurityGroupRules", e))?;
    }
    // A rule authorized again above already carries the configured tags.
    if id == prior_id(prior)? {
        retag(ec2, &id, prior, config).await?;
    }
    read_rules(ec2, dir, &[with_id(&id, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("security group rule {id} no longer exists")))
}

async fn revoke(ec2: &Client, dir: Direction, group: &str, id: &str) -> Result<()> {
    let gone = |code: Option<&str>| {
        matches!(
            code,
            Some(
                "InvalidSecurityGroupRuleId.NotFound"
                    | "InvalidGroup.NotFound"
                    | "InvalidPermission.NotFound"
            )
        )
    };
    match dir {
        Direction::Ingress => match ec2
            .revoke_security_group_ingress()
            .group_id(group)
            .security_group_rule_ids(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) => Err(sdk_error("RevokeSecurityGroupIngress", e)),
        },
        Direction::Egress => match ec2
            .revoke_security_group_egress()
            .group_id(group)
            .security_group_rule_ids(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) => Err(sdk_error("RevokeSecurityGroupEgress", e)),
        },
    }
}

pub async fn delete_rule(ec2: &Client, dir: Direction, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    let group = prior.get("security_group_id").as_str().unwrap_or_default();
    revoke(ec2, dir, group, id).await
}

/// The ownership tag keel puts on every taggable resource (`eval`'s `TAG_ADDRESS`): on a
/// security group rule it marks one that a rule resource owns.
const TAG_ADDRESS: &str = "keel:address";

/// The rules of `groups` that rule resources own (they carry a `keel:address` tag), by
/// group id: one DescribeSecurityGroupRules call for a page of groups. The tag is checked
/// here: the API documents only `tag:<key>=<value>` filters, not one for a key alone.
pub(super) async fn owned_rules(
    ec2: &Client,
    groups: &[String],
) -> Result<HashMap<String, Vec<SecurityGroupRule>>> {
    let mut owned: HashMap<String, Vec<SecurityGroupRule>> = HashMap::new();
    if groups.is_empty() {
        return Ok(owned);
    }
    let pages = ec2
        .describe_security_group_rules()
        .filters(filter_any("group-id", groups))
        .into_paginator()
        .send();
    let rules = from_pages(
        "DescribeSecurityGroupRules",
        pages,
        |p| p.security_group_rules(),
        |r| {
            let tagged = r.tags().iter().any(|t| t.key() == Some(TAG_ADDRESS));
            Some((r.group_id().filter(|_| tagged)?.to_string(), r.clone()))
        },
    )
    .await?;
    for (group, rule) in rules {
        owned.entry(group).or_default().push(rule);
    }
    Ok(owned)
}

/// `perms` without the sources that rule resources own.
pub(super) fn without_owned(
    perms: &[IpPermission],
    owned: &[&SecurityGroupRule],
) -> Vec<IpPermission> {
    perms
        .iter()
        .filter_map(|p| {
            let proto = protocol(p.ip_protocol().unwrap_or("-1"));
            let mine: Vec<&SecurityGroupRule> = owned
                .iter()
                .copied()
                .filter(|r| {
                    protocol(r.ip_protocol().unwrap_or("-1")) == proto
                        && (proto == "-1"
                            || (r.from_port() == p.from_port() && r.to_port() == p.to_port()))
                })
                .collect();
            if mine.is_empty() {
                return Some(p.clone());
            }
            let ip_ranges: Vec<IpRange> = p
                .ip_ranges()
                .iter()
                .filter(|x| {
                    !mine
                        .iter()
                        .any(|r| r.cidr_ipv4().is_some_and(|c| Some(c) == x.cidr_ip()))
                })
                .cloned()
                .collect();
            let ipv6_ranges: Vec<Ipv6Range> = p
                .ipv6_ranges()
                .iter()
                .filter(|x| {
                    !mine
                        .iter()
                        .any(|r| r.cidr_ipv6().is_some_and(|c| Some(c) == x.cidr_ipv6()))
                })
                .cloned()
                .collect();
            let prefix_lists: Vec<PrefixListId> = p
                .prefix_list_ids()
                .iter()
                .filter(|x| {
                    !mine.iter().any(|r| {
                        r.prefix_list_id()
                            .is_some_and(|c| Some(c) == x.prefix_list_id())
                    })
                })
                .cloned()
                .collect();
            let pairs: Vec<UserIdGroupPair> = p
                .user_id_group_pairs()
                .iter()
                .filter(|x| {
                    !mine.iter().any(|r| {
                        r.referenced_group_info()
                            .and_then(|g| g.group_id())
                            .is_some_and(|c| Some(c) == x.group_id())
                    })
                })
                .cloned()
                .collect();
            if ip_ranges.is_empty()
                && ipv6_ranges.is_empty()
                && prefix_lists.is_empty()
                && pairs.is_empty()
            {
                return None;
            }
            Some(
                IpPermission::builder()
                    .set_ip_protocol(p.ip_protocol().map(str::to_string))
                    .set_from_port(p.from_port())
                    .set_to_port(p.to_port())
                    .set_ip_ranges(Some(ip_ranges))
                    .set_ipv6_ranges(Some(ipv6_ranges))
                    .set_prefix_list_ids(Some(prefix_lists))
                    .set_user_id_group_pairs(Some(pairs))
                    .build(),
            )
        })
        .collect()
}

// Schemas: Terraform AWS provider (v5) names.

const RULE_ATTRS: &[Attr] = &[
    Attr::required("security_group_id", Ty::String).force_new(),
    Attr::required("ip_protocol", Ty::String),
    Attr::optional("from_port", Ty::Number),
    Attr::optional("to_port", Ty::Number),
    Attr::optional("cidr_ipv4", Ty::String),
    Attr::optional("cidr_ipv6", Ty::String),
    Attr::optional("prefix_list_id", Ty::String),
    Attr::optional("referenced_security_group_id", Ty::String),
    Attr::optional("description", Ty::String),
    TAGS,
    TAGS_ALL,
    Attr::computed("id", Ty::String),
    Attr::computed("arn", Ty::String),
    Attr::computed("security_group_rule_id", Ty::String),
];

pub static AWS_VPC_SECURITY_GROUP_INGRESS_RULE: ResourceSchema = ResourceSchema {
    type_name: "aws_vpc_security_group_ingress_rule",
    attrs: RULE_ATTRS,
    blocks: &[],
    taggable: true,
};

pub static AWS_VPC_SECURITY_GROUP_EGRESS_RULE: ResourceSchema = ResourceSchema {
    type_name: "aws_vpc_security_group_egress_rule",
    attrs: RULE_ATTRS,
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
    fn a_rule_has_exactly_one_source() {
        let one = obj(&[("cidr_ipv4", Value::str("10.0.0.0/16"))]);
        assert_eq!(source_kind(&one).unwrap(), "cidr_ipv4");
        let two = obj(&[
            ("cidr_ipv4", Value::str("10.0.0.0/16")),
            ("prefix_list_id", Value::str("pl-1")),
        ]);
        let err = source_kind(&two).unwrap_err().message;
        assert!(err.contains("cidr_ipv4 and prefix_list_id"), "{err}");
        assert!(source_kind(&obj(&[])).unwrap_err().message.contains("none"));
    }

    #[test]
    fn a_group_s_permissions_lose_only_the_sources_rule_resources_own() {
        let perm = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .ip_ranges(IpRange::builder().cidr_ip("10.1.0.0/16").build())
            .build();
        let ssh = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .build();
        let owned = SecurityGroupRule::builder()
            .ip_protocol("6")
            .from_port(443)
            .to_port(443)
            .cidr_ipv4("10.0.0.0/16")
            .build();
        let left = without_owned(&[perm, ssh.clone()], &[&owned]);
        assert_eq!(left.len(), 2);
        let cidrs: Vec<_> = left[0].ip_ranges().iter().map(|r| r.cidr_ip()).collect();
        assert_eq!(cidrs, [Some("10.1.0.0/16")]);
        assert_eq!(left[1], ssh, "another port range keeps its source");
        let only = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .build();
        assert!(without_owned(&[only], &[&owned]).is_empty());
    }

    #[test]
    fn all_traffic_sends_no_ports() {
        let p = permission(&obj(&[
            ("ip_protocol", Value::str("all")),
            ("from_port", Value::Number(0.0)),
            ("to_port", Value::Number(0.0)),
            ("cidr_ipv4", Value::str("10.0.0.0/16")),
        ]));
        assert_eq!(p.ip_protocol(), Some("-1"));
        assert_eq!((p.from_port(), p.to_port()), (None, None));
        assert_eq!(p.ip_ranges()[0].cidr_ip(), Some("10.0.0.0/16"));
    }
}
