//! `aws_iam_role`: a role and its trust policy. The trust policy, description, session
//! length, permissions boundary and tags change in place; name and path replace it.
//! Deleting a role first takes it out of its instance profiles (as Terraform does), and
//! detaches its policies only when `force_detach_policies = true`.

use super::common::{
    Result, date, document, fill_from, iam_tags, is_missing, name_of, number, object, opt_str,
    settled, tags_of, updated, user_tags,
};
use crate::providers::ProviderError;
use crate::providers::aws::pages::from_pages;
use crate::providers::aws::wait::retry_while;
use crate::providers::aws::{
    AwsProvider, TAGS, TAGS_ALL, prior_id, sdk_error, string_map, tag_changes, tags_value,
};
use crate::providers::policy::equivalent;
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::Role;
use std::collections::BTreeMap;

pub static AWS_IAM_ROLE: ResourceSchema = ResourceSchema {
    type_name: "aws_iam_role",
    attrs: &[
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional_computed("name_prefix", Ty::String).force_new(),
        Attr::optional("path", Ty::String)
            .force_new()
            .default(Default::Str("/")),
        Attr::optional("description", Ty::String),
        Attr::required("assume_role_policy", Ty::Policy),
        Attr::optional("max_session_duration", Ty::Number).default(Default::Number(3600.0)),
        Attr::optional("permissions_boundary", Ty::String),
        Attr::optional("force_detach_policies", Ty::Bool).default(Default::Bool(false)),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("unique_id", Ty::String),
        Attr::computed("create_date", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

/// The role's state from what IAM said about it, `base` (the configuration or the prior
/// state) supplying what IAM does not hold, and `tags` as IAM holds them.
fn role_value(base: &Value, role: &Role, tags: &BTreeMap<String, String>) -> Value {
    let trust = match role.assume_role_policy_document() {
        Some(raw) => document(base.get("assume_role_policy"), raw),
        None => base.get("assume_role_policy").clone(),
    };
    object(vec![
        ("id", Value::str(role.role_name())),
        ("name", Value::str(role.role_name())),
        ("name_prefix", base.get("name_prefix").clone()),
        ("path", Value::str(role.path())),
        ("description", opt_str(role.description())),
        ("assume_role_policy", trust),
        (
            "max_session_duration",
            role.max_session_duration()
                .map(|n| Value::Number(f64::from(n)))
                .unwrap_or(Value::Null),
        ),
        (
            "permissions_boundary",
            opt_str(
                role.permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn()),
            ),
        ),
        // Not a cloud attribute: it says what keel may do when deleting.
        (
            "force_detach_policies",
            Value::Bool(base.get("force_detach_policies").as_bool().unwrap_or(false)),
        ),
        ("tags", user_tags(base, tags)),
        ("tags_all", tags_value(tags)),
        ("arn", Value::str(role.arn())),
        ("unique_id", Value::str(role.role_id())),
        ("create_date", date(Some(role.create_date()))),
    ])
}

/// CreateRole, waiting while IAM does not yet know a principal the trust policy names (a
/// role created a moment ago). The answer carries the whole role, so no read follows.
pub async fn create(p: &AwsProvider, config: &Value) -> Result<Value> {
    let name = name_of(config);
    let tags = string_map(config, "tags_all");
    let sent = &iam_tags(&tags)?;
    let name_ref = name.as_str();
    let out = settled(|| async move {
        p.iam
            .create_role()
            .role_name(name_ref)
            .path(config.get("path").as_str().unwrap_or("/"))
            .assume_role_policy_document(config.get("assume_role_policy").as_str().unwrap_or("{}"))
            .set_description(config.get("description").as_str().map(str::to_string))
            .set_max_session_duration(number(config.get("max_session_duration")))
            .set_permissions_boundary(
                config
                    .get("permissions_boundary")
                    .as_str()
                    .map(str::to_string),
            )
            .set_tags(Some(sent.clone()))
            .send()
            .await
            .map_err(|e| sdk_error("CreateRole", e))
    })
    .await?;
    let role = out
        .role()
        .ok_or_else(|| ProviderError::new(format!("CreateRole returned no role for {name}")))?;
    // What the answer leaves out is what was sent.
    Ok(fill_from(
        role_value(config, role, &tags),
        config,
        &[
            "description",
            "max_session_duration",
            "permissions_boundary",
        ],
    ))
}

/// Reads roles one GetRole each: ListRoles leaves out tags and permissions boundaries, so
/// listing could only add calls.
pub async fn read(iam: &Client, prior: &Value) -> Result<Option<Value>> {
    let name = prior_id(prior)?;
    match iam.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role().map(|r| role_value(prior, r, &tags_of(r.tags())))),
        Err(e) => {
            let e = sdk_error("GetRole", e);
            if is_missing(&e) { Ok(None) } else { Err(e) }
        }
    }
}

