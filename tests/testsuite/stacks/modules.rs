//! The modules on their own, in the shapes the stacks' defaults do not reach: a GPU
//! cluster applied by the module's old shape (`aws_launch_template.on_demand[0]`) follows
//! its moved block to `aws_launch_template.this` without replacing anything; a spot
//! cluster's template asks for spot capacity; explicit zones still win over the data
//! source; a bucket with `min_tls_version` refuses old TLS in the policy S3 holds.

use super::{Deployed, strings};
use crate::moto::moto;
use serde_json::Value as Json;

/// A VPC, a subnet, an instance profile and a p4d cluster of one node.
const CLUSTER: &str = r#"
variable "name" {
  type = string
}

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = { team = "ml-platform", stack = var.name }
  }
}

resource "aws_vpc" "this" {
  cidr_block = "10.60.0.0/16"
  tags       = { Name = var.name }
}

resource "aws_subnet" "this" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.60.0.0/20"
  availability_zone = "us-east-1a"
  tags              = { Name = var.name }
}

module "role" {
  source = "../../modules/workload-role"
  name   = var.name
}

module "cluster" {
  source                = "../../modules/gpu-cluster"
  name                  = var.name
  vpc_id                = aws_vpc.this.id
  subnet_id             = aws_subnet.this.id
  instance_profile_name = module.role.instance_profile_name
  instance_type         = "p4d.24xlarge"
  instance_count        = 1
  tags                  = { team = "ml-platform", stack = var.name }
}

output "template" {
  value = module.cluster.launch_template_id
}

output "nodes" {
  value = module.cluster.instance_ids
}
"#;

/// The module as it was before its template took spot from a dynamic block.
fn old_shape(main: String) -> String {
    let start = main.find("moved {").expect("the moved block");
    let end = start + main[start..].find("}\n").expect("its end") + 2;
    let main = format!("{}{}", &main[..start], &main[end..]);
    main.replace(
        "resource \"aws_launch_template\" \"this\" {",
        "resource \"aws_launch_template\" \"on_demand\" {\n  count = 1",
    )
    .replace(
        "aws_launch_template.this.",
        "aws_launch_template.on_demand[0].",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_applied_as_on_demand_0_moves_to_this_without_replacing_anything() {
    let s = Deployed::inline("mv", CLUSTER);
    s.edit_module("gpu-cluster/main.tf", old_shape);
    s.edit_module("gpu-cluster/outputs.tf", |o| {
        o.replace(
            "aws_launch_template.this.",
            "aws_launch_template.on_demand[0].",
        )
    });
    s.keel(&["apply", "-auto-approve"]).ok();
    let before = s.outputs();
    assert!(
        s.keel(&["state", "list"])
            .ok()
            .stdout
            .contains("module.cluster.aws_launch_template.on_demand[0]"),
        "the old shape records the template at on_demand[0]"
    );

    // The module as shipped: the moved block carries the template's state over.
    for file in ["main.tf", "outputs.tf"] {
        std::fs::copy(
            super::repo().join("modules/gpu-cluster").join(file),
            s.root.path().join("modules/gpu-cluster").join(file),
        )
        .unwrap();
    }
    // keel tags each object with its address (keel:address), so the moved template's
    // tag is updated in place; nothing is created or destroyed.
    let plan = s.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("(moved from module.cluster.aws_launch_template.on_demand[0])"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "nothing is replaced: {}",
        plan.stdout
    );
    s.keel(&["apply", "-auto-approve"]).ok();
    let after = s.outputs();
    assert_eq!(after["template"], before["template"]);
    assert_eq!(after["nodes"], before["nodes"]);
    s.assert_converged();

    // What EC2 holds: the same template, with one EFA per network card of a p4d (4).
    let template = before["template"].as_str().unwrap();
    let versions = moto()
        .ec2()
        .await
        .describe_launch_template_versions()
        .launch_template_id(template)
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    let cards: Vec<_> = data
        .network_interfaces()
        .iter()
        .map(|n| (n.network_card_index(), n.device_index(), n.interface_type()))
        .collect();
    assert_eq!(
        cards,
        [
            (Some(0), Some(0), Some("efa")),
            (Some(1), Some(1), Some("efa")),
            (Some(2), Some(1), Some("efa")),
            (Some(3), Some(1), Some("efa")),
        ]
    );
    let node = &strings(&after["nodes"])[0];
    let i = &super::checks::instances(std::slice::from_ref(node)).await[0];
    assert_eq!(
        i.state().and_then(|s| s.name()).map(|s| s.as_str()),
        Some("running")
    );
    s.destroy();
}

const SPOT_ZONES_TLS: &str = r#"
variable "name" {
  type = string
}

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = { team = "ml-platform", stack = var.name }
  }
}

