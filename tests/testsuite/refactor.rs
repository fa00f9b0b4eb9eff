//! `moved` and `import` blocks against moto. A rename and a move into a module keep the
//! cloud objects (same ids; only keel's own `keel:address` tag follows the new address)
//! and apply records the moves; a plan alone changes nothing. An `import` block brings
//! SDK-made objects under keel: the plan previews them without touching them, apply tags
//! and records them, and a difference from the configuration is planned as an update.

use crate::fixture::Project;
use crate::moto::{moto, stack_filter};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use std::collections::BTreeMap;

fn write_module(p: &Project) {
    let path = p.root.path().join("modules/logs/main.tf");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        r#"
variable "bucket" {}

resource "aws_s3_bucket" "this" {
  bucket        = var.bucket
  force_destroy = true
}

output "arn" {
  value = aws_s3_bucket.this.arn
}
"#,
    )
    .unwrap();
}

fn before(bucket: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "old" {{
  cidr_block = "10.62.0.0/16"
  tags = {{
    Name = "refactor"
  }}
}}

resource "aws_subnet" "s" {{
  vpc_id     = aws_vpc.old.id
  cidr_block = "10.62.1.0/24"
}}

resource "aws_s3_bucket" "logs" {{
  bucket        = "{bucket}"
  force_destroy = true
}}
"#
    )
}

fn after(bucket: &str) -> String {
    format!(
        r#"
moved {{
  from = aws_vpc.old
  to   = aws_vpc.main
}}

moved {{
  from = aws_s3_bucket.logs
  to   = module.logs.aws_s3_bucket.this
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.62.0.0/16"
  tags = {{
    Name = "refactor"
  }}
}}

resource "aws_subnet" "s" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.62.1.0/24"
}}

module "logs" {{
  source = "../modules/logs"
  bucket = "{bucket}"
}}
"#
    )
}

async fn vpc_tags(ec2: &aws_sdk_ec2::Client, id: &str) -> BTreeMap<String, String> {
    let out = ec2.describe_vpcs().vpc_ids(id).send().await.unwrap();
    out.vpcs()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn moved_blocks_rename_and_move_into_a_module_keeping_the_objects() {
    let p = Project::new("moved");
    write_module(&p);
    let bucket = crate::fixture::unique("keel-moved");
    p.write("main.hcl", &before(&bucket));
    p.keel(&["apply", "-auto-approve"]).ok();
    let vpc_id = p.state()["resources"]["aws_vpc.old"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    p.write("main.hcl", &after(&bucket));
    let plan = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("  # aws_vpc.main will be updated in-place\n  # (moved from aws_vpc.old)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "  # module.logs.aws_s3_bucket.this will be updated in-place\n  # (moved from aws_s3_bucket.logs)"
        ),
        "{}",
        plan.stdout
    );
    // Nothing is created or destroyed: only keel's own address tag follows the move.
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("~ \"keel:address\" = \"aws_vpc.old\" -> \"aws_vpc.main\""),
        "{}",
        plan.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&p.keel(&["plan", "-json"]).ok().stdout).unwrap();
    let vpc = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "aws_vpc.main")
        .unwrap()
        .clone();
    assert_eq!(vpc["previous_address"], "aws_vpc.old");
    let md = p.keel(&["plan", "--format", "markdown"]).ok();
    assert!(
        md.stdout
            .contains("| update (moved from `aws_vpc.old`) | `aws_vpc.main` |"),
        "{}",
        md.stdout
    );
    // A plan alone records nothing.
    assert!(p.state()["resources"]["aws_vpc.old"].is_object());

    p.keel(&["apply", "-auto-approve"]).ok();
    let state = p.state();
    let resources = state["resources"].as_object().unwrap();
    assert_eq!(
        resources.keys().cloned().collect::<Vec<_>>(),
        [
            "aws_subnet.s",
            "aws_vpc.main",
            "module.logs.aws_s3_bucket.this"
        ]
    );
    assert_eq!(state["resources"]["aws_vpc.main"]["id"], vpc_id.as_str());
    assert_eq!(
        state["resources"]["aws_subnet.s"]["dependencies"],
        serde_json::json!(["aws_vpc.main"])
    );
    // The same VPC and bucket in the cloud, now carrying their new addresses.
    let ec2 = moto().ec2().await;
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    assert_eq!(vpcs.vpcs()[0].vpc_id(), Some(vpc_id.as_str()));
    assert_eq!(
        vpc_tags(&ec2, &vpc_id).await["keel:address"],
        "aws_vpc.main"
    );
    let s3 = moto().s3().await;
    let tagging = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let address = tagging
        .tag_set()
        .iter()
        .find(|t| t.key() == "keel:address")
        .map(|t| t.value().to_string());
    assert_eq!(address.as_deref(), Some("module.logs.aws_s3_bucket.this"));
    // The moved blocks stay in the configuration; their `from` is gone: nothing to do.
    p.assert_no_changes();
    p.keel(&["destroy", "-auto-approve"]).ok();
}

