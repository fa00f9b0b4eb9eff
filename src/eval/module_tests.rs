//! Evaluating modules: instances from count / for_each, each.key and count.index in a
//! call's arguments, outputs as `module.NAME...`, unknowns flowing through, sensitive
//! outputs marked where the caller reads them, and errors pointed at their line.

use super::*;
use crate::config::testing::{load_ok, located};
use crate::graph;

const NET: &str = r#"variable "cidr" {}

variable "name" {
  default = "net"
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags = {
    Name = var.name
  }
}

output "vpc_id" {
  value = aws_vpc.this.id
}

output "name" {
  value = var.name
}

output "token" {
  value     = "tok-${var.name}"
  sensitive = true
}
"#;

fn evaluate_stack(main: &str) -> Result<(Desired, Config), Vec<String>> {
    let (_root, config) = load_ok(&[("stack/main.hcl", main), ("modules/net/main.tf", NET)]);
    let graph = graph::build(&config).map_err(|d| located(&config.sources, &d))?;
    match evaluate(&config, &graph, &Inputs::default()) {
        Ok(d) => Ok((d, config)),
        Err(d) => Err(located(&config.sources, &d)),
    }
}

fn addrs(d: &Desired) -> Vec<String> {
    let mut v: Vec<String> = d.instances.iter().map(|i| i.addr.to_string()).collect();
    v.sort();
    v
}

#[test]
fn for_each_and_count_on_modules_make_addressed_instances() {
    let (d, _) = evaluate_stack(
        r#"
module "net" {
  source   = "../modules/net"
  for_each = { a = "10.1.0.0/16", b = "10.2.0.0/16" }
  cidr     = each.value
  name     = "net-${each.key}"
}

module "spare" {
  source = "../modules/net"
  count  = 2
  cidr   = cidrsubnet("10.0.0.0/8", 8, 100 + count.index)
}

output "names" {
  value = { for k, m in module.net : k => m.name }
}

output "spare_names" {
  value = module.spare[*].name
}

output "second" {
  value = module.spare[1].name
}

output "vpc_a" {
  value = module.net["a"].vpc_id
}
"#,
    )
    .expect("evaluates");
    assert_eq!(
        addrs(&d),
        [
            "module.net[\"a\"].aws_vpc.this",
            "module.net[\"b\"].aws_vpc.this",
            "module.spare[0].aws_vpc.this",
            "module.spare[1].aws_vpc.this",
        ]
    );
    let vpc_b = d
        .instances
        .iter()
        .find(|i| i.addr.to_string() == "module.net[\"b\"].aws_vpc.this")
        .expect("instance");
    assert_eq!(vpc_b.config.get("cidr_block"), &Value::str("10.2.0.0/16"));
    assert_eq!(
        vpc_b.config.get("tags_all").get("keel:address"),
        &Value::str("module.net[\"b\"].aws_vpc.this")
    );
    let spare1 = d
        .instances
        .iter()
        .find(|i| i.addr.to_string() == "module.spare[1].aws_vpc.this")
        .expect("instance");
    assert_eq!(
        spare1.config.get("cidr_block"),
        &Value::str("10.101.0.0/16")
    );
    assert_eq!(
        d.outputs["names"],
        Value::Map(BTreeMap::from([
            ("a".to_string(), Value::str("net-a")),
            ("b".to_string(), Value::str("net-b")),
        ]))
    );
    assert_eq!(
        d.outputs["spare_names"],
        Value::List(vec![Value::str("net"), Value::str("net")])
    );
    assert_eq!(d.outputs["second"], Value::str("net"));
    // Computed in the module: unknown until apply, shown as "(known after apply)".
    assert_eq!(d.outputs["vpc_a"], Value::Unknown);
}

