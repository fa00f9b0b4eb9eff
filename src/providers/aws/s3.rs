//! S3 resources: `aws_s3_bucket`, its encryption and versioning here, who may reach it in
//! [`access`] (public access block, policy, ownership controls) and its lifecycle rules in
//! [`lifecycle`]. A bucket that still holds objects is deleted only when
//! `force_destroy = true`; object versions and delete markers count.
//!
//! Every sub-resource's id is its bucket's name, and each reads with its one Get* call.

mod access;
mod lifecycle;

use super::{AwsProvider, prior_id, sdk_error, string_map, tag_changes, tags_value, user_tags};
use super::{TAGS, TAGS_ALL, read_each, unsupported};
use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::providers::schema::{Attr, BlockType, Default, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete, MfaDelete,
    ObjectIdentifier, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

fn build_err(what: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("{what}: {e}"))
}

/// The bucket a sub-resource configures.
fn bucket_of(config: &Value) -> String {
    config
        .get("bucket")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Does an error code say the configuration is not there: the bucket, or the one
/// configuration a sub-resource manages (`missing`)?
fn gone(code: Option<&str>, missing: &str) -> bool {
    code.is_some_and(|c| c == "NoSuchBucket" || c == missing)
}

/// A bucket name for a bucket whose configuration leaves `bucket` out, as Terraform does
/// with its `terraform-...` names.
fn generated_name() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("keel-{}", &id[..24])
}

pub async fn create_bucket(p: &AwsProvider, config: &Value) -> Result<Value> {
    let name = config
        .get("bucket")
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(generated_name);
    let mut req = p.s3.create_bucket().bucket(&name);
    if p.region() != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(p.region()))
                .build(),
        );
    }
    req.send().await.map_err(|e| sdk_error("CreateBucket", e))?;
    let tags = string_map(config, "tags_all");
    put_tags(&p.s3, &name, &tags).await?;
    let mut known = config.as_map().cloned().unwrap_or_default();
    known.insert("id".into(), Value::str(&name));
    read_bucket(p, &Value::Map(known)).await?.ok_or_else(|| {
        ProviderError::new(format!("bucket {name} vanished right after it was created"))
    })
}

async fn put_tags(s3: &Client, bucket: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.is_empty() {
        s3.delete_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteBucketTagging", e))?;
        return Ok(());
    }
    let set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| build_err("bucket tag", e))?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(|e| build_err("bucket tagging", e))?;
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketTagging", e))?;
    Ok(())
}

/// Reads a bucket's own attributes with two calls: HeadBucket (existence, and the region
/// in its `x-amz-bucket-region` header) and GetBucketTagging. Everything else a bucket can
/// have (encryption, versioning, policy, lifecycle, ...) is its own resource type with its
/// own read, so a stack pays only for the sub-resources it configures.
pub async fn read_bucket(p: &AwsProvider, prior: &Value) -> Result<Option<Value>> {
    let name = prior_id(prior)?;
    let head = match p.s3.head_bucket().bucket(name).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
        Err(e) if e.code() == Some("NoSuchBucket") || e.code() == Some("NotFound") => {
            return Ok(None);
        }
        Err(e) => return Err(sdk_error("HeadBucket", e)),
    };
    let tags: BTreeMap<String, String> = match p.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(e) if e.code() == Some("NoSuchTagSet") => BTreeMap::new(),
        Err(e) => return Err(sdk_error("GetBucketTagging", e)),
    };
    let region = head
        .bucket_region()
        .filter(|r| !r.is_empty())
        .unwrap_or(p.region())
        .to_string();
    let attrs = BTreeMap::from([
        ("id".to_string(), Value::str(name)),
        ("bucket".to_string(), Value::str(name)),
        (
            "arn".to_string(),
            Value::str(format!("arn:aws:s3:::{name}")),
        ),
        ("region".to_string(), Value::str(&region)),
        (
            "bucket_domain_name".to_string(),
            Value::str(format!("{name}.s3.amazonaws.com")),
        ),
        (
            "bucket_regional_domain_name".to_string(),
            Value::str(format!("{name}.s3.{region}.amazonaws.com")),
        ),
        // Not a cloud attribute: it says what keel may do when destroying.
        (
            "force_destroy".to_string(),
            Value::Bool(prior.get("force_destroy").as_bool().unwrap_or(false)),
        ),
        ("tags".to_string(), user_tags(prior, &tags)),
        ("tags_all".to_string(), tags_value(&tags)),
    ]);
    Ok(Some(Value::Map(attrs)))
}

