//! KMS: `aws_kms_key` here and `aws_kms_alias` in [`alias`]. A key is never deleted at
//! once: destroying it schedules its deletion after `deletion_window_in_days` (7-30; AWS's
//! default is 30), and a key pending deletion reads as gone, as in Terraform.
//!
//! Reads: a key takes DescribeKey, GetKeyRotationStatus, GetKeyPolicy and ListResourceTags
//! (KMS has no batched form of any of them, so four calls per key is the floor; the last
//! three run concurrently). Aliases are read with one paginated ListAliases for all of them.

use super::pages::from_pages;
use super::{AwsProvider, TAGS, TAGS_ALL, read_each, unsupported};
use super::{prior_id, sdk_error, string_map, tag_changes, tags_value, user_tags};
use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::providers::policy::{equivalent, keep_prior};
use crate::providers::schema::{Attr, Default, ResourceSchema, Ty, one_of, whole_number_in};
use crate::value::Value;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, OriginType, Tag};
use std::collections::BTreeMap;

mod alias;

type Result<T> = std::result::Result<T, ProviderError>;

/// KMS keeps one key policy per key, under this name.
const POLICY_NAME: &str = "default";

fn build_err(what: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("{what}: {e}"))
}

fn kms_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| build_err("KMS tag", e))
}

fn number(v: &Value) -> Option<i32> {
    match v {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i32),
        _ => None,
    }
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// `rotation_period_in_days` means nothing without rotation; AWS would drop it and every
/// later plan would show it again, so it is refused up front.
fn check_rotation(config: &Value) -> Result<()> {
    if !config.get("rotation_period_in_days").is_null()
        && config.get("enable_key_rotation").as_bool() != Some(true)
    {
        return Err(ProviderError::new(
            "rotation_period_in_days is set but enable_key_rotation is not: \
             set enable_key_rotation = true, or remove rotation_period_in_days",
        ));
    }
    Ok(())
}

pub async fn create_key(kms: &Client, config: &Value) -> Result<Value> {
    check_rotation(config)?;
    let out = kms
        .create_key()
        .set_description(str_of(config.get("description")))
        .set_key_usage(config.get("key_usage").as_str().map(KeyUsageType::from))
        .set_key_spec(
            config
                .get("customer_master_key_spec")
                .as_str()
                .map(KeySpec::from),
        )
        .set_policy(str_of(config.get("policy")))
        .set_bypass_policy_lockout_safety_check(
            config.get("bypass_policy_lockout_safety_check").as_bool(),
        )
        .set_multi_region(config.get("multi_region").as_bool())
        .set_tags(Some(kms_tags(&string_map(config, "tags_all"))?))
        .send()
        .await
        .map_err(|e| sdk_error("CreateKey", e))?;
    let id = out
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .ok_or_else(|| ProviderError::new("CreateKey returned no key id"))?;
    // The key exists from here on; its keel tags let a later run find it if a step fails.
    if config.get("enable_key_rotation").as_bool() == Some(true) {
        set_rotation(kms, &id, config).await?;
    }
    if config.get("is_enabled").as_bool() == Some(false) {
        kms.disable_key()
            .key_id(&id)
            .send()
            .await
            .map_err(|e| sdk_error("DisableKey", e))?;
    }
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_key(kms, &super::ec2::merge_config(&known, config))
        .await?
        .ok_or_else(|| {
            ProviderError::new(format!("KMS key {id} vanished right after it was created"))
        })
}

async fn set_rotation(kms: &Client, id: &str, config: &Value) -> Result<()> {
    if config.get("enable_key_rotation").as_bool() == Some(true) {
        kms.enable_key_rotation()
            .key_id(id)
            .set_rotation_period_in_days(number(config.get("rotation_period_in_days")))
            .send()
            .await
            .map_err(|e| sdk_error("EnableKeyRotation", e))?;
    } else {
        kms.disable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("DisableKeyRotation", e))?;
    }
    Ok(())
}

/// Rotation is read only where AWS supports it: symmetric encryption keys with key
/// material from KMS. Elsewhere GetKeyRotationStatus fails, and rotation is off.
async fn rotation_of(kms: &Client, id: &str, rotatable: bool) -> Result<(bool, Option<i32>)> {
    if !rotatable {
        return Ok((false, None));
    }
    let out = kms
        .get_key_rotation_status()
        .key_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetKeyRotationStatus", e))?;
    Ok((out.key_rotation_enabled(), out.rotation_period_in_days()))
}

async fn policy_of(kms: &Client, id: &str) -> Result<Option<String>> {
    let out = kms
        .get_key_policy()
        .key_id(id)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .map_err(|e| sdk_error("GetKeyPolicy", e))?;
    Ok(out.policy().map(str::to_string))
}

