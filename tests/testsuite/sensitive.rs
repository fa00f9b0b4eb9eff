//! Sensitive values follow what is computed from them: a secret variable, a local derived
//! from it and the resource attribute set from that local never appear in any rendering of
//! a plan, in apply's output, in drift reports or in error text, while AWS still receives
//! the real value.

use crate::fixture::{Project, unique};
use crate::moto::{moto, stack_filter};
use base64::Engine as _;

fn stack(secret_source: &str) -> String {
    format!(
        r#"
variable "token" {{
  type      = string
  sensitive = true
}}

locals {{
  encoded = base64encode(var.token)
}}

resource "aws_vpc" "v" {{
  cidr_block = "10.77.0.0/16"
  tags = {{
    Token = {secret_source}
    Team  = "ml"
  }}
}}

output "cidr" {{
  value = aws_vpc.v.cidr_block
}}

output "token_tag" {{
  value     = aws_vpc.v.tags["Token"]
  sensitive = true
}}
"#
    )
}

/// Asserts `text` shows neither the secret nor what was derived from it.
fn clean(text: &str, secret: &str, encoded: &str, what: &str) {
    assert!(!text.contains(secret), "{what} shows the secret:\n{text}");
    assert!(
        !text.contains(encoded),
        "{what} shows a value derived from the secret:\n{text}"
    );
}

async fn token_tag_in_the_cloud(stack: &str) -> Option<String> {
    let vpcs = moto()
        .ec2()
        .await
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    vpcs.vpcs()
        .first()?
        .tags()
        .iter()
        .find(|t| t.key() == Some("Token"))
        .and_then(|t| t.value().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_and_what_is_derived_from_it_never_show_but_reach_aws() {
    let p = Project::new("sensitive");
    let secret = unique("hunter2");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&secret);
    p.write("main.hcl", &stack("local.encoded"));
    let var = format!("token={secret}");
    let with = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["-var".to_string(), var.clone()]);
        all
    };
    let run = |args: &[&str]| {
        let args = with(args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        p.keel(&refs)
    };

    // Every rendering of the plan.
    for (args, what) in [
        (&["plan"][..], "the plan"),
        (&["plan", "-json"][..], "the JSON plan"),
        (&["plan", "--format", "markdown"][..], "the Markdown plan"),
    ] {
        let out = run(args).ok();
        clean(&out.stdout, &secret, &encoded, what);
        clean(&out.stderr, &secret, &encoded, what);
        assert!(out.stdout.contains("(sensitive value)"), "{}", out.stdout);
        assert!(out.stdout.contains("10.77.0.0/16"), "{}", out.stdout);
    }
    let json = run(&["plan", "-json"]).ok().stdout;
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        doc["resource_changes"][0]["sensitive_attributes"],
        serde_json::json!(["tags", "tags_all"])
    );

    // Apply: AWS gets the real value; nothing printed shows it.
    let out = run(&["apply", "-auto-approve"]).ok();
    clean(&out.stdout, &secret, &encoded, "apply");
    assert_eq!(
        token_tag_in_the_cloud(&p.stack).await.as_deref(),
        Some(encoded.as_str())
    );
    let state = p.state();
    let recorded = &state["resources"]["aws_vpc.v"]["sensitive_attributes"];
    assert_eq!(
        recorded,
        &serde_json::json!(["tags", "tags_all"]),
        "{state}"
    );
    let out = p.keel(&["output"]).ok();
    clean(&out.stdout, &secret, &encoded, "keel output");
    assert!(
        out.stdout.contains("token_tag = <sensitive>"),
        "{}",
        out.stdout
    );

    // A change made by hand shows as drift of a hidden attribute.
    let vpc_id = state["resources"]["aws_vpc.v"]["id"]
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

    // Planning the deletion hides what state recorded as sensitive, config or not.
    for args in [
        &["plan", "-destroy", "-refresh=false", "-json"][..],
        &["plan", "-destroy", "-refresh=false", "--format", "markdown"],
    ] {
        let out = run(args).ok();
        clean(&out.stdout, &secret, &encoded, "the destroy plan");
    }

    // An error about a value computed from the secret does not show it either.
    p.write(
        "broken.hcl",
        "locals {\n  subnet = cidrsubnet(local.encoded, 8, 1)\n}\n",
    );
    let out = run(&["plan", "-refresh=false"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("cidrsubnet()"), "{}", out.stderr);
    clean(&out.stderr, &secret, &encoded, "an error");
    std::fs::remove_file(p.dir().join("broken.hcl")).unwrap();

    let out = run(&["destroy", "-auto-approve"]).ok();
    clean(&out.stdout, &secret, &encoded, "destroy");
    assert_eq!(token_tag_in_the_cloud(&p.stack).await, None);
}

#[test]
fn an_output_derived_from_a_sensitive_value_must_be_declared_sensitive() {
    let p = Project::new("sensitive-output");
    p.write(
        "main.hcl",
        r#"
variable "token" {
  sensitive = true
}
locals {
  header = "Bearer ${var.token}"
}
output "header" {
  value = local.header
}
output "length" {
  value = length(var.token)
}
"#,
    );
    let out = p.keel(&["plan", "-refresh=false", "-var", "token=t0ps3cret"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("output \"header\" refers to sensitive values"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("output \"length\" refers to sensitive values"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("main.hcl:8:1"), "{}", out.stderr);
    assert!(out.stderr.contains("sensitive = true"), "{}", out.stderr);
    assert!(!out.stderr.contains("t0ps3cret"), "{}", out.stderr);
}

#[test]
fn for_each_over_a_sensitive_value_is_refused_because_keys_are_shown() {
    let p = Project::new("sensitive-for-each");
    p.write(
        "main.hcl",
        r#"
variable "names" {
  type      = set(string)
  sensitive = true
}
resource "aws_vpc" "v" {
  for_each   = var.names
  cidr_block = "10.0.0.0/16"
}
"#,
    );
    let out = p.keel(&["plan", "-refresh=false", "-var", "names=[\"alpha-secret\"]"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("for_each of aws_vpc.v is derived from a sensitive value"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("alpha-secret"), "{}", out.stderr);
}
