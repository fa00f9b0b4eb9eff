//! The encrypted bucket pattern end to end: a KMS key with rotation and an alias; a
//! bucket with SSE-KMS and a bucket key, versioning, public access blocked, ownership
//! enforced, a policy that denies anything but TLS, and lifecycle rules that move objects
//! to STANDARD_IA and expire old versions. It applies, re-plans with no changes, imports
//! from ids alone, and destroys to nothing (the key pending deletion).

use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_kms::types::KeyState;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ExpirationStatus, ObjectOwnership, ServerSideEncryption,
    TransitionStorageClass,
};

/// The pattern for a stack named `stack` (the bucket is named after it, the alias too).
pub fn encrypted_bucket(stack: &str) -> String {
    format!(
        r#"
resource "aws_kms_key" "data" {{
  description             = "keys for {stack}"
  enable_key_rotation     = true
  deletion_window_in_days = 7
}}

resource "aws_kms_alias" "data" {{
  name          = "alias/{stack}"
  target_key_id = aws_kms_key.data.key_id
}}

resource "aws_s3_bucket" "data" {{
  bucket        = "{stack}"
  force_destroy = true
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {{
  bucket = aws_s3_bucket.data.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }}
    bucket_key_enabled = true
  }}
}}

resource "aws_s3_bucket_versioning" "data" {{
  bucket = aws_s3_bucket.data.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_s3_bucket_public_access_block" "data" {{
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}

resource "aws_s3_bucket_ownership_controls" "data" {{
  bucket = aws_s3_bucket.data.id
  rule {{
    object_ownership = "BucketOwnerEnforced"
  }}
}}

resource "aws_s3_bucket_policy" "data" {{
  bucket = aws_s3_bucket.data.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.data.arn, "${{aws_s3_bucket.data.arn}}/*"]
      Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
    }}]
  }})
  depends_on = [aws_s3_bucket_public_access_block.data]
}}

resource "aws_s3_bucket_lifecycle_configuration" "data" {{
  bucket = aws_s3_bucket.data.id
  rule {{
    id     = "tiering"
    status = "Enabled"
    filter {{}}
    transition {{
      days          = 30
      storage_class = "STANDARD_IA"
    }}
    noncurrent_version_expiration {{
      noncurrent_days = 90
    }}
  }}
  depends_on = [aws_s3_bucket_versioning.data]
}}
"#
    )
}

/// The policy written by hand instead of with jsonencode: other key order, whitespace, a
/// list where there was a string.
fn reformatted_policy(stack: &str) -> String {
    let hand = format!(
        r#"policy = <<JSON
{{
  "Statement": [
    {{
      "Condition": {{ "Bool": {{ "aws:SecureTransport": "false" }} }},
      "Resource": [ "arn:aws:s3:::{stack}/*", "arn:aws:s3:::{stack}" ],
      "Principal": "*",
      "Action": [ "s3:*" ],
      "Effect": "Deny",
      "Sid": "DenyInsecureTransport"
    }}
  ],
  "Version": "2012-10-17"
}}
JSON
"#
    );
    let text = encrypted_bucket(stack);
    let start = text.find("  policy = jsonencode(").unwrap();
    let end = start + text[start..].find("  depends_on").unwrap();
    format!("{}  {hand}{}", &text[..start], &text[end..])
}