module "network" {
  source             = "../../modules/isolated-vpc"
  name               = var.name
  cidr_block         = "10.61.0.0/16"
  availability_zones = ["us-east-1d", "us-east-1e"]
  enable_nat_gateway = false
  force_destroy      = true
}

module "bucket" {
  source          = "../../modules/encrypted-bucket"
  name            = "${var.name}-data"
  min_tls_version = "1.2"
  force_destroy   = true
}

module "cluster" {
  source                = "../../modules/gpu-cluster"
  name                  = var.name
  vpc_id                = module.network.vpc_id
  subnet_id             = module.network.private_subnet_ids[0]
  instance_profile_name = "unused"
  instance_type         = "g5.2xlarge"
  instance_count        = 0
  spot                  = true
  spot_max_price        = "4.50"
  tags                  = { team = "ml-platform", stack = var.name }
}

output "zones" {
  value = module.network.availability_zones
}

output "subnets" {
  value = module.network.private_subnet_ids
}

output "template" {
  value = module.cluster.launch_template_id
}

output "efa_interfaces" {
  value = module.cluster.efa_interfaces
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn explicit_zones_a_spot_template_and_a_minimum_tls_version() {
    let s = Deployed::inline("mods", SPOT_ZONES_TLS);
    let name = s.name.clone();
    s.keel(&["apply", "-auto-approve"]).ok();
    let out = s.outputs();
    let ec2 = moto().ec2().await;

    // The zones given, not the data source's first ones.
    assert_eq!(strings(&out["zones"]), ["us-east-1d", "us-east-1e"]);
    let subnets = ec2
        .describe_subnets()
        .set_subnet_ids(Some(strings(&out["subnets"])))
        .send()
        .await
        .unwrap();
    let mut zones: Vec<_> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.availability_zone())
        .collect();
    zones.sort();
    assert_eq!(zones, ["us-east-1d", "us-east-1e"]);

    // A g5.2xlarge has no EFA: one plain interface; spot at the price asked.
    assert_eq!(out["efa_interfaces"], 0);
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_id(out["template"].as_str().unwrap())
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    let nics = data.network_interfaces();
    assert_eq!(nics.len(), 1, "{nics:?}");
    assert_eq!(nics[0].interface_type(), None, "{nics:?}");
    let market = data.instance_market_options().expect("spot market options");
    assert_eq!(market.market_type().map(|m| m.as_str()), Some("spot"));
    let spot = market.spot_options().unwrap();
    assert_eq!(spot.max_price(), Some("4.50"));
    assert_eq!(
        spot.spot_instance_type().map(|t| t.as_str()),
        Some("one-time")
    );

    // The bucket's policy, as S3 holds it: no plain HTTP, and no TLS below 1.2.
    let bucket = format!("{name}-data");
    let policy = moto()
        .s3()
        .await
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let policy: Json = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().expect("statements");
    let old_tls = statements
        .iter()
        .find(|s| s["Sid"] == "DenyOutdatedTls")
        .unwrap_or_else(|| panic!("{policy}"));
    assert_eq!(old_tls["Effect"], "Deny");
    assert_eq!(old_tls["Principal"], "*");
    assert_eq!(
        old_tls["Condition"]["NumericLessThan"]["s3:TlsVersion"],
        "1.2"
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Sid"] == "DenyInsecureTransport"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"),
        "{policy}"
    );

    s.assert_converged();
    s.destroy();
}
