//! Modules and provider aliases against moto: a stack calling a module twice with
//! for_each, a module nested inside it, module addresses in plans, state and keel:address
//! tags; removing one for_each key destroys exactly that instance's objects; a resource
//! with `provider = aws.other` lives in that configuration's region with its default tags,
//! and is read and destroyed through it even after its block is gone.

use crate::fixture::Project;
use crate::moto::{moto, stack_filter};
use std::collections::BTreeMap;

/// The reusable modules, beside the stack directory: `../modules/network` creates a VPC,
/// one subnet per availability zone and (through the nested `../bucket` module) a bucket.
fn write_modules(p: &Project) {
    let write = |path: &str, text: &str| {
        let path = p.root.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "modules/network/main.tf",
        r#"
variable "name" {}
variable "cidr" {}

variable "azs" {
  default = {
    "us-east-1a" = 1
    "us-east-1b" = 2
  }
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags = {
    Name = var.name
  }
}

resource "aws_subnet" "private" {
  for_each          = var.azs
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.cidr, 8, each.value)
  availability_zone = each.key
}

module "logs" {
  source = "../bucket"
  name   = "${var.name}-logs"
}

output "vpc_id" {
  value = aws_vpc.this.id
}

output "subnet_ids" {
  value = [for s in aws_subnet.private : s.id]
}

output "logs_bucket" {
  value = module.logs.name
}
"#,
    );
    write(
        "modules/bucket/main.tf",
        r#"
variable "name" {}

resource "aws_s3_bucket" "this" {
  bucket        = var.name
  force_destroy = true
}

output "name" {
  value = aws_s3_bucket.this.bucket
}
"#,
    );
}

fn stack(name: &str, keys: &[&str]) -> String {
    let nets = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("    {k} = \"10.{}.0.0/16\"", 50 + i))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

module "net" {{
  source   = "../modules/network"
  for_each = {{
{nets}
  }}
  name = "{name}-${{each.key}}"
  cidr = each.value
}}

output "vpc_ids" {{
  value = {{ for k, m in module.net : k => m.vpc_id }}
}}

output "buckets" {{
  value = [for m in module.net : m.logs_bucket]
}}
"#
    )
}

/// keel:address -> (id, vpc id) of the stack's VPCs and subnets in us-east-1.
async fn network(stack: &str) -> BTreeMap<String, (String, String)> {
    let ec2 = moto().ec2().await;
    let address = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .find(|t| t.key() == Some("keel:address"))
            .and_then(|t| t.value())
            .unwrap_or_default()
            .to_string()
    };
    let mut out = BTreeMap::new();
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    for v in vpcs.vpcs() {
        let id = v.vpc_id().unwrap().to_string();
        out.insert(address(v.tags()), (id.clone(), id));
    }
    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    for s in subnets.subnets() {
        out.insert(
            address(s.tags()),
            (
                s.subnet_id().unwrap().to_string(),
                s.vpc_id().unwrap().to_string(),
            ),
        );
    }
    out
}

