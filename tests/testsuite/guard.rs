//! Guardrails through the keel binary: a deny or a budget overrun stops `keel plan` and
//! `keel apply` with exit 1 before any AWS call (the cloud is read back to prove nothing
//! changed, and a run against a dead endpoint proves nothing was even read); a waiver
//! lets the plan through and every report shows its reason; the PR comment carries the
//! cost line and the findings.

use crate::fixture::Project;
use crate::moto::{moto, stack_filter};

/// A VPC the tests apply first, with the tag they change later.
fn vpc(stage: &str) -> String {
    format!(
        r#"
provider "aws" {{
  default_tags {{
    tags = {{ team = "ml-platform" }}
  }}
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.61.0.0/16"
  tags       = {{ stage = "{stage}" }}
}}
"#
    )
}

/// A security group open to the internet on SSH: a deny.
fn open_ssh(name: &str) -> String {
    format!(
        r#"
resource "aws_security_group" "bastion" {{
  name   = "{name}"
  vpc_id = aws_vpc.main.id

  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"#
    )
}

async fn vpc_tags(stack: &str) -> Vec<(String, String)> {
    let out = moto()
        .ec2()
        .await
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    assert_eq!(out.vpcs().len(), 1);
    let mut tags: Vec<(String, String)> = out.vpcs()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    tags.sort();
    tags
}

async fn groups_named(name: &str) -> usize {
    moto()
        .ec2()
        .await
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(name)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deny_stops_plan_and_apply_before_any_aws_call() {
    let p = Project::new("guard-deny");
    p.write("main.hcl", &vpc("one"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let tags_before = vpc_tags(&p.stack).await;
    let serial = p.state()["serial"].clone();

    let group = format!("{}-bastion", p.stack);
    p.write("main.hcl", &format!("{}{}", vpc("two"), open_ssh(&group)));
    for args in [&["plan"][..], &["apply", "-auto-approve"][..]] {
        let run = p.keel(args);
        assert_eq!(run.code, 1, "{args:?}\n{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("deny    sg-open-ingress  aws_security_group.bastion"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("ingress from 0.0.0.0/0 on tcp port 22"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("keel did not read the cloud"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr
                .contains("the stack's guardrails stop this plan (1 deny finding)"),
            "{}",
            run.stderr
        );
        assert!(!run.stdout.contains("Apply complete"), "{}", run.stdout);
    }
    // Nothing changed in the cloud: no group, the VPC's tag as it was; state untouched.
    assert_eq!(groups_named(&group).await, 0);
    assert_eq!(vpc_tags(&p.stack).await, tags_before);
    assert!(tags_before.contains(&("stage".into(), "one".into())));
    assert_eq!(p.state()["serial"], serial);

    // Not even a read: against an endpoint where nothing listens, the answer is the same.
    let run = p.keel_env(
        &["apply", "-auto-approve"],
        &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("guardrails stop this plan"),
        "{}",
        run.stderr
    );
    assert!(
        !format!("{}{}", run.stdout, run.stderr).contains("127.0.0.1:9"),
        "{}{}",
        run.stdout,
        run.stderr
    );

    // With the port allowed, the same change applies.
    p.write(
        "policy.hcl",
        "policy {\n  rule \"sg-open-ingress\" {\n    allowed_ports = [22]\n  }\n}\n",
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(groups_named(&group).await, 1);
    assert!(
        vpc_tags(&p.stack)
            .await
            .contains(&("stage".into(), "two".into()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiver_beside_the_stack_lets_the_plan_through_and_every_report_shows_its_reason() {
    let p = Project::new("guard-waive");
    let group = format!("{}-bastion", p.stack);
    p.write("main.hcl", &format!("{}{}", vpc("one"), open_ssh(&group)));
    let reason = "break-glass bastion; the on-call rota closes it (OPS-311)";
    // A keel.hcl in the directory above the stack holds guardrails shared by its siblings.
    std::fs::write(
        p.root.path().join("keel.hcl"),
        format!(
            "policy {{\n  waiver \"sg-open-ingress\" {{\n    address = \"aws_security_group.bastion\"\n    reason  = \"{reason}\"\n  }}\n}}\n"
        ),
    )
    .unwrap();

    let human = p.keel(&["plan"]).ok();
    assert!(
        human.stdout.contains(&format!("waived (deny): {reason}")),
        "{}",
        human.stdout
    );
    let json = p.keel(&["plan", "-json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let findings = doc["policy"]["findings"].as_array().unwrap();
    let finding = findings
        .iter()
        .find(|f| f["rule"] == "sg-open-ingress")
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert_eq!(finding["status"], "waived");
    assert_eq!(finding["waiver_reason"], reason);
    assert_eq!(doc["policy"]["blocked"], false);
    let md = p.keel(&["plan", "--format", "markdown"]).ok();
    assert!(
        md.stdout
            .contains("| ✅ waived | `sg-open-ingress` | `aws_security_group.bastion`"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains(reason), "{}", md.stdout);

    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(groups_named(&group).await, 1);
}

/// Two p5.48xlarge in a private subnet, done right (IMDSv2, encrypted root volume).
fn gpus(budget: &str) -> String {
    format!(
        r#"
provider "aws" {{
  default_tags {{
    tags = {{ team = "ml-platform" }}
  }}
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.62.0.0/16"
}}

resource "aws_subnet" "private" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.62.1.0/24"
}}

resource "aws_instance" "gpu" {{
  count         = 2
  ami           = "ami-12c6146b"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.private.id

  metadata_options {{
    http_tokens = "required"
  }}
  root_block_device {{
    encrypted = true
  }}
}}
{budget}
"#
    )
}

/// 2 x p5.48xlarge for 730 hours, from the table keel ships.
fn two_p5_monthly() -> f64 {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../../src/cost/prices-us-east-1.json")).unwrap();
    2.0 * table["instance_hour"]["p5.48xlarge"].as_f64().unwrap() * 730.0
}

fn usd(x: f64) -> String {
    let cents = (x * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("${grouped}.{:02}", cents % 100)
}

#[test]
fn the_pr_comment_carries_the_cost_line_and_the_findings() {
    let p = Project::new("guard-md");
    p.write(
        "main.hcl",
        &format!(
            "{}{}",
            gpus(""),
            "resource \"aws_s3_bucket\" \"scratch\" {}\n"
        ),
    );
    let run = p.keel(&["plan", "--format", "markdown"]).ok();
    let monthly = usd(two_p5_monthly());
    assert!(
        run.stdout.contains(&format!(
            "**Cost**: $0.00 → {monthly} per month (**+{monthly} increase**); on-demand us-east-1 prices of "
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("| ⚠️ warn | `s3-versioning` | `aws_s3_bucket.scratch`"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("⛔"), "{}", run.stdout);

    let json = p.keel(&["plan", "-json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let cost = &doc["cost"];
    assert_eq!(cost["hours_per_month"], 730.0);
    assert!((cost["after"]["monthly"].as_f64().unwrap() - two_p5_monthly()).abs() < 0.005);
    assert_eq!(cost["resources"][0]["address"], "aws_instance.gpu[0]");
    assert_eq!(cost["resources"][0]["after"]["what"], "p5.48xlarge");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_over_the_budget_stops_with_the_figures_and_launches_nothing() {
    let p = Project::new("guard-budget");
    p.write("main.hcl", &gpus("budget {\n  monthly_usd = 10000\n}\n"));
    let run = p.keel(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let monthly = usd(two_p5_monthly());
    assert!(
        run.stdout
            .contains(&format!("this plan would cost {monthly}/month")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("over the budget of $10,000.00/month; it costs $0.00/month now"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("(the budget)"), "{}", run.stderr);
    let launched = moto()
        .ec2()
        .await
        .describe_vpcs()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert!(launched.vpcs().is_empty(), "nothing was created");

    // Within budget, the plan passes.
    p.write("main.hcl", &gpus("budget {\n  monthly_usd = 100000\n}\n"));
    let run = p.keel(&["plan"]).ok();
    assert!(
        run.stdout.contains("Policy: 0 deny, 1 warn, 0 waived"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("vpc-flow-logs"), "{}", run.stdout);
}

#[test]
fn a_mistake_in_the_policy_is_an_error_with_its_place() {
    let p = Project::new("guard-typo");
    p.write(
        "main.hcl",
        "policy {\n  rule \"s3-versoning\" {\n    severity = \"deny\"\n  }\n}\n",
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("there is no policy rule \"s3-versoning\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean \"s3-versioning\"?"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:2:3"), "{}", run.stderr);
}