pub async fn update_bucket(p: &AwsProvider, prior: &Value, config: &Value) -> Result<Value> {
    let name = prior_id(prior)?.to_string();
    let (set, remove) = tag_changes(
        &string_map(prior, "tags_all"),
        &string_map(config, "tags_all"),
    );
    if !set.is_empty() || !remove.is_empty() {
        put_tags(&p.s3, &name, &string_map(config, "tags_all")).await?;
    }
    let mut known = config.as_map().cloned().unwrap_or_default();
    known.insert("id".into(), Value::str(&name));
    read_bucket(p, &Value::Map(known))
        .await?
        .ok_or_else(|| ProviderError::new(format!("bucket {name} no longer exists")))
}

pub async fn delete_bucket(s3: &Client, prior: &Value) -> Result<()> {
    let name = prior_id(prior)?;
    match s3.delete_bucket().bucket(name).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.code() == Some("NoSuchBucket") => return Ok(()),
        Err(e) if e.code() == Some("BucketNotEmpty") => {
            if prior.get("force_destroy").as_bool() != Some(true) {
                return Err(ProviderError::with_code(
                    "BucketNotEmpty",
                    format!(
                        "bucket {name} still holds objects, and keel never deletes data unless told to: \
                         empty the bucket, or set force_destroy = true on it and apply before destroying"
                    ),
                ));
            }
        }
        Err(e) => return Err(sdk_error("DeleteBucket", e)),
    }
    empty_bucket(s3, name).await?;
    s3.delete_bucket()
        .bucket(name)
        .send()
        .await
        .map_err(|e| sdk_error("DeleteBucket", e))?;
    Ok(())
}

/// Deletes every object version and delete marker, a page at a time.
async fn empty_bucket(s3: &Client, name: &str) -> Result<()> {
    let mut key_marker = None;
    let mut version_marker = None;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(name)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| sdk_error("ListObjectVersions", e))?;
        let mut ids = Vec::new();
        for (key, version) in page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
        {
            if let Some(key) = key {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(version.filter(|v| *v != "null").map(str::to_string))
                        .build()
                        .map_err(|e| build_err("object identifier", e))?,
                );
            }
        }
        if !ids.is_empty() {
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| build_err("delete request", e))?;
            s3.delete_objects()
                .bucket(name)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", e))?;
        }
        if page.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

fn first<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key)
        .as_list()
        .and_then(|l| l.first())
        .unwrap_or(&Value::Null)
}

pub async fn put_encryption(s3: &Client, config: &Value) -> Result<Value> {
    let bucket = config
        .get("bucket")
        .as_str()
        .unwrap_or_default()
        .to_string();
    let rule = first(config, "rule");
    let default = first(rule, "apply_server_side_encryption_by_default");
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(
            default.get("sse_algorithm").as_str().unwrap_or("AES256"),
        ))
        .set_kms_master_key_id(
            default
                .get("kms_master_key_id")
                .as_str()
                .map(str::to_string),
        )
        .build()
        .map_err(|e| build_err("encryption default", e))?;
    let sse = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .set_bucket_key_enabled(rule.get("bucket_key_enabled").as_bool())
                .build(),
        )
        .build()
        .map_err(|e| build_err("encryption configuration", e))?;
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .set_expected_bucket_owner(
            config
                .get("expected_bucket_owner")
                .as_str()
                .map(str::to_string),
        )
        .server_side_encryption_configuration(sse)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketEncryption", e))?;
    let mut known = config.as_map().cloned().unwrap_or_default();
    known.insert("id".into(), Value::str(&bucket));
    read_encryption(s3, &Value::Map(known))
        .await?
        .ok_or_else(|| {
            ProviderError::new(format!(
                "the encryption configuration of bucket {bucket} did not stick"
            ))
        })
}

