//! Who may reach a bucket: `aws_s3_bucket_public_access_block`, `aws_s3_bucket_policy` and
//! `aws_s3_bucket_ownership_controls`. Each is one Put, one Get and one Delete on its
//! bucket; its id is the bucket's name, so importing one takes the bucket name. Removing
//! one deletes that configuration from the bucket, as Terraform does.

use super::{bucket_of, build_err, first, gone};
use crate::providers::ProviderError;
use crate::providers::aws::{prior_id, sdk_error};
use crate::providers::policy::keep_prior;
use crate::value::Value;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
};
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

/// The identity of a bucket sub-resource merged into its configuration, for the read that
/// follows a write.
fn known(bucket: &str, config: &Value) -> Value {
    let mut map = config.as_map().cloned().unwrap_or_default();
    map.insert("id".into(), Value::str(bucket));
    Value::Map(map)
}

fn after_write(what: &str, bucket: &str, read: Option<Value>) -> Result<Value> {
    read.ok_or_else(|| {
        ProviderError::new(format!(
            "the {what} of bucket {bucket} was not there right after keel wrote it"
        ))
    })
}

const PAB_FLAGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

pub async fn put_public_access_block(s3: &Client, config: &Value) -> Result<Value> {
    let bucket = bucket_of(config);
    let flag = |name: &str| config.get(name).as_bool().unwrap_or(false);
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(flag("block_public_acls"))
                .block_public_policy(flag("block_public_policy"))
                .ignore_public_acls(flag("ignore_public_acls"))
                .restrict_public_buckets(flag("restrict_public_buckets"))
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("PutPublicAccessBlock", e))?;
    let read = read_public_access_block(s3, &known(&bucket, config)).await?;
    after_write("public access block", &bucket, read)
}

pub async fn read_public_access_block(s3: &Client, prior: &Value) -> Result<Option<Value>> {
    let bucket = prior_id(prior)?;
    let out = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => out,
        Err(e) if gone(e.code(), "NoSuchPublicAccessBlockConfiguration") => return Ok(None),
        Err(e) => return Err(sdk_error("GetPublicAccessBlock", e)),
    };
    let Some(c) = out.public_access_block_configuration() else {
        return Ok(None);
    };
    let flags = [
        c.block_public_acls(),
        c.block_public_policy(),
        c.ignore_public_acls(),
        c.restrict_public_buckets(),
    ];
    let mut attrs = BTreeMap::from([
        ("id".to_string(), Value::str(bucket)),
        ("bucket".to_string(), Value::str(bucket)),
    ]);
    for (name, v) in PAB_FLAGS.iter().zip(flags) {
        attrs.insert(name.to_string(), Value::Bool(v.unwrap_or(false)));
    }
    Ok(Some(Value::Map(attrs)))
}

pub async fn delete_public_access_block(s3: &Client, prior: &Value) -> Result<()> {
    let bucket = prior_id(prior)?;
    match s3.delete_public_access_block().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if gone(e.code(), "NoSuchPublicAccessBlockConfiguration") => Ok(()),
        Err(e) => Err(sdk_error("DeletePublicAccessBlock", e)),
    }
}

pub async fn put_policy(s3: &Client, config: &Value) -> Result<Value> {
    let bucket = bucket_of(config);
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(config.get("policy").as_str().unwrap_or_default())
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketPolicy", e))?;
    let read = read_policy(s3, &known(&bucket, config)).await?;
    after_write("policy", &bucket, read)
}

/// The policy as AWS holds it, recorded in the configured text when the two mean the same
/// (AWS re-serialises what it is given).
pub async fn read_policy(s3: &Client, prior: &Value) -> Result<Option<Value>> {
    let bucket = prior_id(prior)?;
    let out = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => out,
        Err(e) if gone(e.code(), "NoSuchBucketPolicy") => return Ok(None),
        Err(e) => return Err(sdk_error("GetBucketPolicy", e)),
    };
    let Some(cloud) = out.policy() else {
        return Ok(None);
    };
    Ok(Some(Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(bucket)),
        ("bucket".to_string(), Value::str(bucket)),
        (
            "policy".to_string(),
            Value::str(keep_prior(prior.get("policy").as_str(), cloud.to_string())),
        ),
    ]))))
}

pub async fn delete_policy(s3: &Client, prior: &Value) -> Result<()> {
    let bucket = prior_id(prior)?;
    match s3.delete_bucket_policy().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if gone(e.code(), "NoSuchBucketPolicy") => Ok(()),
        Err(e) => Err(sdk_error("DeleteBucketPolicy", e)),
    }
}

pub async fn put_ownership(s3: &Client, config: &Value) -> Result<Value> {
    let bucket = bucket_of(config);
    let ownership = first(config, "rule")
        .get("object_ownership")
        .as_str()
        .unwrap_or("BucketOwnerEnforced");
    let controls = OwnershipControls::builder()
        .rules(
            OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::from(ownership))
                .build()
                .map_err(|e| build_err("ownership rule", e))?,
        )
        .build()
        .map_err(|e| build_err("ownership controls", e))?;
    s3.put_bucket_ownership_controls()
        .bucket(&bucket)
        .ownership_controls(controls)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketOwnershipControls", e))?;
    let read = read_ownership(s3, &known(&bucket, config)).await?;
    after_write("ownership controls", &bucket, read)
}

pub async fn read_ownership(s3: &Client, prior: &Value) -> Result<Option<Value>> {
    let bucket = prior_id(prior)?;
    let out = match s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if gone(e.code(), "OwnershipControlsNotFoundError") => return Ok(None),
        Err(e) => return Err(sdk_error("GetBucketOwnershipControls", e)),
    };
    let Some(rule) = out.ownership_controls().and_then(|c| c.rules().first()) else {
        return Ok(None);
    };
    let rule = Value::Map(BTreeMap::from([(
        "object_ownership".to_string(),
        Value::str(rule.object_ownership().as_str()),
    )]));
    Ok(Some(Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(bucket)),
        ("bucket".to_string(), Value::str(bucket)),
        ("rule".to_string(), Value::List(vec![rule])),
    ]))))
}

pub async fn delete_ownership(s3: &Client, prior: &Value) -> Result<()> {
    let bucket = prior_id(prior)?;
    match s3
        .delete_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if gone(e.code(), "OwnershipControlsNotFoundError") => Ok(()),
        Err(e) => Err(sdk_error("DeleteBucketOwnershipControls", e)),
    }
}