pub async fn update(iam: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let name = prior_id(prior)?;
    let trust = config.get("assume_role_policy").as_str().unwrap_or("{}");
    if !prior
        .get("assume_role_policy")
        .as_str()
        .is_some_and(|p| equivalent(p, trust))
    {
        settled(|| async move {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(trust)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateAssumeRolePolicy", e))
        })
        .await?;
    }
    let description = config.get("description").as_str().unwrap_or("");
    let max = number(config.get("max_session_duration")).unwrap_or(3600);
    if prior.get("description").as_str().unwrap_or("") != description
        || number(prior.get("max_session_duration")) != Some(max)
    {
        iam.update_role()
            .role_name(name)
            .description(description)
            .max_session_duration(max)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateRole", e))?;
    }
    let boundary = config.get("permissions_boundary").as_str();
    if prior.get("permissions_boundary").as_str() != boundary {
        match boundary {
            Some(arn) => {
                settled(|| async move {
                    iam.put_role_permissions_boundary()
                        .role_name(name)
                        .permissions_boundary(arn)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| sdk_error("PutRolePermissionsBoundary", e))
                })
                .await?
            }
            None => iam
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRolePermissionsBoundary", e))?,
        }
    }
    retag(iam, name, prior, config).await?;
    Ok(updated(prior, config))
}

async fn retag(iam: &Client, name: &str, prior: &Value, config: &Value) -> Result<()> {
    let (set, remove) = tag_changes(
        &string_map(prior, "tags_all"),
        &string_map(config, "tags_all"),
    );
    if !remove.is_empty() {
        iam.untag_role()
            .role_name(name)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| sdk_error("UntagRole", e))?;
    }
    if !set.is_empty() {
        iam.tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags(&set)?))
            .send()
            .await
            .map_err(|e| sdk_error("TagRole", e))?;
    }
    Ok(())
}

/// DeleteRole; when IAM refuses because something still hangs on the role, clears what
/// keel may clear and tries again.
pub async fn delete(iam: &Client, prior: &Value) -> Result<()> {
    let name = prior_id(prior)?.to_string();
    match delete_role(iam, &name).await {
        Ok(()) => return Ok(()),
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) if e.code.as_deref() == Some("DeleteConflict") => {}
        Err(e) => return Err(e),
    }
    let held = Holdings::of(iam, &name).await?;
    for profile in &held.profiles {
        match iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(&name)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let e = sdk_error("RemoveRoleFromInstanceProfile", e);
                if !is_missing(&e) {
                    return Err(e);
                }
            }
        }
    }
    if !held.attached.is_empty() || !held.inline.is_empty() {
        if prior.get("force_detach_policies").as_bool() != Some(true) {
            return Err(ProviderError::with_code(
                "DeleteConflict",
                format!(
                    "role {name} still has {}; keel removes a role's policies only when the role \
                     says force_detach_policies = true. Detach them, or set \
                     force_detach_policies = true on the role and apply, then delete it again",
                    held.describe()
                ),
            ));
        }
        for arn in &held.attached {
            match iam
                .detach_role_policy()
                .role_name(&name)
                .policy_arn(arn)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    let e = sdk_error("DetachRolePolicy", e);
                    if !is_missing(&e) {
                        return Err(e);
                    }
                }
            }
        }
        for policy in &held.inline {
            match iam
                .delete_role_policy()
                .role_name(&name)
                .policy_name(policy)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    let e = sdk_error("DeleteRolePolicy", e);
                    if !is_missing(&e) {
                        return Err(e);
                    }
                }
            }
        }
    }
    // What was just detached can take a moment to stop counting against the role.
    let conflict = |e: &ProviderError| e.code.as_deref() == Some("DeleteConflict");
    match retry_while(conflict, super::common::PROPAGATION, || {
        delete_role(iam, &name)
    })
    .await
    {
        Err(e) if is_missing(&e) => Ok(()),
        other => other,
    }
}

async fn delete_role(iam: &Client, name: &str) -> Result<()> {
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteRole", e))
}

/// What keeps a role from being deleted.
struct Holdings {
    attached: Vec<String>,
    inline: Vec<String>,
    profiles: Vec<String>,
}

impl Holdings {
    async fn of(iam: &Client, name: &str) -> Result<Holdings> {
        let pages = iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        let attached = from_pages(
            "ListAttachedRolePolicies",
            pages,
            |p| p.attached_policies(),
            |a| a.policy_arn().map(str::to_string),
        )
        .await?;
        let pages = iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        let inline = from_pages(
            "ListRolePolicies",
            pages,
            |p| p.policy_names(),
            |n| Some(n.clone()),
        )
        .await?;
        let pages = iam
            .list_instance_profiles_for_role()
            .role_name(name)
            .into_paginator()
            .send();
        let profiles = from_pages(
            "ListInstanceProfilesForRole",
            pages,
            |p| p.instance_profiles(),
            |p| Some(p.instance_profile_name().to_string()),
        )
        .await?;
        Ok(Holdings {
            attached,
            inline,
            profiles,
        })
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.attached.is_empty() {
            parts.push(format!(
                "managed policies attached ({})",
                self.attached.join(", ")
            ));
        }
        if !self.inline.is_empty() {
            parts.push(format!("inline policies ({})", self.inline.join(", ")));
        }
        parts.join(" and ")
    }
}
