//! S3 bucket sub-resources against moto, each checked through the SDK after every step.

use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_s3::types::BucketVersioningStatus;

fn versioning(bucket: &str, status: &str) -> String {
    format!(
        r#"
resource "aws_s3_bucket" "data" {{
  bucket        = "{bucket}"
  force_destroy = true
}}

resource "aws_s3_bucket_versioning" "data" {{
  bucket = aws_s3_bucket.data.id
  versioning_configuration {{
    status = "{status}"
  }}
}}
"#
    )
}

async fn cloud_status(bucket: &str) -> Option<BucketVersioningStatus> {
    let out = moto()
        .s3()
        .await
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    out.status().cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_versioning_is_enabled_suspended_and_left_suspended_on_delete() {
    let p = Project::new("versioning");
    let bucket = p.stack.clone();
    p.write("main.hcl", &versioning(&bucket, "Enabled"));
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        cloud_status(&bucket).await,
        Some(BucketVersioningStatus::Enabled)
    );
    p.assert_no_changes();

    // Suspending is an in-place update.
    p.write("main.hcl", &versioning(&bucket, "Suspended"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_s3_bucket_versioning.data will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        cloud_status(&bucket).await,
        Some(BucketVersioningStatus::Suspended)
    );

    // A new bucket name replaces the bucket and, with it, its versioning.
    p.write("main.hcl", &versioning(&format!("{bucket}-b"), "Enabled"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        cloud_status(&format!("{bucket}-b")).await,
        Some(BucketVersioningStatus::Enabled)
    );

    // Removing the resource suspends versioning (it cannot be switched off) and keeps the
    // bucket.
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_s3_bucket" "data" {{
  bucket        = "{bucket}-b"
  force_destroy = true
}}
"#
        ),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        cloud_status(&format!("{bucket}-b")).await,
        Some(BucketVersioningStatus::Suspended)
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
    let gone = moto()
        .s3()
        .await
        .head_bucket()
        .bucket(format!("{bucket}-b"))
        .send()
        .await;
    assert!(gone.is_err(), "the bucket is destroyed");
}