const TYPES: [&str; 9] = [
    "aws_kms_key.data",
    "aws_kms_alias.data",
    "aws_s3_bucket.data",
    "aws_s3_bucket_server_side_encryption_configuration.data",
    "aws_s3_bucket_versioning.data",
    "aws_s3_bucket_public_access_block.data",
    "aws_s3_bucket_ownership_controls.data",
    "aws_s3_bucket_policy.data",
    "aws_s3_bucket_lifecycle_configuration.data",
];

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_bucket_applies_replans_clean_imports_and_destroys_to_nothing() {
    let p = Project::new("encrypted");
    let bucket = p.stack.clone();
    let (s3, kms) = (moto().s3().await, moto().kms().await);
    p.write("main.hcl", &encrypted_bucket(&bucket));
    p.keel(&["apply", "-auto-approve"]).ok();
    let state = p.state();
    let key_id = state["resources"]["aws_kms_key.data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key_arn = state["resources"]["aws_kms_key.data"]["attributes"]["arn"]
        .as_str()
        .unwrap()
        .to_string();

    // The key, rotating, tagged as keel's, reachable by its alias.
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled());
    let by_alias = kms
        .describe_key()
        .key_id(format!("alias/{bucket}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_alias.key_metadata().unwrap().key_id(), key_id);
    let tags = kms
        .list_resource_tags()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "keel:stack" && t.tag_value() == bucket)
    );

    // The bucket's settings, each as S3 holds it.
    let sse = s3
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.sse_algorithm(), &ServerSideEncryption::AwsKms);
    assert_eq!(default.kms_master_key_id(), Some(key_arn.as_str()));
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    let versioning = s3
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Enabled));
    let pab = s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        [
            pab.block_public_acls(),
            pab.block_public_policy(),
            pab.ignore_public_acls(),
            pab.restrict_public_buckets()
        ],
        [Some(true); 4]
    );
    let oc = s3
        .get_bucket_ownership_controls()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        oc.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let tiering = &lc.rules()[0];
    assert_eq!(tiering.status(), &ExpirationStatus::Enabled);
    assert_eq!(
        tiering.transitions()[0].storage_class(),
        Some(&TransitionStorageClass::StandardIa)
    );
    assert_eq!(
        tiering
            .noncurrent_version_expiration()
            .unwrap()
            .noncurrent_days(),
        Some(90)
    );

    // Objects written without encryption headers get the bucket's SSE-KMS default (moto
    // records the algorithm and key; it does not encrypt). The deny-non-TLS policy lets
    // them through: moto's requests count as TLS (tests/moto/keel_moto.py, patch C).
    for body in ["one", "two"] {
        s3.put_object()
            .bucket(&bucket)
            .key("a.txt")
            .body(ByteStream::from_static(body.as_bytes()))
            .send()
            .await
            .unwrap();
    }
    s3.delete_object()
        .bucket(&bucket)
        .key("a.txt")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("b.txt")
        .body(ByteStream::from_static(b"b"))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("b.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(key_arn.as_str()));

    p.assert_no_changes();
    // The same policy written another way is no change.
    p.write("main.hcl", &reformatted_policy(&bucket));
    p.assert_no_changes();
    p.write("main.hcl", &encrypted_bucket(&bucket));

    // Import: a state holding only each resource's id refreshes to the full resource.
    let before = p.state();
    let mut ids_only = before.clone();
    for addr in TYPES {
        let r = &mut ids_only["resources"][addr];
        r["attributes"] = serde_json::json!({ "id": r["id"].clone() });
    }
    std::fs::write(
        p.state_path(),
        serde_json::to_string_pretty(&ids_only).unwrap(),
    )
    .unwrap();
    p.keel(&["apply", "-refresh-only", "-auto-approve"]).ok();
    let imported = p.state();
    for addr in TYPES {
        let mut want = before["resources"][addr]["attributes"].clone();
        let mut got = imported["resources"][addr]["attributes"].clone();
        // What keel does at destroy time, not attributes of the cloud object.
        for local in ["force_destroy", "deletion_window_in_days"] {
            if let Some(m) = want.as_object_mut() {
                m.remove(local);
            }
            if let Some(m) = got.as_object_mut() {
                m.remove(local);
            }
        }
        // The policy comes back as S3 serialises it: the same grant.
        if addr == "aws_s3_bucket_policy.data" {
            let read = |v: &serde_json::Value| -> serde_json::Value {
                keel::providers::policy::canonical(
                    &serde_json::from_str(v["policy"].as_str().unwrap()).unwrap(),
                )
            };
            assert_eq!(read(&got), read(&want), "{addr}");
            got["policy"] = want["policy"].clone();
        }
        assert_eq!(got, want, "{addr} read from its id alone");
    }
    // State back to what apply recorded, for destroy's force_destroy and deletion window.
    std::fs::write(
        p.state_path(),
        serde_json::to_string_pretty(&before).unwrap(),
    )
    .unwrap();

    p.keel(&["destroy", "-auto-approve"]).ok();
    let head = s3.head_bucket().bucket(&bucket).send().await;
    assert!(head.is_err(), "the bucket and its object versions are gone");
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(
        !aliases
            .aliases()
            .iter()
            .any(|a| a.alias_name() == Some(format!("alias/{bucket}").as_str()))
    );
    let key = kms.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state(),
        Some(&KeyState::PendingDeletion)
    );
    assert!(p.state()["resources"].as_object().unwrap().is_empty());
    // Nothing of it is left to read: the sub-resources went with the bucket.
    let code = s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .err()
        .and_then(|e| e.code().map(str::to_string));
    assert_eq!(code.as_deref(), Some("NoSuchBucket"));
}