#[test]
fn nested_modules_see_their_own_inputs_and_unknowns_flow_through() {
    let (_root, config) = load_ok(&[
        (
            "stack/main.hcl",
            r#"
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

module "outer" {
  source = "../modules/outer"
  vpc_id = aws_vpc.main.id
}

output "inner" {
  value = module.outer.inner
}
"#,
        ),
        (
            "modules/outer/main.tf",
            r#"
variable "vpc_id" {}

module "inner" {
  source = "../inner"
  count  = 2
  vpc_id = var.vpc_id
  cidr   = "10.0.${count.index}.0/24"
}

output "inner" {
  value = module.inner
}
"#,
        ),
        (
            "modules/inner/main.tf",
            r#"
variable "vpc_id" {}
variable "cidr" {}

resource "aws_subnet" "s" {
  vpc_id     = var.vpc_id
  cidr_block = var.cidr
}

output "cidr" {
  value = aws_subnet.s.cidr_block
}

output "where" {
  value = path.module
}
"#,
        ),
    ]);
    let graph = graph::build(&config).expect("graph");
    let d = evaluate(&config, &graph, &Inputs::default()).expect("evaluates");
    assert_eq!(
        addrs(&d),
        [
            "aws_vpc.main",
            "module.outer.module.inner[0].aws_subnet.s",
            "module.outer.module.inner[1].aws_subnet.s",
        ]
    );
    let s1 = d
        .instances
        .iter()
        .find(|i| i.addr.to_string() == "module.outer.module.inner[1].aws_subnet.s")
        .expect("instance");
    assert_eq!(s1.config.get("vpc_id"), &Value::Unknown);
    assert_eq!(s1.config.get("cidr_block"), &Value::str("10.0.1.0/24"));
    let inner = d.outputs["inner"]
        .as_list()
        .expect("a list: the call has count");
    assert_eq!(inner.len(), 2);
    assert_eq!(inner[0].get("cidr"), &Value::str("10.0.0.0/24"));
    let where_ = inner[0]
        .get("where")
        .as_str()
        .expect("a string")
        .to_string();
    assert!(where_.ends_with("modules/inner"), "{where_}");
}

#[test]
fn a_module_with_count_zero_has_no_instances_and_an_empty_value() {
    let (d, _) = evaluate_stack(
        r#"
module "net" {
  source = "../modules/net"
  count  = 0
  cidr   = "10.0.0.0/16"
}

output "ids" {
  value = module.net[*].vpc_id
}
"#,
    )
    .expect("evaluates");
    assert!(d.instances.is_empty());
    assert_eq!(d.outputs["ids"], Value::List(vec![]));
}

#[test]
fn sensitive_module_outputs_are_marked_where_the_caller_reads_them() {
    let (d, _) = evaluate_stack(
        r#"
module "net" {
  source = "../modules/net"
  cidr   = "10.0.0.0/16"
  name   = "prod"
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
  tags = {
    token = module.net.token
    name  = module.net.name
  }
}

resource "aws_s3_bucket" "plain" {
  bucket = module.net.name
}

output "token" {
  value     = module.net.token
  sensitive = true
}
"#,
    )
    .expect("evaluates");
    assert_eq!(d.outputs["token"], Value::str("tok-prod"));
    let marked = |addr: &str| d.sensitive_attrs.get(&addr.parse().unwrap()).cloned();
    assert_eq!(
        marked("aws_s3_bucket.b"),
        Some(["tags".to_string(), "tags_all".to_string()].into())
    );
    // Only what was read from the sensitive output.
    assert_eq!(marked("aws_s3_bucket.plain"), None);
    assert_eq!(marked("module.net.aws_vpc.this"), None);
}