/// The keel:address tag of a bucket, or None when the bucket does not exist.
async fn bucket_address(bucket: &str) -> Option<String> {
    let s3 = moto().s3().await;
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        return None;
    }
    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
    tags.tag_set()
        .iter()
        .find(|t| t.key() == "keel:address")
        .map(|t| t.value().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn modules_with_for_each_and_nesting_are_applied_and_one_instance_removed() {
    let p = Project::new("modules");
    write_modules(&p);
    let name = p.stack.clone();
    p.write("main.hcl", &stack(&name, &["a", "b"]));

    let plan = p.keel(&["plan"]).ok();
    for addr in [
        "module.net[\"a\"].aws_vpc.this will be created",
        "module.net[\"b\"].aws_subnet.private[\"us-east-1b\"] will be created",
        "module.net[\"b\"].module.logs.aws_s3_bucket.this will be created",
        "Plan: 8 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(plan.stdout.contains(addr), "{addr}\n{}", plan.stdout);
    }
    let json = p.keel(&["plan", "-json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let nested = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "module.net[\"a\"].module.logs.aws_s3_bucket.this")
        .expect("the nested bucket is in the JSON plan");
    assert_eq!(nested["module"], "module.net[\"a\"].module.logs");
    assert_eq!(nested["provider"], "aws");
    let md = p.keel(&["plan", "--format", "markdown"]).ok();
    assert!(
        md.stdout.contains("`module.net[\"a\"].aws_vpc.this`"),
        "{}",
        md.stdout
    );

    p.keel(&["apply", "-auto-approve"]).ok();
    let cloud = network(&p.stack).await;
    let vpc = |k: &str| {
        cloud[&format!("module.net[\"{k}\"].aws_vpc.this")]
            .0
            .clone()
    };
    assert_eq!(
        cloud.keys().collect::<Vec<_>>(),
        [
            "module.net[\"a\"].aws_subnet.private[\"us-east-1a\"]",
            "module.net[\"a\"].aws_subnet.private[\"us-east-1b\"]",
            "module.net[\"a\"].aws_vpc.this",
            "module.net[\"b\"].aws_subnet.private[\"us-east-1a\"]",
            "module.net[\"b\"].aws_subnet.private[\"us-east-1b\"]",
            "module.net[\"b\"].aws_vpc.this",
        ],
        "every object is tagged with its module address"
    );
    // Each instance's subnets are in that instance's VPC.
    for k in ["a", "b"] {
        for az in ["us-east-1a", "us-east-1b"] {
            let subnet = &cloud[&format!("module.net[\"{k}\"].aws_subnet.private[\"{az}\"]")];
            assert_eq!(subnet.1, vpc(k), "{k} {az}");
        }
    }
    for k in ["a", "b"] {
        assert_eq!(
            bucket_address(&format!("{name}-{k}-logs")).await.as_deref(),
            Some(format!("module.net[\"{k}\"].module.logs.aws_s3_bucket.this").as_str())
        );
    }
    let state = p.state();
    assert_eq!(
        state["resources"]["module.net[\"b\"].aws_vpc.this"]["id"].as_str(),
        Some(vpc("b").as_str()),
        "state is keyed by module address"
    );
    assert_eq!(
        state["resources"]["module.net[\"b\"].aws_vpc.this"]["provider"],
        "aws"
    );
    assert_eq!(
        state["outputs"]["vpc_ids"]["value"],
        serde_json::json!({"a": vpc("a"), "b": vpc("b")})
    );
    p.assert_no_changes();

    // Drop "b": exactly its VPC, subnets and nested bucket go; "a" stays as it is.
    p.write("main.hcl", &stack(&name, &["a"]));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 4 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("module.net[\"b\"].module.logs.aws_s3_bucket.this will be destroyed"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let mut expected = cloud.clone();
    expected.retain(|k, _| k.starts_with("module.net[\"a\"]"));
    assert_eq!(network(&p.stack).await, expected);
    assert_eq!(bucket_address(&format!("{name}-b-logs")).await, None);
    assert!(bucket_address(&format!("{name}-a-logs")).await.is_some());
    p.assert_no_changes();

    // Drift names objects by their module address.
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    moto()
        .ec2()
        .await
        .create_tags()
        .resources(vpc("a"))
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Name")
                .value("renamed by hand")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(
        drift
            .stdout
            .contains("~ module.net[\"a\"].aws_vpc.this [id="),
        "{}",
        drift.stdout
    );

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(network(&p.stack).await.is_empty());
    assert_eq!(bucket_address(&format!("{name}-a-logs")).await, None);
}

/// Writes `text` to `path` under the project's root (beside the stack directory).
fn write_beside(p: &Project, path: &str, text: &str) {
    let path = p.root.path().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_sensitive_module_output_stays_hidden_wherever_it_goes() {
    let p = Project::new("modules-secret");
    write_beside(
        &p,
        "modules/cred/main.tf",
        r#"
variable "name" {}

output "token" {
  value     = "tok-${var.name}-9f8e7d"
  sensitive = true
}
"#,
    );
    // An output that passes a module's secret on must say so, as in Terraform.
    p.write(
        "main.hcl",
        r#"
module "cred" {
  source = "../modules/cred"
  name   = "prod"
}

output "token" {
  value = module.cred.token
}
"#,
    );
    let refused = p.keel(&["plan"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stderr
            .contains("output \"token\" refers to sensitive values"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("tok-prod"), "{}", refused.stderr);
    p.write(
        "main.hcl",
        r#"
module "cred" {
  source = "../modules/cred"
  name   = "prod"
}

output "token" {
  value     = module.cred.token
  sensitive = true
}
"#,
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains("+ token = (sensitive value)"),
        "{}",
        plan.stdout
    );
    let json = p.keel(&["plan", "-json"]).ok();
    let md = p.keel(&["plan", "--format", "markdown"]).ok();
    let apply = p.keel(&["apply", "-auto-approve"]).ok();
    assert!(
        apply.stdout.contains("token = <sensitive>"),
        "{}",
        apply.stdout
    );
    let output = p.keel(&["output"]).ok();
    for text in [
        &plan.stdout,
        &json.stdout,
        &md.stdout,
        &apply.stdout,
        &output.stdout,
    ] {
        assert!(!text.contains("tok-prod"), "{text}");
    }
    assert_eq!(p.state()["outputs"]["token"]["sensitive"], true);
}

#[test]
fn mistakes_in_module_calls_are_reported_at_their_line() {
    let p = Project::new("modules-bad");
    write_beside(
        &p,
        "modules/net/main.tf",
        "variable \"cidr\" {}\n\noutput \"cidr\" {\n  value = var.cidr\n}\n",
    );
    p.write(
        "main.hcl",
        r#"module "registry" {
  source = "terraform-aws-modules/vpc/aws"
}

module "net" {
  source = "../modules/net"
  cidrr  = "10.0.0.0/16"
}
"#,
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for expected in [
        "keel supports local module sources (./ or ../) for now",
        "main.hcl:2:12]",
        "module.net has no input variable \"cidrr\"",
        "main.hcl:7:3]",
        "help: did you mean \"cidr\"?",
        "module.net is missing the required input \"cidr\"",
        "main.hcl:5:1]",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }

    p.write(
        "main.hcl",
        r#"module "net" {
  source = "../modules/net"
  cidr   = "10.0.0.0/16"
}

output "x" {
  value = module.net.cdir
}
"#,
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for expected in [
        "module.net has no output \"cdir\"",
        "main.hcl:7:11]",
        "help: did you mean module.net.cidr?",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
}

const OTHER_REGION: &str = "us-west-2";

fn alias_stack(with_far: bool, with_provider: bool) -> String {
    let provider = if with_provider {
        format!(
            r#"
provider "aws" {{
  alias  = "other"
  region = "{OTHER_REGION}"
  default_tags {{
    tags = {{
      owner = "other-team"
    }}
  }}
}}
"#
        )
    } else {
        String::new()
    };
    let far = if with_far {
        r#"
resource "aws_vpc" "far" {
  provider   = aws.other
  cidr_block = "10.61.0.0/16"
}

module "remote" {
  source    = "../modules/one-vpc"
  providers = { aws = aws.other }
}
"#
    } else {
        ""
    };
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
  default_tags {{
    tags = {{
      owner = "default-team"
    }}
  }}
}}
{provider}
resource "aws_vpc" "near" {{
  cidr_block = "10.60.0.0/16"
}}
{far}"#
    )
}

/// keel:address -> owner tag of the stack's VPCs in `region`.
async fn vpcs_in(region: &str, stack: &str) -> BTreeMap<String, String> {
    let creds =
        aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "keel-tests");
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(&moto().endpoint)
        .credentials_provider(creds)
        .load()
        .await;
    let out = aws_sdk_ec2::Client::new(&conf)
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    let tag = |v: &aws_sdk_ec2::types::Vpc, key: &str| {
        v.tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
            .unwrap_or_default()
            .to_string()
    };
    out.vpcs()
        .iter()
        .map(|v| (tag(v, "keel:address"), tag(v, "owner")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_with_an_aliased_provider_uses_that_configuration_to_the_end() {
    let p = Project::new("alias");
    let module = p.root.path().join("modules/one-vpc/main.tf");
    std::fs::create_dir_all(module.parent().unwrap()).unwrap();
    std::fs::write(
        &module,
        "resource \"aws_vpc\" \"this\" {\n  cidr_block = \"10.62.0.0/16\"\n}\n",
    )
    .unwrap();
    p.write("main.hcl", &alias_stack(true, true));
    p.keel(&["apply", "-auto-approve"]).ok();

    // Each VPC is in its configuration's region, with that configuration's default tags.
    assert_eq!(
        vpcs_in("us-east-1", &p.stack).await,
        BTreeMap::from([("aws_vpc.near".to_string(), "default-team".to_string())])
    );
    assert_eq!(
        vpcs_in(OTHER_REGION, &p.stack).await,
        BTreeMap::from([
            ("aws_vpc.far".to_string(), "other-team".to_string()),
            (
                "module.remote.aws_vpc.this".to_string(),
                "other-team".to_string()
            ),
        ])
    );
    let state = p.state();
    assert_eq!(state["resources"]["aws_vpc.far"]["provider"], "aws.other");
    assert_eq!(
        state["resources"]["module.remote.aws_vpc.this"]["provider"],
        "aws.other"
    );
    assert_eq!(state["resources"]["aws_vpc.near"]["provider"], "aws");
    // Refresh reads each VPC through its own configuration: nothing looks deleted, and
    // drift looks for unmanaged objects in both regions.
    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // Without its provider block, keel cannot reach the objects recorded under it.
    p.write("main.hcl", &alias_stack(false, false));
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("provider configuration aws.other is not declared"),
        "{}",
        run.stderr
    );

    // With the block kept, removing the resources destroys them in their own region.
    p.write("main.hcl", &alias_stack(false, true));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 2 to destroy."),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert!(vpcs_in(OTHER_REGION, &p.stack).await.is_empty());
    assert_eq!(vpcs_in("us-east-1", &p.stack).await.len(), 1);

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(vpcs_in("us-east-1", &p.stack).await.is_empty());
}
