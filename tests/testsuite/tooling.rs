//! The commands that need no cloud: `keel validate`, `keel graph` and `keel fmt`, driven
//! through the binary as a CI job or an editor would.

use crate::fixture::Project;

const VALID: &str = r#"
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "region" {}

variable "zones" {
  type    = list(string)
  default = ["us-east-1a", "us-east-1b"]
}

provider "aws" {
  region = var.region
}

locals {
  cidr = "10.40.0.0/16"
}

resource "aws_vpc" "main" {
  cidr_block = local.cidr
}

resource "aws_subnet" "private" {
  count             = length(var.zones)
  vpc_id            = aws_vpc.main.id
  availability_zone = var.zones[count.index]
  cidr_block        = cidrsubnet(local.cidr, 8, count.index)
}
"#;

#[test]
fn validate_needs_no_variable_values_state_or_cloud() {
    let p = Project::new("validate-ok");
    p.write("main.tf", VALID);
    // var.region has no value anywhere: validate does not ask and does not care.
    let run = p.keel(&["validate"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "Success! The configuration is valid.\n");
    assert!(!p.state_path().exists(), "validate wrote state");
    let run = p.keel(&["validate", "-json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["error_count"], 0);
}

#[test]
fn validate_reports_every_problem_with_its_location() {
    let p = Project::new("validate-bad");
    p.write("main.tf", VALID);
    p.write(
        "broken.tf",
        r#"
variable "size" {
  type    = number
  default = "large"
}

resource "aws_vpc" "extra" {
  cidr_blok = "10.0.0.0/16"
}

resource "aws_subnet" "orphan" {
  vpc_id     = aws_vpc.main.id
  cidr_block = cidrsubnet("not-a-cidr", 8, 1)
}
"#,
    );
    let run = p.keel(&["validate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let e = &run.stderr;
    assert!(e.contains("unsupported argument \"cidr_blok\""), "{e}");
    assert!(e.contains("did you mean \"cidr_block\"?"), "{e}");
    assert!(e.contains("broken.tf:8:3"), "{e}");
    assert!(e.contains("cidrsubnet(): argument 1 (prefix)"), "{e}");
    assert!(
        e.contains("its default gave \"large\", but its type number wants a number"),
        "{e}"
    );
    assert!(e.contains("The configuration is not valid"), "{e}");

    let run = p.keel(&["validate", "-json"]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["format_version"], "1.0");
    assert_eq!(doc["valid"], false);
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(doc["error_count"], diags.len());
    assert!(diags.len() >= 4, "{doc:#}");
    let blok = diags
        .iter()
        .find(|d| d["summary"].as_str().unwrap().contains("cidr_blok"))
        .unwrap();
    assert_eq!(blok["severity"], "error");
    assert!(
        blok["range"]["filename"]
            .as_str()
            .unwrap()
            .ends_with("broken.tf")
    );
    assert_eq!(blok["range"]["start"]["line"], 8);
    assert_eq!(blok["range"]["start"]["column"], 3);
    assert_eq!(blok["snippet"]["code"], "  cidr_blok = \"10.0.0.0/16\"");
}

#[test]
fn validate_reports_syntax_errors_too() {
    let p = Project::new("validate-syntax");
    p.write(
        "main.tf",
        "resource \"aws_vpc\" \"x\" {\n  cidr_block = \n}\n",
    );
    let run = p.keel(&["validate", "-json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        doc["diagnostics"][0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("syntax error")
    );
}

#[test]
fn graph_prints_each_resource_and_what_it_depends_on() {
    let p = Project::new("graph");
    p.write("main.tf", VALID);
    let run = p.keel(&["graph"]).ok();
    let dot = &run.stdout;
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("\"aws_vpc.main\";"), "{dot}");
    assert!(
        dot.contains("\"aws_subnet.private\" -> \"aws_vpc.main\";"),
        "{dot}"
    );
    assert_eq!(dot.matches(" -> ").count(), 1, "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn graph_as_svg_without_graphviz_is_a_clear_error() {
    let p = Project::new("graph-svg");
    p.write("main.tf", VALID);
    let empty = tempfile::tempdir().unwrap();
    let run = p.keel_env(
        &["graph", "--format", "svg"],
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("Graphviz's dot command"),
        "{}",
        run.stderr
    );
    // Where Graphviz is installed, the SVG comes out.
    if std::process::Command::new("dot").arg("-V").output().is_ok() {
        let run = p.keel(&["graph", "--format", "svg"]).ok();
        assert!(run.stdout.contains("<svg"), "{}", run.stdout);
    }
}

const UNFORMATTED: &str = "# keep me\nresource aws_vpc main {\ncidr_block=\"10.0.0.0/16\" # and me\n    enable_dns_support=true\n  tags = {Name=\"${var.name}\"}\n  user_data = <<EOT\n  raw   text ${x}\nEOT\n}\n";
const FORMATTED: &str = "# keep me\nresource \"aws_vpc\" \"main\" {\n  cidr_block         = \"10.0.0.0/16\" # and me\n  enable_dns_support = true\n  tags               = { Name = \"${var.name}\" }\n  user_data          = <<EOT\n  raw   text ${x}\nEOT\n}\n";

#[test]
fn fmt_check_lists_what_would_change_and_exits_3_without_writing() {
    let p = Project::new("fmt-check");
    p.write("main.tf", UNFORMATTED);
    p.write("ok.hcl", "a = 1\n");
    let run = p.keel(&["fmt", "-check"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.trim_end().ends_with("main.tf"), "{}", run.stdout);
    assert!(!run.stdout.contains("ok.hcl"), "{}", run.stdout);
    let on_disk = std::fs::read_to_string(p.dir().join("main.tf")).unwrap();
    assert_eq!(on_disk, UNFORMATTED, "-check wrote the file");

    let run = p.keel(&["fmt", "-check", "-diff"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("+  enable_dns_support = true"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("-    enable_dns_support=true"),
        "{}",
        run.stdout
    );
}

#[test]
fn fmt_rewrites_files_keeping_comments_and_heredocs_and_is_idempotent() {
    let p = Project::new("fmt-write");
    p.write("main.tf", UNFORMATTED);
    let run = p.keel(&["fmt"]).ok();
    assert!(run.stdout.contains("main.tf"), "{}", run.stdout);
    let on_disk = std::fs::read_to_string(p.dir().join("main.tf")).unwrap();
    assert_eq!(on_disk, FORMATTED);
    let run = p.keel(&["fmt", "-check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn fmt_recurses_only_when_asked_and_refuses_files_that_do_not_parse() {
    let p = Project::new("fmt-recursive");
    p.write("main.tf", "a = 1\n");
    std::fs::create_dir_all(p.dir().join("modules/net")).unwrap();
    std::fs::write(p.dir().join("modules/net/main.tf"), "b=2\n").unwrap();
    std::fs::write(p.dir().join("vars.tfvars"), "x=1\n").unwrap();
    let run = p.keel(&["fmt", "-check"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("vars.tfvars"), "{}", run.stdout);
    assert!(!run.stdout.contains("modules"), "{}", run.stdout);
    let run = p.keel(&["fmt", "-check", "-recursive"]);
    assert!(run.stdout.contains("modules/net/main.tf"), "{}", run.stdout);

    std::fs::write(p.dir().join("modules/net/bad.tf"), "x = {\n").unwrap();
    let run = p.keel(&["fmt", "-recursive"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("syntax error"), "{}", run.stderr);
    assert!(run.stderr.contains("bad.tf:1:"), "{}", run.stderr);
    // The files that parse were still formatted.
    let net = std::fs::read_to_string(p.dir().join("modules/net/main.tf")).unwrap();
    assert_eq!(net, "b = 2\n");
}
