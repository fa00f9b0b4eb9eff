//! `aws_iam_policy`: a customer managed policy. A new document becomes a new default
//! version (IAM keeps at most five, so the oldest other one goes first); name, path and
//! description replace the policy. Deleting it deletes its other versions first, as IAM
//! requires.

use super::common::{
    Result, document, fill_from, iam_tags, is_missing, name_of, object, opt_str, tags_of, updated,
    user_tags,
};
use crate::providers::ProviderError;
use crate::providers::aws::pages::from_pages;
use crate::providers::aws::{
    AwsProvider, TAGS, TAGS_ALL, prior_id, sdk_error, string_map, tag_changes, tags_value,
};
use crate::providers::policy::equivalent;
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{Policy, PolicyVersion};
use std::collections::BTreeMap;

pub static AWS_IAM_POLICY: ResourceSchema = ResourceSchema {
    type_name: "aws_iam_policy",
    attrs: &[
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional_computed("name_prefix", Ty::String).force_new(),
        Attr::optional("path", Ty::String)
            .force_new()
            .default(Default::Str("/")),
        Attr::optional("description", Ty::String).force_new(),
        Attr::required("policy", Ty::Policy),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("policy_id", Ty::String),
        Attr::computed("attachment_count", Ty::Number).volatile(),
    ],
    blocks: &[],
    taggable: true,
};

/// IAM keeps at most this many versions of a managed policy.
const MAX_VERSIONS: usize = 5;

fn policy_value(
    base: &Value,
    policy: &Policy,
    doc: Value,
    tags: &BTreeMap<String, String>,
) -> Value {
    let arn = policy.arn().unwrap_or_default();
    object(vec![
        ("id", Value::str(arn)),
        ("arn", Value::str(arn)),
        ("name", opt_str(policy.policy_name())),
        ("name_prefix", base.get("name_prefix").clone()),
        ("path", Value::str(policy.path().unwrap_or("/"))),
        ("description", opt_str(policy.description())),
        ("policy", doc),
        ("policy_id", opt_str(policy.policy_id())),
        (
            "attachment_count",
            Value::Number(f64::from(policy.attachment_count().unwrap_or(0))),
        ),
        ("tags", user_tags(base, tags)),
        ("tags_all", tags_value(tags)),
    ])
}

/// CreatePolicy. Its answer and the document sent are the whole policy, so no read follows.
pub async fn create(p: &AwsProvider, config: &Value) -> Result<Value> {
    let name = name_of(config);
    let tags = string_map(config, "tags_all");
    let out = p
        .iam
        .create_policy()
        .policy_name(&name)
        .path(config.get("path").as_str().unwrap_or("/"))
        .policy_document(config.get("policy").as_str().unwrap_or("{}"))
        .set_description(config.get("description").as_str().map(str::to_string))
        .set_tags(Some(iam_tags(&tags)?))
        .send()
        .await
        .map_err(|e| sdk_error("CreatePolicy", e))?;
    let policy = out
        .policy()
        .ok_or_else(|| ProviderError::new(format!("CreatePolicy returned no policy for {name}")))?;
    // CreatePolicy's answer can leave the description out; the configuration has it.
    Ok(fill_from(
        policy_value(config, policy, config.get("policy").clone(), &tags),
        config,
        &["description"],
    ))
}

/// GetPolicy (which carries the tags ListPolicies leaves out) and GetPolicyVersion for the
/// default version's document: two calls a policy.
pub async fn read(iam: &Client, prior: &Value) -> Result<Option<Value>> {
    let arn = prior_id(prior)?;
    let policy = match iam.get_policy().policy_arn(arn).send().await {
        Ok(out) => match out.policy {
            Some(p) => p,
            None => return Ok(None),
        },
        Err(e) => {
            let e = sdk_error("GetPolicy", e);
            return if is_missing(&e) { Ok(None) } else { Err(e) };
        }
    };
    let version = policy.default_version_id().unwrap_or("v1");
    let doc = match iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
    {
        Ok(out) => out
            .policy_version()
            .and_then(|v| v.document())
            .map(|raw| document(prior.get("policy"), raw))
            .unwrap_or(Value::Null),
        Err(e) => {
            let e = sdk_error("GetPolicyVersion", e);
            return if is_missing(&e) { Ok(None) } else { Err(e) };
        }
    };
    Ok(Some(policy_value(
        prior,
        &policy,
        doc,
        &tags_of(policy.tags()),
    )))
}

