//! Loading stacks that call modules: the tree, each directory read once, and every
//! mistake in a module call reported at its file:line:column.

use super::testing::{load_ok, load_stack, located, write};
use super::*;

const VPC: &str = r#"variable "cidr" {}
variable "name" {
  default = "net"
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
}

module "subnets" {
  source = "../subnets"
  vpc_id = aws_vpc.this.id
}

output "vpc_id" {
  value = aws_vpc.this.id
}
"#;

const SUBNETS: &str = r#"variable "vpc_id" {}

resource "aws_subnet" "a" {
  vpc_id     = var.vpc_id
  cidr_block = "10.0.1.0/24"
}

output "ids" {
  value = [aws_subnet.a.id]
}
"#;

fn errors(files: &[(&str, &str)]) -> Vec<String> {
    let root = write(files);
    match load_stack(&root) {
        Ok(_) => panic!("expected errors"),
        Err((sources, diags)) => located(&sources, &diags),
    }
}

fn has(errors: &[String], expected: &str) {
    assert!(
        errors.iter().any(|e| e.contains(expected)),
        "expected {expected:?} in:\n{}",
        errors.join("\n")
    );
}

#[test]
fn nested_calls_make_one_scope_per_path_and_read_each_directory_once() {
    let (_root, config) = load_ok(&[
        (
            "stack/main.hcl",
            r#"
module "a" {
  source = "../modules/vpc"
  cidr   = "10.1.0.0/16"
}

module "b" {
  source   = "../modules/vpc"
  for_each = toset(["x", "y"])
  cidr     = "10.2.0.0/16"
}
"#,
        ),
        ("modules/vpc/main.tf", VPC),
        ("modules/subnets/main.tf", SUBNETS),
    ]);
    // The stack, the vpc module and the subnets module: each read once.
    assert_eq!(config.modules.len(), 3);
    let vpc_files = config
        .sources
        .files()
        .filter(|f| f.path.ends_with("vpc/main.tf"))
        .count();
    assert_eq!(vpc_files, 1, "the vpc module's file is parsed once");
    let paths: Vec<String> = config.scopes.iter().map(Scope::display).collect();
    assert_eq!(
        paths,
        [
            "",
            "module.a",
            "module.a.module.subnets",
            "module.b",
            "module.b.module.subnets"
        ]
    );
    let inner = config.scope_of(
        &"module.b[\"x\"].module.subnets.aws_subnet.a"
            .parse::<ResourceAddr>()
            .unwrap()
            .module,
    );
    assert_eq!(
        inner.map(|s| config.scope(s).display()).as_deref(),
        Some("module.b.module.subnets")
    );
    let (scope, i, r) = config
        .find_resource(&"module.a.module.subnets.aws_subnet.a".parse().unwrap())
        .expect("found");
    assert_eq!(
        (config.scope(scope).display().as_str(), i, r.name.as_str()),
        ("module.a.module.subnets", 0, "a")
    );
    assert!(
        config
            .find_resource(&"module.zz.aws_vpc.this".parse().unwrap())
            .is_none()
    );
}

#[test]
fn a_registry_or_git_source_is_refused_at_its_line() {
    let e = errors(&[(
        "stack/main.hcl",
        "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n}\n\nmodule \"g\" {\n  source = \"git::https://example.com/m.git\"\n}\n",
    )]);
    has(
        &e,
        "stack/main.hcl:2:13: keel supports local module sources (./ or ../) for now; the source of module.vpc is \"terraform-aws-modules/vpc/aws\"",
    );
    has(
        &e,
        "stack/main.hcl:6:12: keel supports local module sources (./ or ../) for now",
    );
}

#[test]
fn a_missing_module_directory_is_an_error_at_the_source() {
    let e = errors(&[(
        "stack/main.hcl",
        "module \"vpc\" {\n  source = \"../modules/nope\"\n}\n",
    )]);
    has(&e, "stack/main.hcl:2:12: the source of module.vpc,");
    has(&e, "is not a directory");
}