async fn tags_of(kms: &Client, id: &str) -> Result<BTreeMap<String, String>> {
    let pages = kms.list_resource_tags().key_id(id).into_paginator().send();
    let tags = from_pages(
        "ListResourceTags",
        pages,
        |p| p.tags(),
        |t| Some((t.tag_key().to_string(), t.tag_value().to_string())),
    )
    .await?;
    Ok(tags.into_iter().collect())
}

pub async fn read_key(kms: &Client, prior: &Value) -> Result<Option<Value>> {
    let id = prior_id(prior)?;
    let meta = match kms.describe_key().key_id(id).send().await {
        Ok(out) => match out.key_metadata {
            Some(m) => m,
            None => return Ok(None),
        },
        Err(e) if e.code() == Some("NotFoundException") => return Ok(None),
        Err(e) => return Err(sdk_error("DescribeKey", e)),
    };
    // A key scheduled for deletion is on its way out: Terraform reads it as gone, and a
    // plan creates a new one.
    if matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        return Ok(None);
    }
    let key_id = meta.key_id().to_string();
    let spec = meta
        .key_spec()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_string());
    let rotatable =
        spec == "SYMMETRIC_DEFAULT" && meta.origin().is_none_or(|o| *o == OriginType::AwsKms);
    let ((rotation, period), policy, tags) = futures_util::future::try_join3(
        rotation_of(kms, &key_id, rotatable),
        policy_of(kms, &key_id),
        tags_of(kms, &key_id),
    )
    .await?;
    let policy = match policy {
        Some(cloud) => Value::str(keep_prior(prior.get("policy").as_str(), cloud)),
        None => Value::Null,
    };
    let s = |v: Option<&str>| v.map(Value::str).unwrap_or(Value::Null);
    let attrs = BTreeMap::from([
        ("id".to_string(), Value::str(&key_id)),
        ("key_id".to_string(), Value::str(&key_id)),
        ("arn".to_string(), s(meta.arn())),
        ("description".to_string(), s(meta.description())),
        (
            "key_usage".to_string(),
            s(meta.key_usage().map(|u| u.as_str())),
        ),
        ("customer_master_key_spec".to_string(), Value::str(spec)),
        (
            "multi_region".to_string(),
            Value::Bool(meta.multi_region().unwrap_or(false)),
        ),
        ("is_enabled".to_string(), Value::Bool(meta.enabled())),
        ("enable_key_rotation".to_string(), Value::Bool(rotation)),
        (
            "rotation_period_in_days".to_string(),
            match (rotation, period) {
                (true, Some(days)) => Value::Number(days.into()),
                _ => Value::Null,
            },
        ),
        ("policy".to_string(), policy),
        // Not cloud attributes: what keel sends when it changes the policy or deletes.
        (
            "bypass_policy_lockout_safety_check".to_string(),
            Value::Bool(
                prior
                    .get("bypass_policy_lockout_safety_check")
                    .as_bool()
                    .unwrap_or(false),
            ),
        ),
        (
            "deletion_window_in_days".to_string(),
            prior.get("deletion_window_in_days").clone(),
        ),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]);
    Ok(Some(Value::Map(attrs)))
}

pub async fn update_key(kms: &Client, prior: &Value, config: &Value) -> Result<Value> {
    check_rotation(config)?;
    let id = prior_id(prior)?.to_string();
    let description = config.get("description").as_str().unwrap_or_default();
    if prior.get("description").as_str().unwrap_or_default() != description {
        kms.update_key_description()
            .key_id(&id)
            .description(description)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateKeyDescription", e))?;
    }
    // Left out of the configuration, the policy stays whatever the key has.
    if let Some(policy) = config.get("policy").as_str()
        && !prior
            .get("policy")
            .as_str()
            .is_some_and(|p| equivalent(p, policy))
    {
        kms.put_key_policy()
            .key_id(&id)
            .policy_name(POLICY_NAME)
            .policy(policy)
            .set_bypass_policy_lockout_safety_check(
                config.get("bypass_policy_lockout_safety_check").as_bool(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutKeyPolicy", e))?;
    }
    // AWS changes rotation only on an enabled key: enable first, disable last.
    let enabled = config.get("is_enabled").as_bool().unwrap_or(true);
    let was_enabled = prior.get("is_enabled").as_bool().unwrap_or(true);
    if enabled && !was_enabled {
        kms.enable_key()
            .key_id(&id)
            .send()
            .await
            .map_err(|e| sdk_error("EnableKey", e))?;
    }
    let rotation = config.get("enable_key_rotation").as_bool().unwrap_or(false);
    let period = config.get("rotation_period_in_days");
    if prior.get("enable_key_rotation").as_bool().unwrap_or(false) != rotation
        || (rotation && !period.is_null() && prior.get("rotation_period_in_days") != period)
    {
        set_rotation(kms, &id, config).await?;
    }
    if !enabled && was_enabled {
        kms.disable_key()
            .key_id(&id)
            .send()
            .await
            .map_err(|e| sdk_error("DisableKey", e))?;
    }
    let (set, remove) = tag_changes(
        &string_map(prior, "tags_all"),
        &string_map(config, "tags_all"),
    );
    if !remove.is_empty() {
        kms.untag_resource()
            .key_id(&id)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| sdk_error("UntagResource", e))?;
    }
    if !set.is_empty() {
        kms.tag_resource()
            .key_id(&id)
            .set_tags(Some(kms_tags(&set)?))
            .send()
            .await
            .map_err(|e| sdk_error("TagResource", e))?;
    }
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&id))]));
    read_key(kms, &super::ec2::merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("KMS key {id} no longer exists")))
}

