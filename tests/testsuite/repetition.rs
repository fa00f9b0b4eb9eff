//! `count` and `for_each`: one resource block, several instances with their own addresses,
//! and removing a key deletes exactly that instance.

use crate::fixture::Project;
use crate::moto::{moto, stack_filter};
use std::collections::BTreeMap;

fn stack(azs: &[&str]) -> String {
    let set = azs
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

variable "cidrs" {{
  default = {{
    "us-east-1a" = "10.30.1.0/24"
    "us-east-1b" = "10.30.2.0/24"
    "us-east-1c" = "10.30.3.0/24"
  }}
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.30.0.0/16"
}}

resource "aws_subnet" "private" {{
  for_each          = toset([{set}])
  vpc_id            = aws_vpc.main.id
  cidr_block        = var.cidrs[each.key]
  availability_zone = each.value
}}

resource "aws_subnet" "extra" {{
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet("10.30.0.0/16", 8, 10 + count.index)
  availability_zone = "us-east-1a"
  tags = {{
    first_private = aws_subnet.private["us-east-1a"].id
  }}
}}

output "extra_ids" {{
  value = aws_subnet.extra[*].id
}}
"#
    )
}

/// keel:address tag -> subnet id, for the stack's subnets in the cloud.
async fn subnets(stack: &str) -> BTreeMap<String, String> {
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
            let addr = s
                .tags()
                .iter()
                .find(|t| t.key() == Some("keel:address"))
                .and_then(|t| t.value())
                .unwrap_or_default()
                .to_string();
            (addr, s.subnet_id().unwrap().to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn for_each_and_count_make_addressed_instances_and_removing_a_key_deletes_it() {
    let p = Project::new("repeat");
    p.write(
        "main.hcl",
        &stack(&["us-east-1a", "us-east-1b", "us-east-1c"]),
    );

    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains("aws_subnet.private[\"us-east-1b\"]"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("aws_subnet.extra[1]"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 6 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    p.keel(&["apply", "-auto-approve"]).ok();
    let before = subnets(&p.stack).await;
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        [
            "aws_subnet.extra[0]",
            "aws_subnet.extra[1]",
            "aws_subnet.private[\"us-east-1a\"]",
            "aws_subnet.private[\"us-east-1b\"]",
            "aws_subnet.private[\"us-east-1c\"]",
        ]
    );
    let state = p.state();
    let key = "aws_subnet.private[\"us-east-1b\"]";
    assert_eq!(
        state["resources"][key]["id"].as_str(),
        Some(before[key].as_str()),
        "state is keyed by instance address"
    );

    // Drop one AZ: exactly that subnet goes; the others stay as they are.
    p.write("main.hcl", &stack(&["us-east-1a", "us-east-1c"]));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let mut expected = before.clone();
    expected.remove(key);
    assert_eq!(subnets(&p.stack).await, expected);

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(subnets(&p.stack).await.is_empty());
}

#[test]
fn count_from_a_value_known_only_after_apply_is_a_clear_error() {
    let p = Project::new("repeat-unknown");
    p.write(
        "main.hcl",
        r#"
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  count      = length(aws_vpc.main.id)
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}
"#,
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "the count of aws_subnet.a is not known until apply (it depends on aws_vpc.main)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:7:"), "{}", run.stderr);
    assert!(
        !p.state_path().exists() || p.state()["resources"] == serde_json::json!({}),
        "bad input touches no state"
    );
}

#[test]
fn bad_count_for_each_and_each_outside_for_each_are_pointed_at() {
    let p = Project::new("repeat-bad");
    p.write(
        "main.hcl",
        r#"
resource "aws_vpc" "a" {
  count      = -1
  cidr_block = "10.0.0.0/16"
}

resource "aws_vpc" "b" {
  for_each   = [1, 2]
  cidr_block = "10.0.0.0/16"
}

resource "aws_vpc" "c" {
  cidr_block = each.value
}
"#,
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for expected in [
        "count of aws_vpc.a must be a whole number of zero or more, got -1",
        "main.hcl:3:",
        "for_each of aws_vpc.b must hold strings, but holds 1",
        "main.hcl:8:",
        "each.value is only available in a resource with for_each set",
        "main.hcl:13:",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
}
