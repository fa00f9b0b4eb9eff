//! The language across module boundaries, through the binary: a secret passed into a
//! module, computed on inside it and read back out never shows in any rendering while AWS
//! gets the real value; `keel validate` checks module call arguments against the child's
//! types and rules; `keel graph` draws module resources by their full address.

use crate::fixture::{Project, unique};
use crate::moto::{moto, stack_filter};
use base64::Engine as _;

/// Writes `text` to `path` under the project's root (beside the stack directory).
fn write_beside(p: &Project, path: &str, text: &str) {
    let path = p.root.path().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The module declares nothing sensitive: the mark comes with the caller's argument.
const TAGGER: &str = r#"
variable "token" {
  type = string
}

variable "name" {
  type = string
}

locals {
  encoded = base64encode(var.token)
}

resource "aws_vpc" "v" {
  cidr_block = "10.78.0.0/16"
  tags = {
    Token = local.encoded
    Name  = var.name
  }
}

output "encoded" {
  value     = local.encoded
  sensitive = true
}

output "cidr" {
  value = aws_vpc.v.cidr_block
}
"#;

const STACK: &str = r#"
variable "token" {
  type      = string
  sensitive = true
}

module "tag" {
  source = "../modules/tagger"
  token  = var.token
  name   = "tagged-net"
}

resource "aws_vpc" "copy" {
  cidr_block = "10.79.0.0/16"
  tags = {
    Copy = module.tag.encoded
    From = module.tag.cidr
  }
}

output "cidr" {
  value = module.tag.cidr
}

output "encoded" {
  value     = module.tag.encoded
  sensitive = true
}
"#;

fn clean(text: &str, secret: &str, encoded: &str, what: &str) {
    assert!(!text.contains(secret), "{what} shows the secret:\n{text}");
    assert!(
        !text.contains(encoded),
        "{what} shows a value derived from the secret:\n{text}"
    );
}

/// The value of tag `key` on the stack's VPC that carries it.
async fn tag_in_the_cloud(stack: &str, key: &str) -> Option<String> {
    let vpcs = moto()
        .ec2()
        .await
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    vpcs.vpcs()
        .iter()
        .flat_map(|v| v.tags())
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_through_a_module_and_back_never_shows_but_reaches_aws() {
    let p = Project::new("module-secret");
    write_beside(&p, "modules/tagger/main.tf", TAGGER);
    p.write("main.hcl", STACK);
    let secret = unique("s3cr3t");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&secret);
    let var = format!("token={secret}");
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-var", &var]);
        p.keel(&all)
    };

    for (args, what) in [
        (&["plan"][..], "the plan"),
        (&["plan", "-json"][..], "the JSON plan"),
        (&["plan", "--format", "markdown"][..], "the Markdown plan"),
    ] {
        let out = run(args).ok();
        clean(&out.stdout, &secret, &encoded, what);
        clean(&out.stderr, &secret, &encoded, what);
        assert!(out.stdout.contains("(sensitive value)"), "{}", out.stdout);
        // What is not secret still shows, inside the module and out of it (marks are
        // per top-level attribute: the tags holding the secret are hidden whole).
        assert!(out.stdout.contains("10.78.0.0/16"), "{}", out.stdout);
        assert!(out.stdout.contains("10.79.0.0/16"), "{}", out.stdout);
    }
    let doc: serde_json::Value =
        serde_json::from_str(&run(&["plan", "-json"]).ok().stdout).unwrap();
    let marks = |addr: &str| {
        doc["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == addr)
            .unwrap_or_else(|| panic!("{addr} in {doc}"))["sensitive_attributes"]
            .clone()
    };
    let tags = serde_json::json!(["tags", "tags_all"]);
    assert_eq!(marks("module.tag.aws_vpc.v"), tags);
    assert_eq!(marks("aws_vpc.copy"), tags);

    let out = run(&["apply", "-auto-approve"]).ok();
    clean(&out.stdout, &secret, &encoded, "apply");
    assert_eq!(
        tag_in_the_cloud(&p.stack, "Token").await.as_deref(),
        Some(encoded.as_str())
    );
    assert_eq!(
        tag_in_the_cloud(&p.stack, "Copy").await.as_deref(),
        Some(encoded.as_str())
    );
    let state = p.state();
    assert_eq!(
        state["resources"]["module.tag.aws_vpc.v"]["sensitive_attributes"], tags,
        "{state}"
    );
    assert_eq!(state["outputs"]["encoded"]["sensitive"], true);
    let out = p.keel(&["output"]).ok();
    clean(&out.stdout, &secret, &encoded, "keel output");
    let out = p.keel(&["state", "show", "module.tag.aws_vpc.v"]).ok();
    clean(&out.stdout, &secret, &encoded, "keel state show");
    assert!(out.stdout.contains("10.78.0.0/16"), "{}", out.stdout);
    assert!(out.stdout.contains("(sensitive value)"), "{}", out.stdout);
    let again = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    // A hand-made change inside the module shows as drift of a hidden attribute.
    let vpc_id = state["resources"]["module.tag.aws_vpc.v"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    moto()
        .ec2()
        .await
        .create_tags()
        .resources(&vpc_id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Token")
                .value("changed-by-hand")
                .build(),
        )
        .send()
        .await
        .unwrap();
    for args in [
        &["drift"][..],
        &["drift", "-json"],
        &["drift", "--format", "markdown"],
    ] {
        let out = run(args);
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        clean(&out.stdout, &secret, &encoded, "drift");
        assert!(out.stdout.contains("(sensitive value)"), "{}", out.stdout);
    }

    let out = run(&["destroy", "-auto-approve"]).ok();
    clean(&out.stdout, &secret, &encoded, "destroy");
    assert_eq!(tag_in_the_cloud(&p.stack, "Copy").await, None);
}

const NET: &str = r#"
variable "cidr" {
  type = string
  validation {
    condition     = can(cidrhost(var.cidr, 0))
    error_message = "cidr must be a CIDR block such as 10.0.0.0/16."
  }
}

variable "subnets" {
  type    = number
  default = 1
}

resource "aws_vpc" "v" {
  cidr_block = var.cidr
}

resource "aws_subnet" "s" {
  count      = var.subnets
  vpc_id     = aws_vpc.v.id
  cidr_block = cidrsubnet(var.cidr, 8, count.index)
}

output "vpc_id" {
  value = aws_vpc.v.id
}
"#;

#[test]
fn validate_checks_module_arguments_and_graph_names_module_resources() {
    let p = Project::new("module-tooling");
    write_beside(&p, "modules/net/main.tf", NET);
    p.write(
        "main.hcl",
        r#"
variable "cidr" {}

module "net" {
  source  = "../modules/net"
  cidr    = "not-a-cidr"
  subnets = "two"
}

module "other" {
  source = "../modules/net"
  cidr   = var.cidr
}

resource "aws_s3_bucket" "b" {
  bucket = "logs"
  tags = {
    vpc = module.net.vpc_id
  }
}
"#,
    );
    let out = p.keel(&["validate"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    // Both wrong arguments, each at its line; the unknown var.cidr of module.other is fine.
    assert!(
        out.stderr.contains(
            "invalid value for variable \"subnets\": the argument in module.net gave \"two\", but its type number wants a number"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("main.hcl:7:13"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cidr must be a CIDR block such as 10.0.0.0/16."),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("main.hcl:6:13"), "{}", out.stderr);
    let json = p.keel(&["validate", "-json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["error_count"], 2, "{doc}");

    p.write(
        "main.hcl",
        &std::fs::read_to_string(p.dir().join("main.hcl"))
            .unwrap()
            .replace("\"not-a-cidr\"", "\"10.5.0.0/16\"")
            .replace("\"two\"", "2"),
    );
    let out = p.keel(&["validate"]).ok();
    assert_eq!(out.stdout, "Success! The configuration is valid.\n");

    let dot = p.keel(&["graph"]).ok().stdout;
    for line in [
        "\"module.net.aws_vpc.v\";",
        "\"module.net.aws_subnet.s\" -> \"module.net.aws_vpc.v\";",
        "\"module.other.aws_subnet.s\" -> \"module.other.aws_vpc.v\";",
        "\"aws_s3_bucket.b\" -> \"module.net.aws_vpc.v\";",
    ] {
        assert!(dot.contains(line), "{line}\n{dot}");
    }
    assert!(
        !dot.contains("\"aws_s3_bucket.b\" -> \"module.other"),
        "{dot}"
    );
}