pub async fn read_encryption(s3: &Client, prior: &Value) -> Result<Option<Value>> {
    let bucket = prior_id(prior)?;
    let out = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => out,
        Err(e)
            if matches!(
                e.code(),
                Some("ServerSideEncryptionConfigurationNotFoundError" | "NoSuchBucket")
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(sdk_error("GetBucketEncryption", e)),
    };
    let Some(rule) = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
    else {
        return Ok(None);
    };
    let prior_rule = first(prior, "rule");
    let mut default = BTreeMap::new();
    if let Some(d) = rule.apply_server_side_encryption_by_default() {
        default.insert(
            "sse_algorithm".to_string(),
            Value::str(d.sse_algorithm().as_str()),
        );
        default.insert(
            "kms_master_key_id".to_string(),
            d.kms_master_key_id().map(Value::str).unwrap_or(Value::Null),
        );
    }
    // bucket_key_enabled left out of the configuration reads back as AWS's false; keep it
    // unset so an unchanged stack plans no change.
    let bucket_key = match rule.bucket_key_enabled() {
        Some(true) => Value::Bool(true),
        _ if prior_rule.get("bucket_key_enabled").is_null() => Value::Null,
        _ => Value::Bool(false),
    };
    let rule_value = Value::Map(BTreeMap::from([
        ("bucket_key_enabled".to_string(), bucket_key),
        (
            "apply_server_side_encryption_by_default".to_string(),
            Value::List(vec![Value::Map(default)]),
        ),
    ]));
    Ok(Some(Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(bucket)),
        ("bucket".to_string(), Value::str(bucket)),
        (
            "expected_bucket_owner".to_string(),
            prior.get("expected_bucket_owner").clone(),
        ),
        ("rule".to_string(), Value::List(vec![rule_value])),
    ]))))
}

pub async fn delete_encryption(s3: &Client, prior: &Value) -> Result<()> {
    let bucket = prior_id(prior)?;
    match s3.delete_bucket_encryption().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(()),
        Err(e) => Err(sdk_error("DeleteBucketEncryption", e)),
    }
}

/// `aws_s3_bucket_versioning`: "Enabled" and "Suspended" are put; "Disabled" (a bucket that
/// was never versioned) makes no call, as in Terraform.
pub async fn put_versioning(s3: &Client, config: &Value) -> Result<Value> {
    let bucket = config
        .get("bucket")
        .as_str()
        .unwrap_or_default()
        .to_string();
    let vc = first(config, "versioning_configuration");
    let status = vc.get("status").as_str().unwrap_or("Enabled");
    let wanted = match status {
        "Enabled" => Some(BucketVersioningStatus::Enabled),
        "Suspended" => Some(BucketVersioningStatus::Suspended),
        "Disabled" => None,
        other => {
            return Err(ProviderError::new(format!(
                "versioning_configuration.status is \"{other}\"; use \"Enabled\", \"Suspended\" or \"Disabled\""
            )));
        }
    };
    if let Some(status) = wanted {
        let mut conf = VersioningConfiguration::builder().status(status);
        if let Some(mfa) = vc.get("mfa_delete").as_str() {
            conf = conf.mfa_delete(MfaDelete::from(mfa));
        }
        s3.put_bucket_versioning()
            .bucket(&bucket)
            .set_expected_bucket_owner(
                config
                    .get("expected_bucket_owner")
                    .as_str()
                    .map(str::to_string),
            )
            .versioning_configuration(conf.build())
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketVersioning", e))?;
    }
    let known = Value::Map(BTreeMap::from([("id".to_string(), Value::str(&bucket))]));
    read_versioning(s3, &super::ec2::merge_config(&known, config))
        .await?
        .ok_or_else(|| ProviderError::new(format!("bucket {bucket} no longer exists")))
}