async fn sdk_vpc(ec2: &aws_sdk_ec2::Client, cidr: &str) -> (String, String) {
    let tags = |kind| {
        TagSpecification::builder()
            .resource_type(kind)
            .tags(Tag::builder().key("Name").value("legacy").build())
            .build()
    };
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("{cidr}.0.0/16"))
        .tag_specifications(tags(ResourceType::Vpc))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block(format!("{cidr}.1.0/24"))
        .availability_zone("us-east-1a")
        .tag_specifications(tags(ResourceType::Subnet))
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    (vpc, subnet)
}

#[tokio::test(flavor = "multi_thread")]
async fn import_blocks_bring_sdk_made_objects_under_keel() {
    let ec2 = moto().ec2().await;
    let (vpc, subnet) = sdk_vpc(&ec2, "10.63").await;
    let p = Project::new("importblock");
    p.write(
        "main.hcl",
        &format!(
            r#"
variable "vpc_id" {{}}

import {{
  to = aws_vpc.main
  id = var.vpc_id
}}

import {{
  to = aws_subnet.public["a"]
  id = "{subnet}"
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.63.0.0/16"
  tags = {{
    Name = "legacy"
  }}
}}

resource "aws_subnet" "public" {{
  for_each                = {{ a = "10.63.1.0/24" }}
  vpc_id                  = aws_vpc.main.id
  cidr_block              = each.value
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = true
  tags = {{
    Name = "legacy"
  }}
}}
"#
        ),
    );
    let var = format!("vpc_id={vpc}");
    let plan = p.keel(&["plan", "-var", &var]).ok();
    assert!(
        plan.stdout
            .contains("  # aws_vpc.main will be imported\n    resource \"aws_vpc\" \"main\" {"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "  # aws_subnet.public[\"a\"] will be updated in-place\n  # (imported from \"{subnet}\")"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 2 to import, 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("~ map_public_ip_on_launch = false -> true"),
        "{}",
        plan.stdout
    );
    // Planning read the objects and changed nothing: no ownership tags yet, no state.
    assert!(!vpc_tags(&ec2, &vpc).await.contains_key("keel:stack"));
    assert!(!p.state_path().exists() || p.state()["resources"].as_object().unwrap().is_empty());

    let apply = p.keel(&["apply", "-auto-approve", "-var", &var]).ok();
    assert!(
        apply
            .stdout
            .contains(&format!("aws_vpc.main: Importing... [id={vpc}]")),
        "{}",
        apply.stdout
    );
    let state = p.state();
    assert_eq!(state["resources"]["aws_vpc.main"]["id"], vpc.as_str());
    assert_eq!(
        state["resources"]["aws_subnet.public[\"a\"]"]["id"],
        subnet.as_str()
    );
    let tags = vpc_tags(&ec2, &vpc).await;
    assert_eq!(tags["keel:stack"], p.stack);
    assert_eq!(tags["keel:address"], "aws_vpc.main");
    assert_eq!(tags["Name"], "legacy");
    // No second VPC was made: the one object keel owns is the imported one; the subnet
    // was updated in place.
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    let owned: Vec<&str> = vpcs.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
    assert_eq!(owned, [vpc.as_str()]);
    let s = ec2
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap();
    assert_eq!(s.subnets()[0].map_public_ip_on_launch(), Some(true));
    // The import blocks stay; what they name is in state now, so they do nothing.
    let again = p.keel(&["plan", "-detailed-exitcode", "-var", &var]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    // An import block whose target has no resource block is refused at plan time.
    p.write(
        "extra.hcl",
        "import {\n  to = aws_vpc.missing\n  id = \"vpc-0abc\"\n}\n",
    );
    let err = p.keel(&["plan", "-var", &var]);
    assert_eq!(err.code, 1);
    assert!(
        err.stderr.contains("Configuration for import target does not exist: the configuration for the given import target aws_vpc.missing does not exist"),
        "{}",
        err.stderr
    );
    std::fs::remove_file(p.dir().join("extra.hcl")).unwrap();
    p.keel(&["destroy", "-auto-approve", "-var", &var]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_that_rolls_back_undoes_its_imports_too() {
    let ec2 = moto().ec2().await;
    let (vpc, subnet) = sdk_vpc(&ec2, "10.64").await;
    let p = Project::new("importundo");
    // The imported subnet is updated in place; the new one is outside the VPC's range,
    // which EC2 refuses (InvalidSubnet.Range), so the apply fails and rolls back.
    p.write(
        "main.hcl",
        &format!(
            r#"
import {{
  to = aws_vpc.main
  id = "{vpc}"
}}

import {{
  to = aws_subnet.public
  id = "{subnet}"
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.64.0.0/16"
  tags = {{
    Name = "legacy"
  }}
}}

resource "aws_subnet" "public" {{
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.64.1.0/24"
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = true
  tags = {{
    Name = "legacy"
  }}
}}

resource "aws_subnet" "outside" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.99.1.0/24"
}}
"#
        ),
    );
    let apply = p.keel(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 1, "{}{}", apply.stdout, apply.stderr);
    for (addr, id) in [("aws_vpc.main", &vpc), ("aws_subnet.public", &subnet)] {
        assert!(
            apply
                .stdout
                .contains(&format!("{addr}: Import complete [id={id}]")),
            "{}",
            apply.stdout
        );
        assert!(
            apply
                .stdout
                .contains(&format!("{addr}: Import undone [id={id}]")),
            "{}",
            apply.stdout
        );
    }
    assert!(
        apply.stdout.contains("InvalidSubnet.Range"),
        "{}",
        apply.stdout
    );
    // State records nothing, as before the apply; the cloud holds the two objects as
    // they were: untagged by keel, the subnet's update undone, no new subnet.
    let state = p.state();
    assert!(
        state["resources"].as_object().is_none_or(|r| r.is_empty()),
        "{state:#}"
    );
    assert!(
        state.get("journal").is_none_or(|j| j.is_null()),
        "{state:#}"
    );
    let tags = vpc_tags(&ec2, &vpc).await;
    assert!(!tags.contains_key("keel:stack"), "{tags:?}");
    assert!(!tags.contains_key("keel:address"), "{tags:?}");
    assert_eq!(tags["Name"], "legacy");
    let s = ec2
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap();
    let s = &s.subnets()[0];
    assert_eq!(s.map_public_ip_on_launch(), Some(false));
    assert!(
        s.tags()
            .iter()
            .all(|t| !t.key().unwrap_or_default().starts_with("keel:"))
    );
    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert!(subnets.subnets().is_empty(), "{subnets:?}");
    // The next plan offers the same imports again.
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("Plan: 2 to import, 1 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}
