//! Finding the object of a create whose answer never reached keel (keel was killed
//! between the call and the state write, or the response was lost), so that it is adopted
//! instead of created twice. Each type is found the cheapest way its API allows, then
//! read like any recorded object and checked for keel's ownership tags:
//!
//! | types | found by |
//! |---|---|
//! | EC2 types that carry tags (VPCs, subnets, security groups and their rules, gateways, route tables, EIPs, NAT gateways, endpoints, ACLs, flow logs, placement groups, key pairs, launch templates, instances) | DescribeTags for the stack's `keel:stack` tag, then the candidates' `keel:address` (one call per 200) |
//! | `aws_s3_bucket` | its name (`bucket`) |
//! | `aws_iam_role`, `aws_iam_instance_profile` | their name |
//! | `aws_iam_policy` | ListPolicies (scope Local), filtered by name |
//! | `aws_kms_key` | ListKeys and each key's tags (KMS has neither names nor tag filters); keys pending deletion count as gone |
//! | `aws_kms_alias` | its name |
//! | `aws_route` | its route table and destination |
//!
//! The other types need no search: their creates are idempotent puts that a retry
//! repeats harmlessly (a bucket's encryption, versioning, public access block, ownership
//! controls, policy and lifecycle; a role's inline policy and policy attachments), or an
//! association that the next plan sees through its route table.
//!
//! An object found carries this address's `keel:stack` and `keel:address` tags, or no keel
//! tags at all when `owned_only` is off (a bucket, created and then tagged by a second
//! call, may have been left untagged); an object owned by another address or stack is
//! never taken.

use super::{AwsProvider, sdk_error};
use crate::addr::ResourceAddr;
use crate::eval::{TAG_ADDRESS, TAG_STACK};
use crate::providers::{Provider, ProviderError, schema};
use crate::value::Value;
use aws_sdk_ec2::types::Filter;

type Result<T> = std::result::Result<T, ProviderError>;

/// The EC2 resource type DescribeTags reports for a Terraform type.
fn ec2_kind(type_: &str) -> Option<&'static str> {
    Some(match type_ {
        "aws_vpc" => "vpc",
        "aws_subnet" => "subnet",
        "aws_security_group" => "security-group",
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            "security-group-rule"
        }
        "aws_internet_gateway" => "internet-gateway",
        "aws_route_table" => "route-table",
        "aws_eip" => "elastic-ip",
        "aws_nat_gateway" => "natgateway",
        "aws_vpc_endpoint" => "vpc-endpoint",
        "aws_network_acl" => "network-acl",
        "aws_flow_log" => "vpc-flow-log",
        "aws_placement_group" => "placement-group",
        "aws_key_pair" => "key-pair",
        "aws_launch_template" => "launch-template",
        "aws_instance" => "instance",
        _ => return None,
    })
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

fn with_id(config: &Value, id: &str) -> Value {
    let mut m = config.as_map().cloned().unwrap_or_default();
    m.insert("id".into(), Value::str(id));
    Value::Map(m)
}

/// Does the object carry `addr`'s ownership tags (or, when allowed, none at all)?
fn owned(found: &Value, addr: &ResourceAddr, stack: &str, owned_only: bool) -> bool {
    let tags = found.get("tags_all");
    let (s, a) = (tags.get(TAG_STACK).as_str(), tags.get(TAG_ADDRESS).as_str());
    match (s, a) {
        (Some(s), Some(a)) => s == stack && a == addr.to_string(),
        (None, None) => !owned_only,
        _ => false,
    }
}

