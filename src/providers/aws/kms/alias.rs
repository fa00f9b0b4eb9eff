//! `aws_kms_alias`: a name for a KMS key. Its id is the name (`alias/...`); every alias of
//! a stack is read with one paginated ListAliases.

use crate::providers::ProviderError;
use crate::providers::aws::pages::from_pages;
use crate::providers::aws::{prior_id, sdk_error};
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ProviderError>;

/// The alias name a configuration asks for: `name`, `name_prefix` and a unique suffix,
/// or a generated `alias/keel-...`, as Terraform does with `alias/terraform-...`.
fn alias_name(config: &Value) -> Result<String> {
    let suffix = || uuid::Uuid::new_v4().simple().to_string()[..26].to_string();
    match (
        config.get("name").as_str(),
        config.get("name_prefix").as_str(),
    ) {
        (Some(_), Some(_)) => Err(ProviderError::new(
            "set either name or name_prefix on an aws_kms_alias, not both",
        )),
        (Some(name), None) => Ok(name.to_string()),
        (None, Some(prefix)) => Ok(format!("{prefix}{}", suffix())),
        (None, None) => Ok(format!("alias/keel-{}", suffix())),
    }
}

pub async fn create_alias(kms: &Client, config: &Value) -> Result<Value> {
    let name = alias_name(config)?;
    kms.create_alias()
        .alias_name(&name)
        .target_key_id(config.get("target_key_id").as_str().unwrap_or_default())
        .send()
        .await
        .map_err(|e| sdk_error("CreateAlias", e))?;
    let known = Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(&name)),
        ("name".to_string(), Value::str(&name)),
    ]));
    read_alias(
        kms,
        &crate::providers::aws::ec2::merge_config(&known, config),
    )
    .await?
    .ok_or_else(|| {
        ProviderError::new(format!(
            "KMS alias {name} vanished right after it was created"
        ))
    })
}

async fn read_alias(kms: &Client, prior: &Value) -> Result<Option<Value>> {
    Ok(read_aliases(kms, std::slice::from_ref(prior))
        .await?
        .pop()
        .flatten())
}

/// Every alias in the region, by name: one ListAliases call per page of 100.
async fn list_aliases(kms: &Client) -> Result<HashMap<String, aws_sdk_kms::types::AliasListEntry>> {
    let pages = kms.list_aliases().limit(100).into_paginator().send();
    let aliases = from_pages(
        "ListAliases",
        pages,
        |p| p.aliases(),
        |a| Some((a.alias_name()?.to_string(), a.clone())),
    )
    .await?;
    Ok(aliases.into_iter().collect())
}

/// `target_key_id` as configured when it names the key the alias points to (by id or
/// ARN), so a configuration that uses the key's ARN plans no change.
fn same_key(prior: &Value, cloud_id: &str) -> Value {
    match prior.get("target_key_id").as_str() {
        Some(p) if p == cloud_id || p.ends_with(&format!(":key/{cloud_id}")) => Value::str(p),
        _ => Value::str(cloud_id),
    }
}

pub async fn read_aliases(kms: &Client, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let all = list_aliases(kms).await?;
    priors
        .iter()
        .map(|prior| {
            let name = prior_id(prior)?;
            let Some(alias) = all.get(name) else {
                return Ok(None);
            };
            let Some(key) = alias.target_key_id() else {
                return Ok(None);
            };
            let arn = alias.alias_arn().unwrap_or_default();
            // arn:aws:kms:REGION:ACCOUNT:alias/NAME -> arn:aws:kms:REGION:ACCOUNT:key/ID
            let key_arn = match arn.find(":alias/") {
                Some(i) => Value::str(format!("{}:key/{key}", &arn[..i])),
                None => Value::Null,
            };
            Ok(Some(Value::Map(BTreeMap::from([
                ("id".to_string(), Value::str(name)),
                ("name".to_string(), Value::str(name)),
                ("name_prefix".to_string(), prior.get("name_prefix").clone()),
                ("arn".to_string(), Value::str(arn)),
                ("target_key_id".to_string(), same_key(prior, key)),
                ("target_key_arn".to_string(), key_arn),
            ]))))
        })
        .collect()
}

pub async fn update_alias(kms: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let name = prior_id(prior)?.to_string();
    let target = config.get("target_key_id").as_str().unwrap_or_default();
    kms.update_alias()
        .alias_name(&name)
        .target_key_id(target)
        .send()
        .await
        .map_err(|e| sdk_error("UpdateAlias", e))?;
    let known = Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(&name)),
        ("name".to_string(), Value::str(&name)),
    ]));
    read_alias(
        kms,
        &crate::providers::aws::ec2::merge_config(&known, config),
    )
    .await?
    .ok_or_else(|| ProviderError::new(format!("KMS alias {name} no longer exists")))
}

pub async fn delete_alias(kms: &Client, prior: &Value) -> Result<()> {
    let name = prior_id(prior)?;
    match kms.delete_alias().alias_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("NotFoundException") => Ok(()),
        Err(e) => Err(sdk_error("DeleteAlias", e)),
    }
}

/// Alias names start with `alias/`; `alias/aws/` belongs to AWS's own keys.
fn check_alias_name(v: &Value) -> std::result::Result<(), String> {
    match v.as_str() {
        Some(s) if !s.starts_with("alias/") => Err(format!(
            "\"{s}\" must start with \"alias/\", e.g. \"alias/{s}\""
        )),
        Some(s) if s.starts_with("alias/aws/") => Err(format!(
            "\"{s}\" is reserved: names under \"alias/aws/\" belong to AWS managed keys"
        )),
        _ => Ok(()),
    }
}

pub static AWS_KMS_ALIAS: ResourceSchema = ResourceSchema {
    type_name: "aws_kms_alias",
    attrs: &[
        Attr::optional_computed("name", Ty::String)
            .force_new()
            .check(check_alias_name),
        Attr::optional("name_prefix", Ty::String)
            .force_new()
            .check(check_alias_name),
        Attr::required("target_key_id", Ty::String),
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("target_key_arn", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_must_start_with_alias_slash() {
        assert!(check_alias_name(&Value::str("alias/data")).is_ok());
        let err = check_alias_name(&Value::str("data")).unwrap_err();
        assert!(err.contains("must start with \"alias/\""), "{err}");
        assert!(check_alias_name(&Value::str("alias/aws/s3")).is_err());
    }

    #[test]
    fn a_target_given_as_the_keys_arn_is_kept() {
        let prior = Value::Map(BTreeMap::from([(
            "target_key_id".to_string(),
            Value::str("arn:aws:kms:us-east-1:123456789012:key/abc"),
        )]));
        assert_eq!(
            same_key(&prior, "abc"),
            Value::str("arn:aws:kms:us-east-1:123456789012:key/abc")
        );
        assert_eq!(same_key(&prior, "def"), Value::str("def"));
    }

    #[test]
    fn generated_alias_names_follow_the_prefix() {
        let config = Value::Map(BTreeMap::from([(
            "name_prefix".to_string(),
            Value::str("alias/data-"),
        )]));
        let name = alias_name(&config).unwrap();
        assert!(
            name.starts_with("alias/data-") && name.len() == 11 + 26,
            "{name}"
        );
    }
}
