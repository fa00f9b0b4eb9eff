//! Plan, apply, change and destroy a stack of a VPC, two subnets and an encrypted bucket,
//! checking the cloud itself through the SDK after every step.

use crate::fixture::Project;
use crate::moto::{moto, stack_filter};
use aws_sdk_ec2::types::VpcAttributeName;
use std::collections::BTreeMap;

fn stack(bucket: &str, subnet_a_cidr: &str, tier: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

variable "cidr" {{
  default = "10.20.0.0/16"
}}

resource "aws_vpc" "main" {{
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  tags = {{
    Name = "net"
  }}
}}

resource "aws_subnet" "a" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "{subnet_a_cidr}"
  availability_zone = "us-east-1a"
  tags = {{
    tier = "{tier}"
  }}
}}

resource "aws_subnet" "b" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.cidr, 8, 2)
  availability_zone = "us-east-1b"
}}

resource "aws_s3_bucket" "data" {{
  bucket = "{bucket}"
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {{
  bucket = aws_s3_bucket.data.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm = "aws:kms"
    }}
  }}
}}

output "vpc_id" {{
  value = aws_vpc.main.id
}}
"#
    )
}

/// The stack's subnets as the cloud has them: cidr -> (id, tier tag, keel:address tag).
async fn subnets(stack: &str) -> BTreeMap<String, (String, Option<String>, String)> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_subnets()
        .filters(stack_filter(stack))
        .send()
        .await
        .expect("describe subnets");
    out.subnets()
        .iter()
        .map(|s| {
            let tag = |k: &str| {
                s.tags()
                    .iter()
                    .find(|t| t.key() == Some(k))
                    .and_then(|t| t.value())
                    .map(str::to_string)
            };
            (
                s.cidr_block().unwrap().to_string(),
                (
                    s.subnet_id().unwrap().to_string(),
                    tag("tier"),
                    tag("keel:address").unwrap_or_default(),
                ),
            )
        })
        .collect()
}

async fn vpc_ids(stack: &str) -> Vec<String> {
    let ec2 = moto().ec2().await;
    ec2.describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .expect("describe vpcs")
        .vpcs()
        .iter()
        .map(|v| v.vpc_id().unwrap().to_string())
        .collect()
}