impl AwsProvider {
    pub(super) async fn find_object(
        &self,
        addr: &ResourceAddr,
        config: &Value,
        owned_only: bool,
    ) -> Result<Vec<Value>> {
        let type_ = addr.type_.as_str();
        let stack = config
            .get("tags_all")
            .get(TAG_STACK)
            .as_str()
            .unwrap_or_default()
            .to_string();
        let taggable = schema(type_).is_some_and(|s| s.taggable);
        let candidates: Vec<String> = if let Some(kind) = ec2_kind(type_) {
            self.tagged(addr, &stack, kind).await?
        } else {
            let name = |k: &str| config.get(k).as_str().map(str::to_string);
            match type_ {
                "aws_s3_bucket" => name("bucket").into_iter().collect(),
                "aws_iam_role" | "aws_iam_instance_profile" | "aws_kms_alias" => {
                    name("name").into_iter().collect()
                }
                "aws_iam_policy" => match name("name") {
                    Some(n) => self.policy_arn(&n).await?.into_iter().collect(),
                    None => Vec::new(),
                },
                "aws_kms_key" => self.tagged_keys(addr, &stack).await?,
                "aws_route" => match (name("route_table_id"), name("destination_cidr_block")) {
                    (Some(t), Some(d)) => vec![format!("r-{t}_{d}")],
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            }
        };
        let mut out = Vec::new();
        for id in candidates {
            let Some(found) = self.read(type_, &with_id(config, &id)).await? else {
                continue;
            };
            if !taggable || owned(&found, addr, &stack, owned_only) {
                out.push(found);
            }
        }
        Ok(out)
    }

    /// Ids (as state records them) of EC2 objects of `kind` tagged as `addr` of `stack`:
    /// the stack's objects of that kind by their `keel:stack` tag, then their
    /// `keel:address` compared here (an address's brackets are no filter pattern).
    async fn tagged(&self, addr: &ResourceAddr, stack: &str, kind: &str) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .ec2
                .describe_tags()
                .filters(filter("key", &[TAG_STACK.to_string()]))
                .filters(filter("value", &[stack.to_string()]))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTags", e))?;
            for t in page.tags() {
                if t.resource_type().map(|k| k.as_str()) == Some(kind)
                    && let Some(id) = t.resource_id()
                {
                    ids.push(id.to_string());
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let want = addr.to_string();
        let mut mine: Vec<String> = Vec::new();
        for chunk in ids.chunks(200) {
            let page = self
                .ec2
                .describe_tags()
                .filters(filter("resource-id", chunk))
                .filters(filter("key", &[TAG_ADDRESS.to_string()]))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTags", e))?;
            mine.extend(
                page.tags()
                    .iter()
                    .filter(|t| t.value() == Some(want.as_str()))
                    .filter_map(|t| t.resource_id().map(str::to_string)),
            );
        }
        if mine.is_empty() {
            return Ok(mine);
        }
        // State knows placement groups and key pairs by name, not by their tagged id.
        match kind {
            "placement-group" => {
                let out = self
                    .ec2
                    .describe_placement_groups()
                    .set_group_ids(Some(mine))
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribePlacementGroups", e))?;
                Ok(out
                    .placement_groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_string))
                    .collect())
            }
            "key-pair" => {
                let out = self
                    .ec2
                    .describe_key_pairs()
                    .set_key_pair_ids(Some(mine))
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeKeyPairs", e))?;
                Ok(out
                    .key_pairs()
                    .iter()
                    .filter_map(|k| k.key_name().map(str::to_string))
                    .collect())
            }
            _ => Ok(mine),
        }
    }

    /// The ARN of the customer managed policy named `name`, if there is one.
    async fn policy_arn(&self, name: &str) -> Result<Option<String>> {
        let mut marker = None;
        loop {
            let page = self
                .iam
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| sdk_error("ListPolicies", e))?;
            if let Some(p) = page
                .policies()
                .iter()
                .find(|p| p.policy_name() == Some(name))
            {
                return Ok(p.arn().map(str::to_string));
            }
            marker = page.marker().map(str::to_string);
            if marker.is_none() {
                return Ok(None);
            }
        }
    }

    /// KMS keys tagged as `addr` of `stack`: every key's tags are listed, since KMS filters
    /// by neither.
    async fn tagged_keys(&self, addr: &ResourceAddr, stack: &str) -> Result<Vec<String>> {
        let want = addr.to_string();
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .kms
                .list_keys()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| sdk_error("ListKeys", e))?;
            for k in page.keys() {
                let Some(id) = k.key_id() else { continue };
                let tags = match self.kms.list_resource_tags().key_id(id).send().await {
                    Ok(t) => t,
                    // Keys of other accounts' grants or pending deletion may refuse.
                    Err(_) => continue,
                };
                let tag = |key: &str| {
                    tags.tags()
                        .iter()
                        .find(|t| t.tag_key() == key)
                        .map(|t| t.tag_value().to_string())
                };
                if tag(TAG_ADDRESS).as_deref() == Some(want.as_str())
                    && tag(TAG_STACK).as_deref() == Some(stack)
                {
                    out.push(id.to_string());
                }
            }
            marker = page.next_marker().map(str::to_string);
            if marker.is_none() || !page.truncated() {
                return Ok(out);
            }
        }
    }
}