#[test]
fn arguments_must_be_variables_of_the_module_and_required_inputs_set() {
    let e = errors(&[
        (
            "stack/main.hcl",
            "module \"net\" {\n  source = \"../modules/subnets\"\n  vpc_idd = \"vpc-1\"\n}\n",
        ),
        ("modules/subnets/main.tf", SUBNETS),
    ]);
    has(
        &e,
        "stack/main.hcl:3:3: module.net has no input variable \"vpc_idd\"",
    );
    has(
        &e,
        "stack/main.hcl:1:1: module.net is missing the required input \"vpc_id\"",
    );
    let root = write(&[
        (
            "stack/main.hcl",
            "module \"net\" {\n  source = \"../modules/subnets\"\n  vpc_idd = \"vpc-1\"\n}\n",
        ),
        ("modules/subnets/main.tf", SUBNETS),
    ]);
    let (_, diags) = load_stack(&root).expect_err("errors");
    let helps: Vec<&str> = diags
        .items
        .iter()
        .filter_map(|d| d.help.as_deref())
        .collect();
    assert!(helps.contains(&"did you mean \"vpc_id\"?"), "{helps:?}");
}

#[test]
fn a_module_that_calls_itself_is_refused() {
    let e = errors(&[
        (
            "stack/main.hcl",
            "module \"a\" {\n  source = \"../modules/loop\"\n}\n",
        ),
        (
            "modules/loop/main.tf",
            "module \"again\" {\n  source = \"./\"\n}\n",
        ),
    ]);
    has(
        &e,
        "modules/loop/main.tf:2:12: module.again calls a module that is already being called on this path",
    );
}

#[test]
fn provider_blocks_in_modules_and_unknown_aliases_are_refused() {
    let e = errors(&[
        (
            "stack/main.hcl",
            r#"provider "aws" {
  alias = "west"
}

resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
  provider   = aws.wets
}

module "m" {
  source    = "../modules/m"
  providers = { aws = aws.east }
}
"#,
        ),
        (
            "modules/m/main.tf",
            "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n\nresource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n  provider   = aws.other\n}\n",
        ),
    ]);
    has(
        &e,
        "modules/m/main.tf:1:1: provider blocks belong in the stack's root module",
    );
    let root = write(&[
        (
            "stack/main.hcl",
            r#"provider "aws" {
  alias = "west"
}

resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
  provider   = aws.wets
}

module "m" {
  source    = "../modules/m"
  providers = { aws = aws.east }
}
"#,
        ),
        (
            "modules/m/main.tf",
            "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n  provider   = aws.other\n}\n",
        ),
    ]);
    let (sources, diags) = load_stack(&root).expect_err("errors");
    let e = located(&sources, &diags);
    has(
        &e,
        "stack/main.hcl:7:16: provider configuration aws.wets is not declared",
    );
    has(
        &e,
        "stack/main.hcl:12:23: provider configuration aws.east is not declared",
    );
    has(
        &e,
        "modules/m/main.tf:3:16: provider configuration aws.other is not declared",
    );
    let helps: Vec<&str> = diags
        .items
        .iter()
        .filter_map(|d| d.help.as_deref())
        .collect();
    assert!(helps.contains(&"did you mean aws.west?"), "{helps:?}");
    assert!(
        helps
            .iter()
            .any(|h| h.contains("providers = { aws.other = aws.other }")),
        "{helps:?}"
    );
}

#[test]
fn providers_resolve_per_scope() {
    let (_root, config) = load_ok(&[
        (
            "stack/main.hcl",
            r#"provider "aws" {
  alias = "west"
}

resource "aws_vpc" "a" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_vpc" "b" {
  cidr_block = "10.0.0.0/16"
  provider   = aws.west
}

module "plain" {
  source = "../modules/m"
}

module "moved" {
  source    = "../modules/m"
  providers = { aws = aws.west }
}
"#,
        ),
        (
            "modules/m/main.tf",
            "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n",
        ),
    ]);
    let by_path = |path: &str| {
        let s = config
            .scopes
            .iter()
            .find(|s| s.display() == path)
            .expect("scope");
        s.resource_providers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(by_path(""), ["aws", "aws.west"]);
    assert_eq!(by_path("module.plain"), ["aws"]);
    assert_eq!(by_path("module.moved"), ["aws.west"]);
}