pub async fn read_versioning(s3: &Client, prior: &Value) -> Result<Option<Value>> {
    let bucket = prior_id(prior)?;
    let out = match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => out,
        Err(e) if e.code() == Some("NoSuchBucket") => return Ok(None),
        Err(e) => return Err(sdk_error("GetBucketVersioning", e)),
    };
    let prior_vc = first(prior, "versioning_configuration");
    let status = out
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "Disabled".to_string());
    let mfa = match out.mfa_delete() {
        Some(m) => Value::str(m.as_str()),
        // Left out of the configuration, AWS's "Disabled" is not a change.
        None => prior_vc.get("mfa_delete").clone(),
    };
    let vc = Value::Map(BTreeMap::from([
        ("status".to_string(), Value::str(status)),
        ("mfa_delete".to_string(), mfa),
    ]));
    Ok(Some(Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(bucket)),
        ("bucket".to_string(), Value::str(bucket)),
        (
            "expected_bucket_owner".to_string(),
            prior.get("expected_bucket_owner").clone(),
        ),
        (
            "versioning_configuration".to_string(),
            Value::List(vec![vc]),
        ),
    ]))))
}

/// Versioning cannot be switched off once on; removing the resource suspends it, as
/// Terraform does, and leaves the bucket's object versions alone.
pub async fn delete_versioning(s3: &Client, prior: &Value) -> Result<()> {
    let bucket = prior_id(prior)?;
    let status = first(prior, "versioning_configuration").get("status");
    if status.as_str() != Some("Enabled") {
        return Ok(());
    }
    match s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(()),
        Err(e) => Err(sdk_error("PutBucketVersioning", e)),
    }
}

// Schemas and routing: Terraform AWS provider (v5) names.

pub static AWS_S3_BUCKET: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket",
    attrs: &[
        Attr::optional_computed("bucket", Ty::String).force_new(),
        Attr::optional("force_destroy", Ty::Bool).default(Default::Bool(false)),
        // Object Lock and bucket_prefix: accepted only unset, as modules pass them through.
        Attr::unmanaged("bucket_prefix", Ty::String),
        Attr::unmanaged("object_lock_enabled", Ty::Bool),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("region", Ty::String),
        Attr::computed("bucket_domain_name", Ty::String),
        Attr::computed("bucket_regional_domain_name", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

const SSE_DEFAULT: BlockType = BlockType {
    name: "apply_server_side_encryption_by_default",
    attrs: &[
        Attr::required("sse_algorithm", Ty::String),
        Attr::optional("kms_master_key_id", Ty::String),
    ],
    blocks: &[],
    min_items: 1,
    max_items: Some(1),
    force_new: false,
    computed: false,
};

pub static AWS_S3_BUCKET_SSE: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_server_side_encryption_configuration",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::optional("expected_bucket_owner", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[BlockType {
        name: "rule",
        attrs: &[
            Attr::optional("bucket_key_enabled", Ty::Bool),
            Attr::unmanaged("blocked_encryption_types", Ty::StringList),
        ],
        blocks: &[SSE_DEFAULT],
        min_items: 1,
        max_items: Some(1),
        force_new: false,
        computed: false,
    }],
    taggable: false,
};

pub static AWS_S3_BUCKET_VERSIONING: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_versioning",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::optional("expected_bucket_owner", Ty::String).force_new(),
        // MFA delete needs the root account's device: accepted only unset.
        Attr::unmanaged("mfa", Ty::String),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[BlockType {
        name: "versioning_configuration",
        attrs: &[
            Attr::required("status", Ty::String),
            Attr::optional("mfa_delete", Ty::String),
        ],
        blocks: &[],
        min_items: 1,
        max_items: Some(1),
        force_new: false,
        computed: false,
    }],
    taggable: false,
};

pub static AWS_S3_BUCKET_PUBLIC_ACCESS_BLOCK: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_public_access_block",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::optional("block_public_acls", Ty::Bool).default(Default::Bool(false)),
        Attr::optional("block_public_policy", Ty::Bool).default(Default::Bool(false)),
        Attr::optional("ignore_public_acls", Ty::Bool).default(Default::Bool(false)),
        Attr::optional("restrict_public_buckets", Ty::Bool).default(Default::Bool(false)),
        Attr::unmanaged("skip_destroy", Ty::Bool),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

