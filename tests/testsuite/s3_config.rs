//! The S3 bucket sub-resources that decide who may reach a bucket and how long its objects
//! live: public access block, policy, ownership controls and lifecycle rules. Each is
//! created, read back through the SDK, updated in place, replaced when its bucket changes
//! (the force-new attribute) and removed, which resets that configuration on the bucket.

use crate::fixture::{Project, Run};
use crate::moto::moto;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{ExpirationStatus, ObjectOwnership, TransitionStorageClass};

/// Two buckets, `STACK-a` and `STACK-b`, and the sub-resource(s) in `sub`.
fn stack(p: &Project, sub: &str) -> String {
    let s = &p.stack;
    format!(
        r#"
resource "aws_s3_bucket" "a" {{
  bucket        = "{s}-a"
  force_destroy = true
}}

resource "aws_s3_bucket" "b" {{
  bucket        = "{s}-b"
  force_destroy = true
}}
{sub}
"#
    )
}

fn assert_updates_in_place(plan: &Run, addr: &str) {
    assert!(
        plan.stdout
            .contains(&format!("{addr} will be updated in-place")),
        "{}",
        plan.stdout
    );
}

fn assert_bucket_forces_replacement(plan: &Run, addr: &str) {
    assert!(
        plan.stdout.contains(&format!("{addr} must be replaced"))
            && plan
                .stdout
                .lines()
                .any(|l| l.contains("bucket") && l.contains("# forces replacement")),
        "{}",
        plan.stdout
    );
}

/// The error code of an SDK call that should fail.
fn code<T, E: ProvideErrorMetadata>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "no error".to_string(),
        Err(e) => e.code().unwrap_or("no code").to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn public_access_block_is_put_updated_moved_and_removed() {
    let p = Project::new("pab");
    let s3 = moto().s3().await;
    let (a, b) = (format!("{}-a", p.stack), format!("{}-b", p.stack));
    let pab = |bucket: &str, acls: bool, policy: bool| {
        format!(
            r#"
resource "aws_s3_bucket_public_access_block" "x" {{
  bucket                  = aws_s3_bucket.{bucket}.id
  block_public_acls       = {acls}
  block_public_policy     = {policy}
  ignore_public_acls      = true
  restrict_public_buckets = true
}}

# Turning settings off is what this test does; the guardrails would deny it.
policy {{
  rule "s3-public-access" {{
    enabled = false
  }}
}}
"#
        )
    };
    let get = |bucket: String| {
        let s3 = s3.clone();
        async move {
            let out = s3
                .get_public_access_block()
                .bucket(bucket)
                .send()
                .await
                .unwrap();
            let c = out.public_access_block_configuration().unwrap().clone();
            [
                c.block_public_acls(),
                c.block_public_policy(),
                c.ignore_public_acls(),
                c.restrict_public_buckets(),
            ]
        }
    };
    p.write("main.hcl", &stack(&p, &pab("a", true, true)));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(get(a.clone()).await, [Some(true); 4]);
    assert_eq!(
        p.state()["resources"]["aws_s3_bucket_public_access_block.x"]["id"],
        a.as_str()
    );
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &pab("a", false, false)));
    assert_updates_in_place(
        &p.keel(&["plan"]).ok(),
        "aws_s3_bucket_public_access_block.x",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        get(a.clone()).await,
        [Some(false), Some(false), Some(true), Some(true)]
    );
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &pab("b", true, false)));
    assert_bucket_forces_replacement(
        &p.keel(&["plan"]).ok(),
        "aws_s3_bucket_public_access_block.x",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(s3.get_public_access_block().bucket(&a).send().await),
        "NoSuchPublicAccessBlockConfiguration"
    );
    assert_eq!(
        get(b.clone()).await,
        [Some(true), Some(false), Some(true), Some(true)]
    );

    p.write("main.hcl", &stack(&p, ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(s3.get_public_access_block().bucket(&b).send().await),
        "NoSuchPublicAccessBlockConfiguration"
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
}

fn policy_resource(bucket: &str, extra_statement: bool) -> String {
    let extra = if extra_statement {
        r#",
      {
        Sid       = "ReadOnly"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::123456789012:role/reader" }
        Action    = ["s3:GetObject"]
        Resource  = ["${aws_s3_bucket.BUCKET.arn}/*"]
      }"#
        .replace("BUCKET", bucket)
    } else {
        String::new()
    };
    format!(
        r#"
resource "aws_s3_bucket_policy" "x" {{
  bucket = aws_s3_bucket.{bucket}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.{bucket}.arn, "${{aws_s3_bucket.{bucket}.arn}}/*"]
        Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
      }}{extra}
    ]
  }})
}}
"#
    )
}

