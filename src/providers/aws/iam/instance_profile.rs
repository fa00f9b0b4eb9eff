//! `aws_iam_instance_profile`: the profile an EC2 instance takes its role from. Its role
//! is swapped in place (removed, then the new one added) and tags change in place; name
//! and path replace it. A profile is emptied of its role before it is deleted, as IAM
//! requires.

use super::common::{
    Result, date, iam_tags, is_missing, name_of, object, opt_str, settled, tags_of, updated,
    user_tags,
};
use crate::providers::ProviderError;
use crate::providers::aws::{
    AwsProvider, TAGS, TAGS_ALL, prior_id, sdk_error, string_map, tag_changes, tags_value,
};
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::InstanceProfile;
use std::collections::BTreeMap;

pub static AWS_IAM_INSTANCE_PROFILE: ResourceSchema = ResourceSchema {
    type_name: "aws_iam_instance_profile",
    attrs: &[
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional_computed("name_prefix", Ty::String).force_new(),
        Attr::optional("path", Ty::String)
            .force_new()
            .default(Default::Str("/")),
        Attr::optional("role", Ty::String),
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

fn profile_value(
    base: &Value,
    profile: &InstanceProfile,
    role: Value,
    tags: &BTreeMap<String, String>,
) -> Value {
    object(vec![
        ("id", Value::str(profile.instance_profile_name())),
        ("name", Value::str(profile.instance_profile_name())),
        ("name_prefix", base.get("name_prefix").clone()),
        ("path", Value::str(profile.path())),
        ("role", role),
        ("tags", user_tags(base, tags)),
        ("tags_all", tags_value(tags)),
        ("arn", Value::str(profile.arn())),
        ("unique_id", Value::str(profile.instance_profile_id())),
        ("create_date", date(Some(profile.create_date()))),
    ])
}

/// CreateInstanceProfile, then AddRoleToInstanceProfile when a role is configured.
pub async fn create(p: &AwsProvider, config: &Value) -> Result<Value> {
    let name = name_of(config);
    let tags = string_map(config, "tags_all");
    let out = p
        .iam
        .create_instance_profile()
        .instance_profile_name(&name)
        .path(config.get("path").as_str().unwrap_or("/"))
        .set_tags(Some(iam_tags(&tags)?))
        .send()
        .await
        .map_err(|e| sdk_error("CreateInstanceProfile", e))?;
    let profile = out.instance_profile().ok_or_else(|| {
        ProviderError::new(format!(
            "CreateInstanceProfile returned no instance profile for {name}"
        ))
    })?;
    let role = config.get("role").as_str();
    if let Some(role) = role {
        add_role(&p.iam, &name, role).await?;
    }
    Ok(profile_value(config, profile, opt_str(role), &tags))
}

/// Adds a role, waiting while IAM does not yet know a role (or this profile) created a
/// moment ago.
async fn add_role(iam: &Client, profile: &str, role: &str) -> Result<()> {
    settled(|| async move {
        iam.add_role_to_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("AddRoleToInstanceProfile", e))
    })
    .await
}

async fn remove_role(iam: &Client, profile: &str, role: &str) -> Result<()> {
    match iam
        .remove_role_from_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("RemoveRoleFromInstanceProfile", e);
            if is_missing(&e) { Ok(()) } else { Err(e) }
        }
    }
}

/// One GetInstanceProfile a profile: ListInstanceProfiles leaves out tags.
pub async fn read(iam: &Client, prior: &Value) -> Result<Option<Value>> {
    let name = prior_id(prior)?;
    match get(iam, name).await? {
        Some(profile) => {
            let role = opt_str(profile.roles().first().map(|r| r.role_name()));
            Ok(Some(profile_value(
                prior,
                &profile,
                role,
                &tags_of(profile.tags()),
            )))
        }
        None => Ok(None),
    }
}

async fn get(iam: &Client, name: &str) -> Result<Option<InstanceProfile>> {
    match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.instance_profile),
        Err(e) => {
            let e = sdk_error("GetInstanceProfile", e);
            if is_missing(&e) { Ok(None) } else { Err(e) }
        }
    }
}

pub async fn update(iam: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let name = prior_id(prior)?;
    let old = prior.get("role").as_str();
    let new = config.get("role").as_str();
    if old != new {
        // A profile holds one role: the old one leaves before the new one comes in.
        if let Some(old) = old {
            remove_role(iam, name, old).await?;
        }
        if let Some(new) = new {
            add_role(iam, name, new).await?;
        }
    }
    let (set, remove) = tag_changes(
        &string_map(prior, "tags_all"),
        &string_map(config, "tags_all"),
    );
    if !remove.is_empty() {
        iam.untag_instance_profile()
            .instance_profile_name(name)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| sdk_error("UntagInstanceProfile", e))?;
    }
    if !set.is_empty() {
        iam.tag_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(iam_tags(&set)?))
            .send()
            .await
            .map_err(|e| sdk_error("TagInstanceProfile", e))?;
    }
    Ok(updated(prior, config))
}

/// Removes the recorded role, then deletes the profile; a role added behind keel's back
/// is found and removed too.
pub async fn delete(iam: &Client, prior: &Value) -> Result<()> {
    let name = prior_id(prior)?;
    if let Some(role) = prior.get("role").as_str() {
        remove_role(iam, name, role).await?;
    }
    match delete_profile(iam, name).await {
        Err(e) if e.code.as_deref() == Some("DeleteConflict") => {}
        other => return other,
    }
    if let Some(profile) = get(iam, name).await? {
        for role in profile.roles() {
            remove_role(iam, name, role.role_name()).await?;
        }
    }
    delete_profile(iam, name).await
}

async fn delete_profile(iam: &Client, name: &str) -> Result<()> {
    match iam
        .delete_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("DeleteInstanceProfile", e);
            if is_missing(&e) { Ok(()) } else { Err(e) }
        }
    }
}