#[test]
fn a_for_over_module_instances_marks_only_what_reads_a_sensitive_output() {
    let errors = evaluate_stack(
        r#"
module "net" {
  source   = "../modules/net"
  for_each = toset(["a", "b"])
  cidr     = "10.0.0.0/16"
}

output "names" {
  value = { for k, m in module.net : k => m.name }
}

output "tokens" {
  value = { for k, m in module.net : k => m.token }
}

output "whole" {
  value = [for m in module.net : m]
}
"#,
    )
    .expect_err("refused");
    let mut errors = errors;
    errors.sort();
    assert_eq!(
        errors,
        [
            "stack/main.hcl:12:1: output \"tokens\" refers to sensitive values",
            "stack/main.hcl:16:1: output \"whole\" refers to sensitive values",
        ],
        "{errors:#?}"
    );
}

#[test]
fn bad_module_repetition_and_each_outside_for_each_are_pointed_at() {
    let errors = evaluate_stack(
        r#"
resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}

module "a" {
  source = "../modules/net"
  count  = length(aws_vpc.v.id)
  cidr   = "10.0.0.0/16"
}

module "b" {
  source   = "../modules/net"
  for_each = [1]
  cidr     = "10.0.0.0/16"
}

module "c" {
  source = "../modules/net"
  cidr   = each.value
}
"#,
    )
    .expect_err("errors");
    for expected in [
        "stack/main.hcl:8:12: the count of module.a is not known until apply (it depends on aws_vpc.v)",
        "stack/main.hcl:14:14: for_each of module.b must hold strings, but holds 1",
        "stack/main.hcl:20:12: each.value is only available in a resource with for_each set",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "{expected}\n{errors:#?}"
        );
    }
}

#[test]
fn a_missing_instance_of_a_module_is_named() {
    let errors = evaluate_stack(
        r#"
module "net" {
  source = "../modules/net"
  count  = 2
  cidr   = "10.0.0.0/16"
}

output "x" {
  value = module.net[5].name
}

output "y" {
  value = module.net[0]["nope"]
}
"#,
    )
    .expect_err("errors");
    for expected in [
        "stack/main.hcl:9:22: index 5 is out of range for a list of 2",
        "stack/main.hcl:13:25: this map has no key \"nope\"",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "{expected}\n{errors:#?}"
        );
    }
}

#[test]
fn splats_over_resource_instances_read_each_attribute_and_report_what_is_missing() {
    let (d, _) = evaluate_stack(
        r#"
resource "aws_subnet" "s" {
  count      = 3
  vpc_id     = "vpc-1"
  cidr_block = cidrsubnet("10.0.0.0/16", 8, count.index)
  tags = {
    Name = "s-${count.index}"
  }
}

output "cidrs" {
  value = aws_subnet.s[*].cidr_block
}

output "legacy" {
  value = aws_subnet.s.*.cidr_block
}

output "names" {
  value = aws_subnet.s[*].tags.Name
}

output "second_name" {
  value = aws_subnet.s[*].tags.Name[1]
}

output "ids" {
  value = aws_subnet.s[*].id
}

output "count" {
  value = length(aws_subnet.s[*])
}
"#,
    )
    .expect("evaluates");
    let strs = |v: &[&str]| Value::List(v.iter().map(|s| Value::str(*s)).collect());
    let cidrs = strs(&["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]);
    assert_eq!(d.outputs["cidrs"], cidrs);
    assert_eq!(d.outputs["legacy"], cidrs);
    assert_eq!(d.outputs["names"], strs(&["s-0", "s-1", "s-2"]));
    assert_eq!(d.outputs["second_name"], Value::str("s-1"));
    assert_eq!(d.outputs["ids"], Value::List(vec![Value::Unknown; 3]));
    assert_eq!(d.outputs["count"], Value::Number(3.0));

    let err = evaluate_stack(
        r#"
resource "aws_subnet" "s" {
  count      = 2
  vpc_id     = "vpc-1"
  cidr_block = "10.0.${count.index}.0/24"
}

output "typo" {
  value = aws_subnet.s[*].cidr_blok
}
"#,
    )
    .expect_err("no such attribute");
    assert!(
        err.iter()
            .any(|e| e == "stack/main.hcl:9:26: this object has no attribute \"cidr_blok\""),
        "{err:#?}"
    );
}
