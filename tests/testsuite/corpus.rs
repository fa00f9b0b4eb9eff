//! The corpus (tests/corpus): stacks written the way public Terraform modules for VPCs,
//! IAM roles and S3 buckets are written (locals merging tags, count = var.create ? 1 : 0,
//! for_each over maps of objects, dynamic blocks, try(), policy documents, availability
//! zones), validated and planned against moto; the network and bucket stacks applied,
//! read back through the SDK, planned again with no changes and destroyed. A stack using
//! types keel does not manage gets exactly one error per type.

use crate::fixture::{Project, unique};
use crate::moto::{moto, stack_filter};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A project holding corpus stack `name` (under a unique directory) and the modules.
fn project(name: &str) -> Project {
    let p = Project::new(name);
    copy_dir(&corpus().join("modules"), &p.root.path().join("modules"));
    copy_dir(&corpus().join(name), &p.dir());
    p
}

fn tag_map<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    tags.map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn every_corpus_stack_is_valid_and_the_unsupported_one_names_each_type_once() {
    for name in ["network", "iam", "buckets"] {
        let p = project(name);
        let run = p.keel(&["validate"]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
    }
    let p = project("unsupported");
    let run = p.keel(&["validate", "-json"]);
    let doc: Json = serde_json::from_str(&run.stdout).unwrap();
    let summaries: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["summary"].as_str().unwrap().to_string())
        .collect();
    let wanted: BTreeSet<&str> = [
        "keel does not support resource type \"aws_dynamodb_table\"",
        "keel does not support resource type \"aws_lambda_function\"",
        "keel does not support resource type \"aws_sqs_queue\"",
    ]
    .into();
    assert_eq!(
        summaries
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        wanted,
        "{summaries:#?}"
    );
    assert_eq!(summaries.len(), 3, "one error per type: {summaries:#?}");
    for d in doc["diagnostics"].as_array().unwrap() {
        assert!(
            d["detail"]
                .as_str()
                .unwrap()
                .contains("supported types: aws_vpc, aws_subnet"),
            "{d}"
        );
    }
    // The first of the two DynamoDB blocks is the one named.
    let dynamo = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["summary"].as_str().unwrap().contains("dynamodb"))
        .unwrap();
    assert_eq!(dynamo["range"]["start"]["line"], 5, "{dynamo}");
    // Planning fails the same way and changes nothing.
    let plan = p.keel(&["plan"]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr.contains("keel found 3 problems"),
        "{}",
        plan.stderr
    );
    assert!(!p.state_path().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_network_stack_applies_as_the_module_describes_and_destroys() {
    let p = project("network");
    let name = unique("corpus-net");
    let var = format!("name={name}");
    let apply = p.keel(&["apply", "-auto-approve", "-var", &var]).ok();
    assert!(
        apply.stdout.contains("staging_vpc_id = null"),
        "{}",
        apply.stdout
    );

    let ec2 = moto().ec2().await;
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "the staging VPC stays switched off");
    let vpc = &vpcs.vpcs()[0];
    let tags = tag_map(
        vpc.tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap())),
    );
    assert_eq!(tags["Name"], name);
    assert_eq!(tags["Stack"], name);
    assert_eq!(tags["Module"], "vpc");
    assert_eq!(tags["Tier"], "network");
    assert_eq!(tags["ManagedBy"], "keel", "the provider's default tags");
    assert_eq!(tags["keel:address"], "module.vpc.aws_vpc.this[0]");

    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    let by_name: BTreeMap<String, (String, String, bool)> = subnets
        .subnets()
        .iter()
        .map(|s| {
            let tags = tag_map(
                s.tags()
                    .iter()
                    .map(|t| (t.key().unwrap(), t.value().unwrap())),
            );
            (
                tags["Name"].clone(),
                (
                    s.availability_zone().unwrap().to_string(),
                    s.cidr_block().unwrap().to_string(),
                    tags.contains_key("kubernetes.io/role/internal-elb"),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (String, String, bool)> = [
        (
            format!("{name}-edge"),
            ("us-east-1a", "10.70.0.0/24", false),
        ),
        (
            format!("{name}-public-us-east-1b"),
            ("us-east-1b", "10.70.1.0/24", false),
        ),
        (
            format!("{name}-public-us-east-1c"),
            ("us-east-1c", "10.70.2.0/24", false),
        ),
        (
            format!("{name}-private-us-east-1a"),
            ("us-east-1a", "10.70.10.0/24", true),
        ),
        (
            format!("{name}-private-us-east-1b"),
            ("us-east-1b", "10.70.11.0/24", true),
        ),
        (
            format!("{name}-private-us-east-1c"),
            ("us-east-1c", "10.70.12.0/24", true),
        ),
    ]
    .into_iter()
    .map(|(n, (az, cidr, elb))| (n, (az.to_string(), cidr.to_string(), elb)))
    .collect();
    assert_eq!(by_name, expected);

    let vpc_id = vpc.vpc_id().unwrap();
    let nats = ec2
        .describe_nat_gateways()
        .filter(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let live: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| n.state().map(|s| s.as_str()) == Some("available"))
        .collect();
    assert_eq!(live.len(), 1, "single_nat_gateway");

    let groups = ec2
        .describe_security_groups()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.security_groups().len(), 1);
    let mut rules: Vec<(i32, String)> = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .map(|r| {
            (
                r.from_port().unwrap(),
                r.ip_ranges()[0]
                    .description()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            (443, "https".to_string()),
            (9100, "node exporter".to_string())
        ]
    );

    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    let services: Vec<&str> = endpoints
        .vpc_endpoints()
        .iter()
        .map(|e| e.service_name().unwrap())
        .collect();
    assert_eq!(services, ["com.amazonaws.us-east-1.s3"]);
    assert_eq!(
        endpoints.vpc_endpoints()[0].route_table_ids().len(),
        2,
        "the public and the one private route table"
    );

    let again = p.keel(&["plan", "-detailed-exitcode", "-var", &var]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    p.keel(&["destroy", "-auto-approve", "-var", &var]).ok();
    let left = ec2
        .describe_vpcs()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert!(left.vpcs().is_empty());
}

#[test]
fn the_iam_stack_plans_roles_profiles_and_rendered_trust_policies() {
    let p = project("iam");
    let prefix = unique("corpus-iam");
    let var = format!("prefix={prefix}");
    let plan = p.keel(&["plan", "-var", &var]).ok();
    for created in [
        "module.node_role.aws_iam_role.this[0]",
        "module.node_role.aws_iam_instance_profile.this[0]",
        "module.node_role.aws_iam_role_policy_attachment.custom[0]",
        "module.node_role.aws_iam_role_policy_attachment.custom[1]",
        "module.ci_role.aws_iam_role.this[0]",
        "module.ci_role.aws_iam_policy.inline[0]",
        "module.ci_role.aws_iam_role_policy_attachment.inline[0]",
    ] {
        assert!(
            plan.stdout
                .contains(&format!("# {created} will be created")),
            "{created}:\n{}",
            plan.stdout
        );
    }
    assert!(!plan.stdout.contains("module.disabled"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("Plan: 7 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let doc: Json =
        serde_json::from_str(&p.keel(&["plan", "-json", "-var", &var]).ok().stdout).unwrap();
    let trust = doc["output_changes"]["ci_trust_policy"]["after"]
        .as_str()
        .unwrap();
    assert_eq!(
        trust,
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "TrustAccounts",
      "Effect": "Allow",
      "Action": [
        "sts:TagSession",
        "sts:AssumeRole"
      ],
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:root"
      },
      "Condition": {
        "Bool": {
          "aws:MultiFactorAuthPresent": "true"
        }
      }
    }
  ]
}"#
    );
    let inline = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "module.ci_role.aws_iam_policy.inline[0]")
        .unwrap();
    let policy: Json = serde_json::from_str(inline["after"]["policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"][1]["Sid"], "DenyOutsideRegion");
    assert_eq!(
        policy["Statement"][1]["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
        "us-east-1"
    );
    assert_eq!(doc["output_changes"]["disabled_role_arn"]["after"], "");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_buckets_stack_applies_lifecycle_encryption_and_policies_and_destroys() {
    let p = project("buckets");
    let prefix = unique("corpus-b");
    let var = format!("prefix={prefix}");
    let plan = p.keel(&["plan", "-var", &var]).ok();
    // The TLS policies name the bucket being created: read during apply.
    assert!(
        plan.stdout.contains(
            "# module.logs.data.aws_iam_policy_document.deny_insecure_transport[0] will be read during apply"
        ),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve", "-var", &var]).ok();

    let s3 = moto().s3().await;
    let logs = format!("{prefix}-logs");
    let versioning = s3
        .get_bucket_versioning()
        .bucket(&logs)
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    let sse = s3
        .get_bucket_encryption()
        .bucket(&logs)
        .send()
        .await
        .unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&logs)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<&str> = lc.rules().iter().map(|r| r.id().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["archive", "tmp"]);
    let archive = lc
        .rules()
        .iter()
        .find(|r| r.id() == Some("archive"))
        .unwrap();
    assert_eq!(archive.transitions().len(), 2);
    assert_eq!(archive.expiration().unwrap().days(), Some(365));
    let tmp = lc.rules().iter().find(|r| r.id() == Some("tmp")).unwrap();
    assert_eq!(
        tmp.status().as_str(),
        "Enabled",
        "\"enabled\" read through title(lower())"
    );
    let policy = s3.get_bucket_policy().bucket(&logs).send().await.unwrap();
    let policy: Json = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["denyOutdatedTLS", "denyInsecureTransport"]);
    assert_eq!(
        policy["Statement"][1]["Resource"],
        serde_json::json!([
            format!("arn:aws:s3:::{logs}/*"),
            format!("arn:aws:s3:::{logs}")
        ])
    );
    let pab = s3
        .get_public_access_block()
        .bucket(&logs)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .block_public_policy(),
        Some(true)
    );

    // The for_each buckets: KMS with a bucket key; one versioned, one expiring.
    let raw = format!("{prefix}-raw");
    let features = format!("{prefix}-features");
    let sse = s3
        .get_bucket_encryption()
        .bucket(&raw)
        .send()
        .await
        .unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    let by_default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(by_default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(
        by_default.kms_master_key_id(),
        p.state()["resources"]["aws_kms_key.data"]["attributes"]["arn"].as_str()
    );
    let v = s3
        .get_bucket_versioning()
        .bucket(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    let v = s3
        .get_bucket_versioning()
        .bucket(&features)
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), None, "never versioned");
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&features)
        .send()
        .await
        .unwrap();
    assert_eq!(lc.rules()[0].expiration().unwrap().days(), Some(30));
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    assert!(
        s3.head_bucket()
            .bucket(format!("{prefix}-never"))
            .send()
            .await
            .is_err(),
        "the switched-off bucket does not exist"
    );

    let again = p.keel(&["plan", "-detailed-exitcode", "-var", &var]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    p.keel(&["destroy", "-auto-approve", "-var", &var]).ok();
    for b in [&logs, &raw, &features] {
        assert!(
            s3.head_bucket().bucket(b).send().await.is_err(),
            "{b} remains"
        );
    }
}
