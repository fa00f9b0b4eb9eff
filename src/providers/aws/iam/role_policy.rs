//! What ties permissions to a role: `aws_iam_role_policy` (an inline policy, id
//! `role:name`, its document updated in place) and `aws_iam_role_policy_attachment` (a
//! managed policy attached, both arguments forcing a new attachment).
//!
//! Attachments are read per role: one ListAttachedRolePolicies answers for every
//! attachment of that role, so n attachments on r roles take r calls.

use super::common::{
    Result, document, is_missing, name_of, object, prefixed_unique_id, settled, updated,
};
use crate::providers::ProviderError;
use crate::providers::aws::{AwsProvider, prior_id, sdk_error};
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_iam::Client;
use std::collections::{BTreeMap, BTreeSet};

pub static AWS_IAM_ROLE_POLICY: ResourceSchema = ResourceSchema {
    type_name: "aws_iam_role_policy",
    attrs: &[
        Attr::required("role", Ty::String).force_new(),
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional_computed("name_prefix", Ty::String).force_new(),
        Attr::required("policy", Ty::Policy),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

pub static AWS_IAM_ROLE_POLICY_ATTACHMENT: ResourceSchema = ResourceSchema {
    type_name: "aws_iam_role_policy_attachment",
    attrs: &[
        Attr::required("role", Ty::String).force_new(),
        Attr::required("policy_arn", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

/// `role:name`, the id Terraform gives an inline policy, split.
fn inline_id(id: &str) -> Result<(&str, &str)> {
    id.split_once(':')
        .filter(|(r, n)| !r.is_empty() && !n.is_empty())
        .ok_or_else(|| {
            ProviderError::new(format!(
                "\"{id}\" is not an inline role policy id; expected ROLE:NAME"
            ))
        })
}

fn inline_value(base: &Value, role: &str, name: &str, doc: Value) -> Value {
    object(vec![
        ("id", Value::str(format!("{role}:{name}"))),
        ("role", Value::str(role)),
        ("name", Value::str(name)),
        ("name_prefix", base.get("name_prefix").clone()),
        ("policy", doc),
    ])
}

/// PutRolePolicy, waiting while IAM does not yet know a role created a moment ago.
pub async fn put_inline(p: &AwsProvider, config: &Value) -> Result<Value> {
    let role = config.get("role").as_str().unwrap_or_default();
    let name = &name_of(config);
    put(&p.iam, role, name, config).await?;
    Ok(inline_value(
        config,
        role,
        name,
        config.get("policy").clone(),
    ))
}

async fn put(iam: &Client, role: &str, name: &str, config: &Value) -> Result<()> {
    let doc = config.get("policy").as_str().unwrap_or("{}");
    settled(|| async move {
        iam.put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("PutRolePolicy", e))
    })
    .await
}

pub async fn read_inline(iam: &Client, prior: &Value) -> Result<Option<Value>> {
    let (role, name) = inline_id(prior_id(prior)?)?;
    match iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(Some(inline_value(
            prior,
            role,
            name,
            document(prior.get("policy"), out.policy_document()),
        ))),
        Err(e) => {
            let e = sdk_error("GetRolePolicy", e);
            if is_missing(&e) { Ok(None) } else { Err(e) }
        }
    }
}

pub async fn update_inline(iam: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let (role, name) = inline_id(prior_id(prior)?)?;
    put(iam, role, name, config).await?;
    Ok(updated(prior, config))
}

pub async fn delete_inline(iam: &Client, prior: &Value) -> Result<()> {
    let (role, name) = inline_id(prior_id(prior)?)?;
    match iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("DeleteRolePolicy", e);
            if is_missing(&e) { Ok(()) } else { Err(e) }
        }
    }
}

/// AttachRolePolicy, waiting while IAM does not yet know a role or policy created a
/// moment ago. The id is Terraform's: the role name, a dash and a unique suffix.
pub async fn attach(p: &AwsProvider, config: &Value) -> Result<Value> {
    let role = config.get("role").as_str().unwrap_or_default();
    let arn = config.get("policy_arn").as_str().unwrap_or_default();
    let iam = &p.iam;
    settled(|| async move {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("AttachRolePolicy", e))
    })
    .await?;
    Ok(attachment_value(
        &prefixed_unique_id(&format!("{role}-")),
        role,
        arn,
    ))
}