/// Schedules the key's deletion; a key already gone or pending deletion is done.
pub async fn delete_key(kms: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match kms
        .schedule_key_deletion()
        .key_id(id)
        .set_pending_window_in_days(number(prior.get("deletion_window_in_days")))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("NotFoundException") => Ok(()),
        Err(e)
            if e.code() == Some("KMSInvalidStateException")
                && e.message().is_some_and(|m| m.contains("pending deletion")) =>
        {
            Ok(())
        }
        Err(e) => Err(sdk_error("ScheduleKeyDeletion", e)),
    }
}

// Checks of configured values, reported at plan time with the attribute's location.

fn check_key_usage(v: &Value) -> std::result::Result<(), String> {
    one_of(v, KeyUsageType::values())
}

fn check_key_spec(v: &Value) -> std::result::Result<(), String> {
    one_of(v, KeySpec::values())
}

fn check_deletion_window(v: &Value) -> std::result::Result<(), String> {
    whole_number_in(v, 7, 30)
}

fn check_rotation_period(v: &Value) -> std::result::Result<(), String> {
    whole_number_in(v, 90, 2560)
}

// Schemas and routing: Terraform AWS provider (v5) names.

pub static AWS_KMS_KEY: ResourceSchema = ResourceSchema {
    type_name: "aws_kms_key",
    attrs: &[
        Attr::optional("description", Ty::String),
        Attr::optional("key_usage", Ty::String)
            .force_new()
            .default(Default::Str("ENCRYPT_DECRYPT"))
            .check(check_key_usage),
        Attr::optional("customer_master_key_spec", Ty::String)
            .force_new()
            .default(Default::Str("SYMMETRIC_DEFAULT"))
            .check(check_key_spec),
        Attr::optional_computed("policy", Ty::Policy),
        Attr::optional("bypass_policy_lockout_safety_check", Ty::Bool)
            .default(Default::Bool(false)),
        Attr::optional("enable_key_rotation", Ty::Bool).default(Default::Bool(false)),
        Attr::optional_computed("rotation_period_in_days", Ty::Number).check(check_rotation_period),
        Attr::optional("deletion_window_in_days", Ty::Number).check(check_deletion_window),
        Attr::optional("is_enabled", Ty::Bool).default(Default::Bool(true)),
        Attr::optional_computed("multi_region", Ty::Bool).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("key_id", Ty::String),
        Attr::computed("arn", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub(super) static SCHEMAS: &[&ResourceSchema] = &[&AWS_KMS_KEY, &alias::AWS_KMS_ALIAS];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_kms_key" => create_key(&p.kms, config).await,
        "aws_kms_alias" => alias::create_alias(&p.kms, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    match type_ {
        "aws_kms_key" => read_each(priors, |v| read_key(&p.kms, v)).await,
        "aws_kms_alias" => alias::read_aliases(&p.kms, priors).await,
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
        "aws_kms_key" => update_key(&p.kms, prior, config).await,
        "aws_kms_alias" => alias::update_alias(&p.kms, prior, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_kms_key" => delete_key(&p.kms, prior).await,
        "aws_kms_alias" => alias::delete_alias(&p.kms, prior).await,
        other => Err(unsupported(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_periods_are_range_checked() {
        assert!(check_deletion_window(&Value::Number(7.0)).is_ok());
        assert!(check_deletion_window(&Value::Number(31.0)).is_err());
        assert!(check_rotation_period(&Value::Number(89.0)).is_err());
        assert!(check_rotation_period(&Value::Number(2560.0)).is_ok());
    }
}