async fn bucket_exists(name: &str) -> bool {
    moto()
        .s3()
        .await
        .head_bucket()
        .bucket(name)
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_is_created_updated_replaced_and_destroyed_as_planned() {
    let p = Project::new("lifecycle");
    let bucket = p.stack.clone();
    p.write("main.hcl", &stack(&bucket, "10.20.1.0/24", "private"));

    // Plan: everything is new; nothing exists yet.
    let plan = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("+ id                        = (known after apply)"),
        "{}",
        plan.stdout
    );
    assert!(vpc_ids(&p.stack).await.is_empty());

    // Apply: the cloud holds what the stack declares.
    let apply = p.keel(&["apply", "-auto-approve"]).ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let vpcs = vpc_ids(&p.stack).await;
    assert_eq!(vpcs.len(), 1, "one VPC tagged with the stack");
    let ec2 = moto().ec2().await;
    let hostnames = ec2
        .describe_vpc_attribute()
        .vpc_id(&vpcs[0])
        .attribute(VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hostnames.enable_dns_hostnames().and_then(|a| a.value()),
        Some(true)
    );
    let before = subnets(&p.stack).await;
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        ["10.20.1.0/24", "10.20.2.0/24"]
    );
    assert_eq!(before["10.20.1.0/24"].1.as_deref(), Some("private"));
    assert_eq!(before["10.20.1.0/24"].2, "aws_subnet.a");
    let s3 = moto().s3().await;
    let enc = s3
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket is encrypted");
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "aws:kms"
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "keel:stack" && t.value() == p.stack)
    );
    let state = p.state();
    assert_eq!(state["outputs"]["vpc_id"]["value"], vpcs[0].as_str());
    assert_eq!(state["resources"]["aws_vpc.main"]["id"], vpcs[0].as_str());

    // Applying again changes nothing.
    let again = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    let serial = p.state()["serial"].clone();
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        p.state()["serial"],
        serial,
        "a no-op apply leaves state alone"
    );

    // A tag change is an in-place update: same subnet, new tag.
    p.write("main.hcl", &stack(&bucket, "10.20.1.0/24", "restricted"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("# aws_subnet.a will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(r#"~ "tier" = "private" -> "restricted""#),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let after = subnets(&p.stack).await;
    assert_eq!(
        after["10.20.1.0/24"].0, before["10.20.1.0/24"].0,
        "updated in place"
    );
    assert_eq!(after["10.20.1.0/24"].1.as_deref(), Some("restricted"));

    // A CIDR change replaces the subnet, and the plan names the attribute that forces it.
    p.write("main.hcl", &stack(&bucket, "10.20.3.0/24", "restricted"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains("# aws_subnet.a must be replaced"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(r#"~ cidr_block = "10.20.1.0/24" -> "10.20.3.0/24" # forces replacement"#),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{}",
        plan.stdout
    );
    let apply = p.keel(&["apply", "-auto-approve"]).ok();
    assert!(
        apply.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        apply.stdout
    );
    let replaced = subnets(&p.stack).await;
    assert_eq!(
        replaced.keys().collect::<Vec<_>>(),
        ["10.20.2.0/24", "10.20.3.0/24"]
    );
    assert_ne!(replaced["10.20.3.0/24"].0, before["10.20.1.0/24"].0);
    assert_eq!(
        replaced["10.20.2.0/24"].0, before["10.20.2.0/24"].0,
        "the other subnet is untouched"
    );
    let plan = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "converged after the replacement: {}",
        plan.stdout
    );

    // Destroy leaves nothing behind.
    let destroy = p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 5 destroyed."),
        "{}",
        destroy.stdout
    );
    assert!(vpc_ids(&p.stack).await.is_empty());
    assert!(subnets(&p.stack).await.is_empty());
    assert!(!bucket_exists(&bucket).await);
    assert_eq!(p.state()["resources"], serde_json::json!({}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_holding_data_is_not_destroyed_unless_force_destroy_is_set() {
    let p = Project::new("keepdata");
    let bucket = p.stack.clone();
    let hcl = |force: bool| {
        format!(
            "resource \"aws_s3_bucket\" \"data\" {{\n  bucket = \"{bucket}\"\n  force_destroy = {force}\n}}\n"
        )
    };
    p.write("main.hcl", &hcl(false));
    p.keel(&["apply", "-auto-approve"]).ok();
    let s3 = moto().s3().await;
    s3.put_object()
        .bucket(&bucket)
        .key("checkpoints/step-100.pt")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"weights"))
        .send()
        .await
        .expect("put object");

    let destroy = p.keel(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 1, "{}", destroy.stdout);
    assert!(
        destroy.stdout.contains("BucketNotEmpty"),
        "{}",
        destroy.stdout
    );
    assert!(
        destroy.stdout.contains("force_destroy = true"),
        "{}",
        destroy.stdout
    );
    assert!(bucket_exists(&bucket).await);
    assert!(
        p.state()["resources"]["aws_s3_bucket.data"].is_object(),
        "still recorded"
    );

    p.write("main.hcl", &hcl(true));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains("~ force_destroy = false -> true"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(!bucket_exists(&bucket).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_deleted_outside_keel_is_planned_again() {
    let p = Project::new("outside");
    p.write(
        "main.hcl",
        "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.31.0.0/16\"\n}\n",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let first = vpc_ids(&p.stack).await;
    assert_eq!(first.len(), 1);
    moto()
        .ec2()
        .await
        .delete_vpc()
        .vpc_id(&first[0])
        .send()
        .await
        .expect("delete behind keel's back");

    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_vpc.main was deleted outside keel"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    // Without refresh, keel plans from state alone and sees nothing to do.
    let stale = p.keel(&["plan", "-refresh=false", "-detailed-exitcode"]);
    assert_eq!(stale.code, 0, "{}{}", stale.stdout, stale.stderr);

    p.keel(&["apply", "-auto-approve"]).ok();
    let second = vpc_ids(&p.stack).await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);
    assert_eq!(
        p.state()["resources"]["aws_vpc.main"]["id"],
        second[0].as_str()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_asks_and_only_yes_approves() {
    let p = Project::new("confirm");
    p.write(
        "main.hcl",
        "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.30.0.0/16\"\n}\n",
    );
    // No standard input: keel refuses rather than guessing.
    let run = p.keel(&["apply"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("-auto-approve"), "{}", run.stderr);
    assert!(vpc_ids(&p.stack).await.is_empty());
    assert!(!p.state_path().exists() || p.state()["resources"] == serde_json::json!({}));

    let no = p.keel_with_input(&["apply"], "no\n");
    assert_eq!(no.code, 1, "{}{}", no.stdout, no.stderr);
    assert!(
        no.stdout.contains("Only 'yes' will be accepted"),
        "{}",
        no.stdout
    );
    assert!(no.stdout.contains("Apply cancelled."), "{}", no.stdout);
    assert!(vpc_ids(&p.stack).await.is_empty());

    let yes = p.keel_with_input(&["apply"], "yes\n").ok();
    assert!(
        yes.stdout.contains("Apply complete! Resources: 1 added"),
        "{}",
        yes.stdout
    );
    assert_eq!(vpc_ids(&p.stack).await.len(), 1);
    p.keel_with_input(&["destroy"], "yes\n").ok();
    assert!(vpc_ids(&p.stack).await.is_empty());
}
