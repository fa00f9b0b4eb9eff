//! The language across module boundaries: a call's arguments converted to the child
//! variables' types, nullable and validation rules applied to them (problems pointed at
//! the argument), and sensitivity marks flowing into a module, through it and back out.

use super::*;
use crate::config::testing::{load_ok, located};
use crate::graph;

/// Loads `stack/main.hcl` with `modules/child/main.tf`, evaluates with `inputs`.
fn run(main: &str, child: &str, inputs: &Inputs) -> Result<Desired, Vec<String>> {
    let (_root, config) = load_ok(&[("stack/main.hcl", main), ("modules/child/main.tf", child)]);
    let graph = graph::build(&config).map_err(|d| located(&config.sources, &d))?;
    evaluate(&config, &graph, inputs).map_err(|d| located(&config.sources, &d))
}

fn validated(main: &str, child: &str) -> Vec<String> {
    let (_root, config) = load_ok(&[("stack/main.hcl", main), ("modules/child/main.tf", child)]);
    let graph = graph::build(&config).expect("graph");
    located(
        &config.sources,
        &validate(&config, &graph, &Inputs::default()),
    )
}

const TYPED: &str = r#"variable "port" {
  type = number
  validation {
    condition     = var.port > 1024
    error_message = "port must be above 1024."
  }
}

variable "zones" {
  type     = list(string)
  default  = ["a"]
  nullable = false
}

variable "settings" {
  type = object({
    name = string
    size = optional(number, 8)
  })
  default = { name = "x" }
}

resource "aws_s3_bucket" "b" {
  bucket = "b-${var.port}-${var.settings.size}-${length(var.zones)}"
}

output "port_plus_one" {
  value = var.port + 1
}
"#;

#[test]
fn module_arguments_are_converted_to_the_variables_types() {
    let d = run(
        r#"
module "web" {
  source   = "../modules/child"
  port     = "8080"
  zones    = null
  settings = { name = "web", extra = true }
}

output "next" {
  value = module.web.port_plus_one
}
"#,
        TYPED,
        &Inputs::default(),
    )
    .expect("evaluates");
    // "8080" became a number (8081 below); null took the default of a non-nullable
    // variable; the optional attribute got its default.
    assert_eq!(d.outputs["next"], Value::Number(8081.0));
    assert_eq!(
        d.instances[0].config.get("bucket"),
        &Value::str("b-8080-8-1")
    );
}

#[test]
fn a_bad_module_argument_is_reported_at_the_argument() {
    let errors = run(
        r#"
module "web" {
  source = "../modules/child"
  port   = "eighty"
}

module "api" {
  source   = "../modules/child"
  port     = 80
  settings = { size = 2 }
}
"#,
        TYPED,
        &Inputs::default(),
    )
    .expect_err("refused");
    for expected in [
        "stack/main.hcl:4:12: invalid value for variable \"port\": the argument in module.web gave \"eighty\", but its type number wants a number",
        "stack/main.hcl:9:14: invalid value for variable \"port\": port must be above 1024.",
        "stack/main.hcl:10:14: invalid value for variable \"settings\": the argument in module.api gave an object without \"name\", but its type object({ name = string, size = optional(number) }) requires that attribute",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "{expected}\n{errors:#?}"
        );
    }
}

#[test]
fn keel_validate_checks_module_arguments_without_variable_values() {
    // var.port of the stack has no value: unknown, so nothing to check in module.a; the
    // literal in module.b is checked, in the module called with count unknown too.
    let errors = validated(
        r#"
variable "port" {}
variable "n" {}

module "a" {
  source = "../modules/child"
  port   = var.port
}

module "b" {
  source = "../modules/child"
  count  = var.n
  port   = 2222
  zones  = "not a list"
}
"#,
        TYPED,
    );
    assert_eq!(
        errors,
        [
            "stack/main.hcl:14:12: invalid value for variable \"zones\": the argument in module.b gave \"not a list\", but its type list(string) wants a list of strings"
        ],
        "{errors:#?}"
    );
}

const SECRETIVE: &str = r#"variable "password" {
  type = string
}

variable "name" {}

resource "aws_s3_bucket" "p" {
  bucket = "app-${var.name}"
  tags = {
    pw = "pw:${var.password}"
  }
}

output "dsn" {
  value     = "db://${var.name}:${var.password}@host"
  sensitive = true
}

output "name" {
  value = var.name
}
"#;

#[test]
fn a_secret_passed_into_a_module_marks_what_the_module_computes_from_it() {
    let main = r#"
variable "db_password" {
  sensitive = true
  default   = "hunter22-pw"
}

module "db" {
  source   = "../modules/child"
  password = var.db_password
  name     = "orders"
}

resource "aws_s3_bucket" "copy" {
  bucket = "copy-${module.db.name}"
  tags = {
    dsn = module.db.dsn
  }
}

output "dsn" {
  value     = module.db.dsn
  sensitive = true
}
"#;
    let d = run(main, SECRETIVE, &Inputs::default()).expect("evaluates");
    let marked = |addr: &str| {
        d.sensitive_attrs
            .get(&addr.parse().unwrap())
            .map(|s| s.iter().cloned().collect::<Vec<_>>())
    };
    // Inside the module, by its full address; only the attribute built from the secret.
    let tags = Some(vec!["tags".to_string(), "tags_all".to_string()]);
    assert_eq!(marked("module.db.aws_s3_bucket.p"), tags);
    // Read back in the caller through a sensitive output; module.db.name stays plain.
    assert_eq!(marked("aws_s3_bucket.copy"), tags);
    let copy = d
        .instances
        .iter()
        .find(|i| i.addr.to_string() == "aws_s3_bucket.copy")
        .expect("instance");
    assert_eq!(copy.config.get("bucket"), &Value::str("copy-orders"));
    assert_eq!(d.outputs["dsn"], Value::str("db://orders:hunter22-pw@host"));
}

#[test]
fn a_module_output_derived_from_a_secret_must_be_declared_sensitive() {
    let errors = run(
        r#"
variable "db_password" {
  sensitive = true
  default   = "hunter22-pw"
}

module "db" {
  source   = "../modules/child"
  password = "plain"
  name     = var.db_password
}
"#,
        SECRETIVE,
        &Inputs::default(),
    )
    .expect_err("refused");
    assert_eq!(
        errors,
        ["modules/child/main.tf:19:1: output \"name\" of module.db refers to sensitive values"],
        "{errors:#?}"
    );
}

#[test]
fn for_each_over_a_secret_is_refused_for_module_calls_too() {
    let errors = run(
        r#"
variable "tokens" {
  type      = set(string)
  sensitive = true
  default   = ["tok-aaaa", "tok-bbbb"]
}

module "db" {
  source   = "../modules/child"
  for_each = var.tokens
  password = each.value
  name     = "n"
}
"#,
        SECRETIVE,
        &Inputs::default(),
    )
    .expect_err("refused");
    assert_eq!(
        errors,
        ["stack/main.hcl:10:14: the for_each of module.db is derived from a sensitive value"],
        "{errors:#?}"
    );
}

#[test]
fn a_sensitive_module_argument_never_shows_in_a_type_error() {
    let errors = run(
        r#"
variable "db_password" {
  sensitive = true
  default   = { nested = "hunter22-pw" }
}

module "db" {
  source   = "../modules/child"
  password = var.db_password
  name     = "n"
}
"#,
        SECRETIVE,
        &Inputs::default(),
    )
    .expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("(sensitive value)"), "{errors:#?}");
    assert!(!errors[0].contains("hunter22"), "{errors:#?}");
}
