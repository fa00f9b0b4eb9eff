//! Refresh call counts against moto: reading n resources of an EC2 type takes one Describe
//! call per page of 200 ids, not one per resource, and an encrypted bucket reads only the
//! calls its configured resources need. keel counts its own calls and reports them in
//! `keel drift --metrics`, which is what these tests read.

use crate::fixture::Project;

/// The calls of one phase and operation in a drift metrics file.
fn calls(prom: &str, phase: &str, operation: &str) -> u64 {
    prom.lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{"))
        .filter(|l| {
            l.contains(&format!("phase=\"{phase}\""))
                && l.contains(&format!("operation=\"{operation}\""))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn refreshing_n_subnets_takes_one_call_per_page_of_ids() {
    // 205 subnets: two pages of ids (200 + 5), so two DescribeSubnets calls, where a
    // per-resource read would take 205.
    let n = 205;
    let p = Project::new("batch");
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.70.0.0/16"
}}

resource "aws_subnet" "s" {{
  count      = {n}
  vpc_id     = aws_vpc.main.id
  cidr_block = cidrsubnet(aws_vpc.main.cidr_block, 12, count.index)
}}
"#
        ),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let metrics = p.root.path().join("drift.prom");
    let run = p.keel(&["drift", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let prom = std::fs::read_to_string(&metrics).unwrap();

    assert_eq!(calls(&prom, "refresh", "DescribeSubnets"), 2, "{prom}");
    assert_eq!(calls(&prom, "refresh", "DescribeVpcs"), 1, "{prom}");
    // Everything the refresh did, for 206 resources: the subnets' two pages, and for the
    // one VPC its describe, its main route table and two DNS attributes (its default ACL
    // and default security group cannot change, and state already holds their ids).
    let total: u64 = prom
        .lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{") && l.contains("phase=\"refresh\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 2 + 4, "{prom}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refreshing_an_encrypted_bucket_reads_only_what_its_resources_need() {
    // The encrypted bucket pattern: a KMS key and alias, and a bucket with SSE-KMS,
    // versioning, public access block, policy, lifecycle and ownership controls. Each
    // sub-resource reads its one Get* call; the bucket itself reads its existence and
    // region (HeadBucket) and its tags, not the dozen configurations Terraform's
    // aws_s3_bucket reads whether or not the stack manages them.
    let p = Project::new("calls");
    p.write(
        "main.hcl",
        &crate::encrypted_bucket::encrypted_bucket(&p.stack),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let metrics = p.root.path().join("drift.prom");
    let run = p.keel(&["drift", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "no drift:\n{}{}", run.stdout, run.stderr);
    let prom = std::fs::read_to_string(&metrics).unwrap();

    let per_type: [(&str, &[&str]); 9] = [
        ("aws_s3_bucket", &["HeadBucket", "GetBucketTagging"]),
        (
            "aws_s3_bucket_server_side_encryption_configuration",
            &["GetBucketEncryption"],
        ),
        ("aws_s3_bucket_versioning", &["GetBucketVersioning"]),
        (
            "aws_s3_bucket_public_access_block",
            &["GetPublicAccessBlock"],
        ),
        ("aws_s3_bucket_policy", &["GetBucketPolicy"]),
        (
            "aws_s3_bucket_lifecycle_configuration",
            &["GetBucketLifecycleConfiguration"],
        ),
        (
            "aws_s3_bucket_ownership_controls",
            &["GetBucketOwnershipControls"],
        ),
        // KMS has no batched reads: four per key is the floor.
        (
            "aws_kms_key",
            &[
                "DescribeKey",
                "GetKeyRotationStatus",
                "GetKeyPolicy",
                "ListResourceTags",
            ],
        ),
        // One paginated ListAliases serves every alias in the stack.
        ("aws_kms_alias", &["ListAliases"]),
    ];
    for (type_, ops) in per_type {
        for op in ops {
            assert_eq!(calls(&prom, "refresh", op), 1, "{type_}: {op}\n{prom}");
        }
    }
    let total: u64 = prom
        .lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{") && l.contains("phase=\"refresh\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 13, "{prom}");
    p.keel(&["destroy", "-auto-approve"]).ok();
}