fn attachment_value(id: &str, role: &str, arn: &str) -> Value {
    object(vec![
        ("id", Value::str(id)),
        ("role", Value::str(role)),
        ("policy_arn", Value::str(arn)),
    ])
}

/// The role and policy ARN of an attachment: from state, or for an attachment known only
/// by id (an import), from `ROLE/POLICY_ARN` as Terraform's import takes it.
fn attachment_of(prior: &Value) -> Result<(String, String)> {
    if let (Some(role), Some(arn)) = (prior.get("role").as_str(), prior.get("policy_arn").as_str())
    {
        return Ok((role.to_string(), arn.to_string()));
    }
    let id = prior_id(prior)?;
    id.split_once('/')
        .filter(|(r, a)| !r.is_empty() && a.starts_with("arn:"))
        .map(|(r, a)| (r.to_string(), a.to_string()))
        .ok_or_else(|| {
            ProviderError::new(format!(
                "\"{id}\" is not a role policy attachment id; expected ROLE/POLICY_ARN"
            ))
        })
}

/// One ListAttachedRolePolicies (a role holds at most 20 managed policies, one page) per
/// distinct role; a role that no longer exists has no attachments.
pub async fn read_attachments(iam: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let wanted: Vec<(String, String)> = priors.iter().map(attachment_of).collect::<Result<_>>()?;
    let roles: Vec<String> = wanted
        .iter()
        .map(|(r, _)| r.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let reads = roles.into_iter().map(|role| attached_to(iam, role));
    use futures_util::stream::{StreamExt, TryStreamExt};
    let attached: BTreeMap<String, BTreeSet<String>> = futures_util::stream::iter(reads)
        .buffered(super::super::READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(priors
        .iter()
        .zip(&wanted)
        .map(|(prior, (role, arn))| {
            attached
                .get(role)
                .is_some_and(|arns| arns.contains(arn))
                .then(|| attachment_value(prior_id(prior).unwrap_or_default(), role, arn))
        })
        .collect())
}

/// The ARNs of the managed policies attached to `role`; none when the role is gone.
async fn attached_to(iam: &Client, role: String) -> Result<(String, BTreeSet<String>)> {
    let mut arns = BTreeSet::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(&role)
        .max_items(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => arns.extend(
                page.attached_policies()
                    .iter()
                    .filter_map(|a| a.policy_arn().map(str::to_string)),
            ),
            Err(e) => {
                let e = sdk_error("ListAttachedRolePolicies", e);
                if is_missing(&e) {
                    break;
                }
                return Err(e);
            }
        }
    }
    Ok((role, arns))
}

pub async fn detach(iam: &Client, prior: &Value) -> Result<()> {
    let (role, arn) = attachment_of(prior)?;
    match iam
        .detach_role_policy()
        .role_name(&role)
        .policy_arn(&arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("DetachRolePolicy", e);
            if is_missing(&e) { Ok(()) } else { Err(e) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_as_terraform_forms_them() {
        assert_eq!(inline_id("worker:s3-read").unwrap(), ("worker", "s3-read"));
        assert!(inline_id("worker").is_err());
        let imported = object(vec![(
            "id",
            Value::str("worker/arn:aws:iam::123456789012:policy/team/read"),
        )]);
        assert_eq!(
            attachment_of(&imported).unwrap(),
            (
                "worker".to_string(),
                "arn:aws:iam::123456789012:policy/team/read".to_string()
            )
        );
        let managed = object(vec![
            ("id", Value::str("worker-20260101000000000012345678")),
            ("role", Value::str("worker")),
            (
                "policy_arn",
                Value::str("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            ),
        ]);
        assert_eq!(attachment_of(&managed).unwrap().0, "worker");
        assert!(attachment_of(&object(vec![("id", Value::str("worker-2026"))])).is_err());
    }
}