/// The Sids of the bucket's policy as S3 holds it.
async fn policy_sids(bucket: &str) -> Vec<String> {
    let out = moto()
        .s3()
        .await
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(out.policy().unwrap()).unwrap();
    let mut sids: Vec<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect();
    sids.sort();
    sids
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_policy_is_compared_by_meaning_updated_moved_and_removed() {
    let p = Project::new("policy");
    let s3 = moto().s3().await;
    let (a, b) = (format!("{}-a", p.stack), format!("{}-b", p.stack));
    p.write("main.hcl", &stack(&p, &policy_resource("a", false)));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(policy_sids(&a).await, ["DenyInsecureTransport"]);
    p.assert_no_changes();

    // The same grant written by hand, keys reordered, a one-element list as a string:
    // no change.
    let reformatted = format!(
        r#"
resource "aws_s3_bucket_policy" "x" {{
  bucket = aws_s3_bucket.a.id
  policy = <<JSON
{{
  "Statement": {{
    "Condition": {{"Bool": {{"aws:SecureTransport": "false"}}}},
    "Resource": ["arn:aws:s3:::{a}/*", "arn:aws:s3:::{a}"],
    "Action": ["s3:*"],
    "Principal": "*",
    "Effect": "Deny",
    "Sid": "DenyInsecureTransport"
  }},
  "Version": "2012-10-17"
}}
JSON
}}
"#
    );
    p.write("main.hcl", &stack(&p, &reformatted));
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &policy_resource("a", true)));
    assert_updates_in_place(&p.keel(&["plan"]).ok(), "aws_s3_bucket_policy.x");
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(policy_sids(&a).await, ["DenyInsecureTransport", "ReadOnly"]);
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &policy_resource("b", true)));
    assert_bucket_forces_replacement(&p.keel(&["plan"]).ok(), "aws_s3_bucket_policy.x");
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(s3.get_bucket_policy().bucket(&a).send().await),
        "NoSuchBucketPolicy"
    );
    assert_eq!(policy_sids(&b).await, ["DenyInsecureTransport", "ReadOnly"]);

    p.write("main.hcl", &stack(&p, ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(s3.get_bucket_policy().bucket(&b).send().await),
        "NoSuchBucketPolicy"
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn ownership_controls_are_put_updated_moved_and_removed() {
    let p = Project::new("ownership");
    let s3 = moto().s3().await;
    let (a, b) = (format!("{}-a", p.stack), format!("{}-b", p.stack));
    let oc = |bucket: &str, ownership: &str| {
        format!(
            r#"
resource "aws_s3_bucket_ownership_controls" "x" {{
  bucket = aws_s3_bucket.{bucket}.id
  rule {{
    object_ownership = "{ownership}"
  }}
}}
"#
        )
    };
    let get = |bucket: String| {
        let s3 = s3.clone();
        async move {
            let out = s3
                .get_bucket_ownership_controls()
                .bucket(bucket)
                .send()
                .await
                .unwrap();
            out.ownership_controls().unwrap().rules()[0]
                .object_ownership()
                .clone()
        }
    };

    // A value S3 does not know is refused at plan time.
    p.write("main.hcl", &stack(&p, &oc("a", "BucketOwnerEnforce")));
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("\"BucketOwnerEnforce\" is not one of")
            && run.stderr.contains("\"BucketOwnerEnforced\""),
        "{}",
        run.stderr
    );

    p.write("main.hcl", &stack(&p, &oc("a", "BucketOwnerEnforced")));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(get(a.clone()).await, ObjectOwnership::BucketOwnerEnforced);
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &oc("a", "BucketOwnerPreferred")));
    assert_updates_in_place(
        &p.keel(&["plan"]).ok(),
        "aws_s3_bucket_ownership_controls.x",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(get(a.clone()).await, ObjectOwnership::BucketOwnerPreferred);

    p.write("main.hcl", &stack(&p, &oc("b", "ObjectWriter")));
    assert_bucket_forces_replacement(
        &p.keel(&["plan"]).ok(),
        "aws_s3_bucket_ownership_controls.x",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(s3.get_bucket_ownership_controls().bucket(&a).send().await),
        "OwnershipControlsNotFoundError"
    );
    assert_eq!(get(b.clone()).await, ObjectOwnership::ObjectWriter);

    p.write("main.hcl", &stack(&p, ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(s3.get_bucket_ownership_controls().bucket(&b).send().await),
        "OwnershipControlsNotFoundError"
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
}

fn lifecycle(bucket: &str, archive_days: u32) -> String {
    format!(
        r#"
resource "aws_s3_bucket_lifecycle_configuration" "x" {{
  bucket = aws_s3_bucket.{bucket}.id

  rule {{
    id     = "logs"
    status = "Enabled"
    filter {{
      and {{
        prefix                   = "logs/"
        object_size_greater_than = 1024
        tags = {{
          class = "debug"
        }}
      }}
    }}
    expiration {{
      days = 30
    }}
  }}

  rule {{
    id     = "archive"
    status = "Enabled"
    filter {{}}
    transition {{
      days          = {archive_days}
      storage_class = "STANDARD_IA"
    }}
    transition {{
      days          = 180
      storage_class = "GLACIER"
    }}
    noncurrent_version_transition {{
      noncurrent_days           = 30
      newer_noncurrent_versions = 2
      storage_class             = "STANDARD_IA"
    }}
    noncurrent_version_expiration {{
      noncurrent_days           = 90
      newer_noncurrent_versions = 5
    }}
    abort_incomplete_multipart_upload {{
      days_after_initiation = 7
    }}
  }}

  rule {{
    id     = "tmp"
    status = "Disabled"
    filter {{
      tag {{
        key   = "tmp"
        value = "true"
      }}
    }}
    expiration {{
      date = "2030-01-01T00:00:00Z"
    }}
  }}

  rule {{
    id     = "small"
    status = "Enabled"
    filter {{
      object_size_less_than = 128
    }}
    expiration {{
      days = 1
    }}
  }}

  rule {{
    id     = "markers"
    status = "Enabled"
    filter {{
      prefix = "old/"
    }}
    expiration {{
      expired_object_delete_marker = true
    }}
  }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_rules_round_trip_update_in_place_move_and_are_removed() {
    let p = Project::new("lifecycle");
    let s3 = moto().s3().await;
    let (a, b) = (format!("{}-a", p.stack), format!("{}-b", p.stack));

    // A status S3 does not know is refused at plan time, at its line.
    p.write(
        "main.hcl",
        &stack(
            &p,
            &lifecycle("a", 30).replace("\"Disabled\"", "\"disabled\""),
        ),
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("\"disabled\" is not one of \"Enabled\", \"Disabled\""),
        "{}",
        run.stderr
    );

    p.write("main.hcl", &stack(&p, &lifecycle("a", 30)));
    p.keel(&["apply", "-auto-approve"]).ok();
    let out = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&a)
        .send()
        .await
        .unwrap();
    let rule = |id: &str| {
        out.rules()
            .iter()
            .find(|r| r.id() == Some(id))
            .unwrap_or_else(|| panic!("rule {id} in {:?}", out.rules()))
            .clone()
    };
    let logs = rule("logs");
    assert_eq!(logs.status(), &ExpirationStatus::Enabled);
    let and = logs.filter().unwrap().and().unwrap();
    assert_eq!(and.prefix(), Some("logs/"));
    assert_eq!(and.object_size_greater_than(), Some(1024));
    assert_eq!(and.tags()[0].key(), "class");
    assert_eq!(and.tags()[0].value(), "debug");
    assert_eq!(logs.expiration().unwrap().days(), Some(30));
    let archive = rule("archive");
    assert_eq!(archive.filter().unwrap().prefix(), Some(""));
    let mut transitions: Vec<(Option<i32>, Option<TransitionStorageClass>)> = archive
        .transitions()
        .iter()
        .map(|t| (t.days(), t.storage_class().cloned()))
        .collect();
    transitions.sort_by_key(|t| t.0);
    assert_eq!(
        transitions,
        [
            (Some(30), Some(TransitionStorageClass::StandardIa)),
            (Some(180), Some(TransitionStorageClass::Glacier))
        ]
    );
    let nvt = &archive.noncurrent_version_transitions()[0];
    assert_eq!(
        (nvt.noncurrent_days(), nvt.newer_noncurrent_versions()),
        (Some(30), Some(2))
    );
    let nve = archive.noncurrent_version_expiration().unwrap();
    assert_eq!(
        (nve.noncurrent_days(), nve.newer_noncurrent_versions()),
        (Some(90), Some(5))
    );
    assert_eq!(
        archive
            .abort_incomplete_multipart_upload()
            .unwrap()
            .days_after_initiation(),
        Some(7)
    );
    let tmp = rule("tmp");
    assert_eq!(tmp.status(), &ExpirationStatus::Disabled);
    assert_eq!(tmp.filter().unwrap().tag().unwrap().key(), "tmp");
    assert_eq!(
        tmp.expiration().unwrap().date().unwrap().secs(),
        1_893_456_000 // 2030-01-01T00:00:00Z
    );
    assert_eq!(
        rule("small").filter().unwrap().object_size_less_than(),
        Some(128)
    );
    assert_eq!(
        rule("markers")
            .expiration()
            .unwrap()
            .expired_object_delete_marker(),
        Some(true)
    );
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &lifecycle("a", 60)));
    let plan = p.keel(&["plan"]).ok();
    assert_updates_in_place(&plan, "aws_s3_bucket_lifecycle_configuration.x");
    p.keel(&["apply", "-auto-approve"]).ok();
    let out = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&a)
        .send()
        .await
        .unwrap();
    let archive = out
        .rules()
        .iter()
        .find(|r| r.id() == Some("archive"))
        .unwrap();
    assert!(
        archive.transitions().iter().any(|t| t.days() == Some(60)
            && t.storage_class() == Some(&TransitionStorageClass::StandardIa)),
        "{archive:?}"
    );
    assert_eq!(out.rules().len(), 5);
    p.assert_no_changes();

    p.write("main.hcl", &stack(&p, &lifecycle("b", 60)));
    assert_bucket_forces_replacement(
        &p.keel(&["plan"]).ok(),
        "aws_s3_bucket_lifecycle_configuration.x",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(
            s3.get_bucket_lifecycle_configuration()
                .bucket(&a)
                .send()
                .await
        ),
        "NoSuchLifecycleConfiguration"
    );
    let on_b = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.rules().len(), 5);

    p.write("main.hcl", &stack(&p, ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        code(
            s3.get_bucket_lifecycle_configuration()
                .bucket(&b)
                .send()
                .await
        ),
        "NoSuchLifecycleConfiguration"
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
}
