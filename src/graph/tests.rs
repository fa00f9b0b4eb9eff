//! One graph across modules: edges through module inputs and outputs, `depends_on` on a
//! module call, unresolvable module references with hints, cycles named by address.

use super::*;
use crate::config::testing::{load_ok, located};

const NET: &str = r#"variable "cidr" {}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
}

output "vpc_id" {
  value = aws_vpc.this.id
}

output "cidr" {
  value = var.cidr
}
"#;

fn node(config: &Config, graph: &ResourceGraph, name: &str) -> Node {
    *graph
        .order()
        .iter()
        .find(|&&n| describe(config, n).0 == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

fn names(config: &Config, nodes: impl IntoIterator<Item = Node>) -> Vec<String> {
    let mut v: Vec<String> = nodes.into_iter().map(|n| describe(config, n).0).collect();
    v.sort();
    v
}

#[test]
fn module_inputs_and_outputs_connect_the_caller_and_the_module() {
    let (_root, config) = load_ok(&[
        (
            "stack/main.hcl",
            r#"
resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

module "net" {
  source = "../modules/net"
  cidr   = "10.0.0.0/16"
  depends_on = [aws_s3_bucket.logs]
}

resource "aws_subnet" "s" {
  vpc_id     = module.net.vpc_id
  cidr_block = "10.0.1.0/24"
}

output "all" {
  value = module.net
}
"#,
        ),
        ("modules/net/main.tf", NET),
    ]);
    let graph = build(&config).expect("graph");
    let deps = |name: &str| names(&config, graph.dependencies(node(&config, &graph, name)));
    // The subnet waits for the one output it reads, not for the whole module.
    assert_eq!(deps("aws_subnet.s"), ["module.net.output.vpc_id"]);
    // The whole module object waits for every output and the call.
    assert_eq!(
        deps("output.all"),
        [
            "module.net",
            "module.net.output.cidr",
            "module.net.output.vpc_id"
        ]
    );
    // Inside the module, everything waits for the call; the call for its depends_on.
    assert_eq!(deps("module.net.var.cidr"), ["module.net"]);
    assert_eq!(deps("module.net"), ["aws_s3_bucket.logs"]);
    let vpc = node(&config, &graph, "module.net.aws_vpc.this");
    assert_eq!(
        names(&config, graph.resource_dependencies(vpc)),
        ["aws_s3_bucket.logs"]
    );
    // Through the output, the subnet also waits for what the module call waits for.
    assert_eq!(
        names(
            &config,
            graph.resource_dependencies(node(&config, &graph, "aws_subnet.s"))
        ),
        ["aws_s3_bucket.logs", "module.net.aws_vpc.this"]
    );
    let dot = graph.to_dot(&config);
    assert!(
        dot.contains("\"aws_subnet.s\" -> \"module.net.aws_vpc.this\""),
        "{dot}"
    );
}

#[test]
fn depends_on_a_module_waits_for_all_of_its_resources() {
    let (_root, config) = load_ok(&[
        (
            "stack/main.hcl",
            r#"
module "net" {
  source = "../modules/net"
  cidr   = "10.0.0.0/16"
}

resource "aws_s3_bucket" "after" {
  bucket     = "after"
  depends_on = [module.net]
}
"#,
        ),
        ("modules/net/main.tf", NET),
    ]);
    let graph = build(&config).expect("graph");
    let b = node(&config, &graph, "aws_s3_bucket.after");
    assert_eq!(
        names(&config, graph.resource_dependencies(b)),
        ["module.net.aws_vpc.this"]
    );
}

fn graph_errors(files: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let (_root, config) = load_ok(files);
    let diags = build(&config).expect_err("graph errors");
    let helps = diags.items.iter().filter_map(|d| d.help.clone()).collect();
    (located(&config.sources, &diags), helps)
}

#[test]
fn an_undeclared_output_or_module_is_named_with_a_hint() {
    let (errors, helps) = graph_errors(&[
        (
            "stack/main.hcl",
            r#"module "net" {
  source = "../modules/net"
  cidr   = "10.0.0.0/16"
}

output "a" {
  value = module.net.vpc_idd
}

output "b" {
  value = module.nett.vpc_id
}

output "c" {
  value = module.net[0].cidrr
}
"#,
        ),
        ("modules/net/main.tf", NET),
    ]);
    assert!(
        errors.contains(&"stack/main.hcl:7:11: module.net has no output \"vpc_idd\"".to_string()),
        "{errors:?}"
    );
    assert!(
        errors.contains(
            &"stack/main.hcl:11:11: reference to undeclared module module.nett".to_string()
        ),
        "{errors:?}"
    );
    assert!(
        errors.contains(&"stack/main.hcl:15:11: module.net has no output \"cidrr\"".to_string()),
        "{errors:?}"
    );
    for h in [
        "did you mean module.net.vpc_id?",
        "did you mean module.net?",
        "did you mean module.net.cidr?",
    ] {
        assert!(helps.iter().any(|x| x == h), "{h}: {helps:?}");
    }
}

#[test]
fn a_mistake_inside_a_module_points_into_the_module() {
    let (errors, _) = graph_errors(&[
        (
            "stack/main.hcl",
            "module \"net\" {\n  source = \"../modules/net\"\n  cidr   = \"10.0.0.0/16\"\n}\n",
        ),
        (
            "modules/net/main.tf",
            "variable \"cidr\" {}\n\nresource \"aws_vpc\" \"this\" {\n  cidr_block = var.cidrr\n}\n",
        ),
    ]);
    assert_eq!(
        errors,
        ["modules/net/main.tf:4:16: reference to undeclared variable var.cidrr"]
    );
}

#[test]
fn a_cycle_through_a_module_is_named_by_address() {
    let (errors, _) = graph_errors(&[
        (
            "stack/main.hcl",
            r#"module "net" {
  source = "../modules/net"
  cidr   = module.net.cidr
}
"#,
        ),
        ("modules/net/main.tf", NET),
    ]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("modules/net/main.tf:1:1: dependency cycle between module.net.var.cidr (")
            && errors[0].contains("), module.net.output.cidr (")
            && errors[0].ends_with("modules/net/main.tf:11:1)"),
        "{errors:?}"
    );
}