pub async fn update(iam: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let arn = prior_id(prior)?;
    let doc = config.get("policy").as_str().unwrap_or("{}");
    if !prior
        .get("policy")
        .as_str()
        .is_some_and(|p| equivalent(p, doc))
    {
        let versions = versions(iam, arn).await?;
        if versions.len() >= MAX_VERSIONS
            && let Some(oldest) = oldest_other(&versions)
        {
            delete_version(iam, arn, &oldest).await?;
        }
        iam.create_policy_version()
            .policy_arn(arn)
            .policy_document(doc)
            .set_as_default(true)
            .send()
            .await
            .map_err(|e| sdk_error("CreatePolicyVersion", e))?;
    }
    let (set, remove) = tag_changes(
        &string_map(prior, "tags_all"),
        &string_map(config, "tags_all"),
    );
    if !remove.is_empty() {
        iam.untag_policy()
            .policy_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| sdk_error("UntagPolicy", e))?;
    }
    if !set.is_empty() {
        iam.tag_policy()
            .policy_arn(arn)
            .set_tags(Some(iam_tags(&set)?))
            .send()
            .await
            .map_err(|e| sdk_error("TagPolicy", e))?;
    }
    Ok(updated(prior, config))
}

async fn versions(iam: &Client, arn: &str) -> Result<Vec<PolicyVersion>> {
    let pages = iam
        .list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .send();
    from_pages(
        "ListPolicyVersions",
        pages,
        |p| p.versions(),
        |v| Some(v.clone()),
    )
    .await
}

/// The number in a version id (`v12` -> 12), for ordering when dates are missing.
fn version_number(v: &PolicyVersion) -> u64 {
    v.version_id()
        .and_then(|id| id.trim_start_matches('v').parse().ok())
        .unwrap_or(0)
}

/// The oldest version that is not the default.
fn oldest_other(versions: &[PolicyVersion]) -> Option<String> {
    versions
        .iter()
        .filter(|v| !v.is_default_version())
        .min_by_key(|v| {
            (
                v.create_date().map(|d| (d.secs(), d.subsec_nanos())),
                version_number(v),
            )
        })
        .and_then(|v| v.version_id().map(str::to_string))
}

async fn delete_version(iam: &Client, arn: &str, version: &str) -> Result<()> {
    match iam
        .delete_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("DeletePolicyVersion", e);
            if is_missing(&e) { Ok(()) } else { Err(e) }
        }
    }
}

pub async fn delete(iam: &Client, prior: &Value) -> Result<()> {
    let arn = prior_id(prior)?;
    let versions = match versions(iam, arn).await {
        Ok(v) => v,
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for v in versions.iter().filter(|v| !v.is_default_version()) {
        if let Some(id) = v.version_id() {
            delete_version(iam, arn, id).await?;
        }
    }
    match iam.delete_policy().policy_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("DeletePolicy", e);
            if is_missing(&e) {
                Ok(())
            } else if e.code.as_deref() == Some("DeleteConflict") {
                Err(ProviderError::with_code(
                    "DeleteConflict",
                    format!(
                        "policy {arn} is still attached to {}; detach it (or remove the \
                         attachments from the stack) before deleting it",
                        attached_to(iam, arn).await
                    ),
                ))
            } else {
                Err(e)
            }
        }
    }
}

/// Who a policy is attached to, for the error that stops its delete.
async fn attached_to(iam: &Client, arn: &str) -> String {
    let Ok(out) = iam.list_entities_for_policy().policy_arn(arn).send().await else {
        return "roles, users or groups".to_string();
    };
    let mut names: Vec<String> = Vec::new();
    names.extend(
        out.policy_roles()
            .iter()
            .filter_map(|r| r.role_name().map(|n| format!("role {n}"))),
    );
    names.extend(
        out.policy_users()
            .iter()
            .filter_map(|u| u.user_name().map(|n| format!("user {n}"))),
    );
    names.extend(
        out.policy_groups()
            .iter()
            .filter_map(|g| g.group_name().map(|n| format!("group {n}"))),
    );
    if names.is_empty() {
        "roles, users or groups".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::primitives::DateTime;

    fn version(id: &str, default: bool, secs: i64) -> PolicyVersion {
        PolicyVersion::builder()
            .version_id(id)
            .is_default_version(default)
            .create_date(DateTime::from_secs(secs))
            .build()
    }

    #[test]
    fn the_oldest_version_that_is_not_the_default_goes_first() {
        let versions = [
            version("v1", true, 100),
            version("v3", false, 300),
            version("v2", false, 200),
            version("v4", false, 400),
        ];
        assert_eq!(oldest_other(&versions).as_deref(), Some("v2"));
        assert_eq!(oldest_other(&[version("v1", true, 1)]), None);
    }
}