pub static AWS_S3_BUCKET_POLICY: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_policy",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::required("policy", Ty::Policy),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

fn check_object_ownership(v: &Value) -> std::result::Result<(), String> {
    crate::providers::schema::one_of(v, aws_sdk_s3::types::ObjectOwnership::values())
}

pub static AWS_S3_BUCKET_OWNERSHIP_CONTROLS: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_ownership_controls",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[BlockType {
        name: "rule",
        attrs: &[Attr::required("object_ownership", Ty::String).check(check_object_ownership)],
        blocks: &[],
        min_items: 1,
        max_items: Some(1),
        force_new: false,
        computed: false,
    }],
    taggable: false,
};

pub(super) static SCHEMAS: &[&ResourceSchema] = &[
    &AWS_S3_BUCKET,
    &AWS_S3_BUCKET_SSE,
    &AWS_S3_BUCKET_VERSIONING,
    &AWS_S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    &AWS_S3_BUCKET_POLICY,
    &AWS_S3_BUCKET_OWNERSHIP_CONTROLS,
    &lifecycle::AWS_S3_BUCKET_LIFECYCLE_CONFIGURATION,
];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_s3_bucket" => create_bucket(p, config).await,
        "aws_s3_bucket_server_side_encryption_configuration" => put_encryption(&p.s3, config).await,
        "aws_s3_bucket_versioning" => put_versioning(&p.s3, config).await,
        other => put_sub_resource(&p.s3, other, config).await,
    }
}

/// Creating and updating a sub-resource are the same Put of its whole configuration.
async fn put_sub_resource(s3: &Client, type_: &str, config: &Value) -> Result<Value> {
    match type_ {
        "aws_s3_bucket_public_access_block" => access::put_public_access_block(s3, config).await,
        "aws_s3_bucket_policy" => access::put_policy(s3, config).await,
        "aws_s3_bucket_ownership_controls" => access::put_ownership(s3, config).await,
        "aws_s3_bucket_lifecycle_configuration" => lifecycle::put_lifecycle(s3, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let s3 = &p.s3;
    match type_ {
        "aws_s3_bucket" => read_each(priors, |v| read_bucket(p, v)).await,
        "aws_s3_bucket_server_side_encryption_configuration" => {
            read_each(priors, |v| read_encryption(s3, v)).await
        }
        "aws_s3_bucket_versioning" => read_each(priors, |v| read_versioning(s3, v)).await,
        "aws_s3_bucket_public_access_block" => {
            read_each(priors, |v| access::read_public_access_block(s3, v)).await
        }
        "aws_s3_bucket_policy" => read_each(priors, |v| access::read_policy(s3, v)).await,
        "aws_s3_bucket_ownership_controls" => {
            read_each(priors, |v| access::read_ownership(s3, v)).await
        }
        "aws_s3_bucket_lifecycle_configuration" => {
            read_each(priors, |v| lifecycle::read_lifecycle(s3, v)).await
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
        "aws_s3_bucket" => update_bucket(p, prior, config).await,
        "aws_s3_bucket_server_side_encryption_configuration" => put_encryption(&p.s3, config).await,
        "aws_s3_bucket_versioning" => put_versioning(&p.s3, config).await,
        other => put_sub_resource(&p.s3, other, config).await,
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    match addr.type_.as_str() {
        "aws_s3_bucket" => delete_bucket(&p.s3, prior).await,
        "aws_s3_bucket_server_side_encryption_configuration" => {
            delete_encryption(&p.s3, prior).await
        }
        "aws_s3_bucket_versioning" => delete_versioning(&p.s3, prior).await,
        "aws_s3_bucket_public_access_block" => {
            access::delete_public_access_block(&p.s3, prior).await
        }
        "aws_s3_bucket_policy" => access::delete_policy(&p.s3, prior).await,
        "aws_s3_bucket_ownership_controls" => access::delete_ownership(&p.s3, prior).await,
        "aws_s3_bucket_lifecycle_configuration" => lifecycle::delete_lifecycle(&p.s3, prior).await,
        other => Err(unsupported(other)),
    }
}
