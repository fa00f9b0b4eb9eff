//! The guard as a whole: settings read from HCL, waivers, severities, rules turned off,
//! budgets, and where findings point.

use super::*;
use crate::config::testing::{load_ok, load_stack, located, write};
use crate::state::State;

fn report_of(files: &[(&str, &str)]) -> Report {
    let (_root, config) = load_ok(files);
    let graph = crate::graph::build(&config).unwrap();
    let inputs = Inputs::default();
    let guard = Guard::load(&config, &inputs)
        .unwrap_or_else(|d| panic!("{}", located(&config.sources, &d).join("\n")));
    let plan = crate::plan::plan(&config, &graph, &inputs, &State::new("s"), false).unwrap();
    guard.check(&config, &graph, &inputs, &plan)
}

fn check(hcl: &str) -> Report {
    report_of(&[("stack/main.hcl", hcl)])
}

fn settings_errors(hcl: &str) -> Vec<String> {
    let root = write(&[("stack/main.hcl", hcl)]);
    let config = load_stack(&root).unwrap_or_else(|(s, d)| panic!("{:?}", located(&s, &d)));
    match Guard::load(&config, &Inputs::default()) {
        Ok(_) => Vec::new(),
        Err(d) => located(&config.sources, &d),
    }
}

/// `status rule address` for every finding.
fn summary(r: &Report) -> Vec<String> {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f.status(),
                f.rule,
                f.address
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        })
        .collect()
}

const OPEN_SSH: &str = r#"
provider "aws" {
  default_tags {
    tags = { team = "ml" }
  }
}

resource "aws_security_group" "bastion" {
  name = "bastion"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

#[test]
fn a_deny_blocks_and_points_at_its_source() {
    let r = check(OPEN_SSH);
    assert_eq!(
        summary(&r),
        ["deny sg-open-ingress aws_security_group.bastion"]
    );
    assert!(r.blocked());
    let f = &r.findings[0];
    let loc = f.location.as_ref().unwrap();
    assert!(loc.file.ends_with("main.hcl"), "{loc}");
    // The ingress block, not just the resource.
    assert_eq!((loc.line, loc.column), (10, 3), "{loc}");
    assert_eq!(f.message, "ingress from 0.0.0.0/0 on tcp port 22");
    assert!(f.fix.contains("allowed_ports"), "{}", f.fix);
    assert!(r.blocked_message().contains("1 deny finding"));
}

#[test]
fn a_waiver_keeps_the_finding_with_its_reason_and_unblocks() {
    let r = check(&format!(
        r#"{OPEN_SSH}
policy {{
  waiver "sg-open-ingress" {{
    address = "aws_security_group.bastion"
    reason  = "break-glass bastion, closed by the on-call rota"
  }}
  waiver "s3-versioning" {{
    address = "aws_s3_bucket.gone"
    reason  = "removed last quarter"
  }}
}}
"#
    ));
    assert_eq!(
        summary(&r),
        ["waived sg-open-ingress aws_security_group.bastion"]
    );
    assert_eq!(
        r.findings[0].waiver.as_deref(),
        Some("break-glass bastion, closed by the on-call rota")
    );
    assert_eq!(r.findings[0].severity, Severity::Deny);
    assert!(!r.blocked());
    assert_eq!(r.unused_waivers, ["s3-versioning for aws_s3_bucket.gone"]);
}

#[test]
fn a_waiver_for_a_block_covers_each_instance_and_only_its_rule() {
    let r = check(&format!(
        r#"{}
policy {{
  waiver "s3-versioning" {{
    address = "aws_s3_bucket.b"
    reason  = "rebuilt nightly"
  }}
}}
"#,
        OPEN_SSH.replace(
            "resource \"aws_security_group\"",
            "resource \"aws_s3_bucket\" \"b\" {\n  count = 2\n}\n\nresource \"aws_security_group\""
        )
    ));
    let s = summary(&r);
    assert!(
        s.contains(&"waived s3-versioning aws_s3_bucket.b[0]".to_string()),
        "{s:?}"
    );
    assert!(
        s.contains(&"waived s3-versioning aws_s3_bucket.b[1]".to_string()),
        "{s:?}"
    );
    assert!(
        s.contains(&"warn s3-encryption aws_s3_bucket.b[1]".to_string()),
        "{s:?}"
    );
}

#[test]
fn severities_change_and_rules_turn_off() {
    let r = check(&format!(
        r#"{OPEN_SSH}
resource "aws_s3_bucket" "data" {{}}

policy {{
  rule "sg-open-ingress" {{
    severity = "warn"
  }}
  rule "s3-versioning" {{
    severity = "deny"
  }}
  rule "s3-encryption" {{
    enabled = false
  }}
}}
"#
    ));
    assert_eq!(
        summary(&r),
        [
            "deny s3-versioning aws_s3_bucket.data",
            "warn s3-public-access-block aws_s3_bucket.data",
            "warn s3-tls-only aws_s3_bucket.data",
            "warn sg-open-ingress aws_security_group.bastion",
        ]
    );
    assert!(r.blocked());
}

#[test]
fn allowed_ports_and_required_tags_are_configured_in_the_policy() {
    let r = check(&format!(
        r#"{OPEN_SSH}
policy {{
  rule "sg-open-ingress" {{
    allowed_ports = [22, "8000-8100"]
  }}
  rule "required-tags" {{
    tags = ["team", "experiment"]
  }}
}}
"#
    ));
    assert_eq!(
        summary(&r),
        ["warn required-tags aws_security_group.bastion"]
    );
    assert_eq!(
        r.findings[0].message,
        "missing cost-allocation tag(s): experiment"
    );
}

#[test]
fn a_shared_keel_hcl_beside_the_stack_applies_and_the_stack_wins() {
    let shared = r#"
policy {
  rule "sg-open-ingress" {
    severity = "warn"
  }
  rule "required-tags" {
    tags = ["team", "experiment"]
  }
}
"#;
    let own = r#"
policy {
  rule "required-tags" {
    enabled = false
  }
}
"#;
    let r = report_of(&[
        ("keel.hcl", shared),
        ("stack/main.hcl", OPEN_SSH),
        ("stack/policy.hcl", own),
    ]);
    assert_eq!(
        summary(&r),
        ["warn sg-open-ingress aws_security_group.bastion"]
    );
}

#[test]
fn policy_mistakes_are_reported_at_their_place() {
    let errors = settings_errors(
        r#"
policy {
  rule "s3-versioing" {
    severity = "deny"
  }
  rule "kms-rotation" {
    severity = "block"
    tags     = ["x"]
  }
  waiver "imdsv2" {
    address = "aws_instance.a"
  }
  waiver "imdsv2" {
    reason = "x"
  }
}
budget {
  monthly_usd = "lots"
}
"#,
    );
    assert_eq!(
        errors,
        [
            "stack/main.hcl:3:3: there is no policy rule \"s3-versioing\"",
            "stack/main.hcl:7:16: \"severity\" in policy must be \"deny\" or \"warn\", got \"block\"",
            "stack/main.hcl:8:5: unsupported argument \"tags\" in policy",
            "stack/main.hcl:10:3: the waiver of \"imdsv2\" has no reason",
            "stack/main.hcl:13:3: the waiver of \"imdsv2\" names no address",
            "stack/main.hcl:18:17: \"monthly_usd\" in budget must be a number, got string",
        ]
    );
}

#[test]
fn policy_blocks_belong_in_the_stack_not_in_a_module() {
    let root = write(&[
        (
            "stack/main.hcl",
            "module \"m\" {\n  source = \"../modules/m\"\n}\n",
        ),
        ("modules/m/main.tf", "policy {}\n"),
    ]);
    let (sources, diags) = load_stack(&root).unwrap_err();
    assert_eq!(
        located(&sources, &diags),
        ["modules/m/main.tf:1:1: policy blocks belong in the stack, not in a called module"]
    );
}

const GPUS: &str = r#"
resource "aws_instance" "node" {
  count         = 2
  ami           = "ami-12345678"
  instance_type = "p5.48xlarge"
  subnet_id     = "subnet-0123456789abcdef0"
  tags          = { team = "ml" }

  metadata_options {
    http_tokens = "required"
  }
  root_block_device {
    encrypted = true
  }
}
"#;

#[test]
fn a_plan_over_the_budget_is_denied_with_the_figures() {
    let p5 = PriceTable::builtin().instance("p5.48xlarge").unwrap();
    let monthly = 2.0 * p5 * 730.0;
    let r = check(&format!("{GPUS}\nbudget {{\n  monthly_usd = 50000\n}}\n"));
    assert_eq!(summary(&r), ["deny budget "]);
    let f = &r.findings[0];
    assert_eq!(
        f.message,
        format!(
            "this plan would cost {}/month ({}/h) after apply, over the budget of $50,000.00/month; it costs $0.00/month now",
            money::usd(monthly),
            money::usd_hour(2.0 * p5)
        )
    );
    assert!(f.fix.contains(&money::usd(monthly - 50000.0)), "{}", f.fix);
    assert_eq!(f.location.as_ref().map(|l| l.line), Some(17));
    assert!(r.blocked());
    assert!(r.blocked_message().contains("the budget"));
    assert_eq!(r.budget, Some(50000.0));
}

#[test]
fn a_plan_within_the_budget_passes() {
    let r = check(&format!("{GPUS}\nbudget {{\n  monthly_usd = 100000\n}}\n"));
    assert!(r.findings.is_empty(), "{:?}", summary(&r));
    assert!(!r.blocked());
}

#[test]
fn the_budget_may_come_from_a_variable() {
    let (_root, config) = load_ok(&[(
        "stack/main.hcl",
        "variable \"budget\" {\n  default = 10\n}\nbudget {\n  monthly_usd = var.budget\n}\n",
    )]);
    let guard = Guard::load(&config, &Inputs::default()).unwrap();
    assert_eq!(guard.settings.budget.map(|b| b.monthly_usd), Some(10.0));
}

#[test]
fn a_prices_file_overrides_the_table() {
    let r = report_of(&[
        (
            "stack/main.hcl",
            &format!("{GPUS}\ncost {{\n  prices_file = \"prices.json\"\n}}\n"),
        ),
        (
            "stack/prices.json",
            r#"{"instance_hour": {"p5.48xlarge": 10.0}}"#,
        ),
    ]);
    assert_eq!(r.cost.after.hourly, 20.0);
    assert!(
        r.cost
            .overrides
            .as_deref()
            .unwrap()
            .ends_with("prices.json")
    );
    let errors = settings_errors("cost {\n  prices_file = \"missing.json\"\n}\n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("stack/main.hcl:2:17: cannot read the prices file"),
        "{errors:?}"
    );
}

/// Data sources as moto's us-east-1 answers them, for planning the shipped stacks
/// without a cloud; policy documents render as they do in a plan.
struct StubReader;

impl crate::plan::DataReader for StubReader {
    fn read(
        &mut self,
        _provider: &crate::addr::ProviderAddr,
        type_: &str,
        config: &crate::value::Value,
    ) -> Result<crate::value::Value, crate::providers::ProviderError> {
        use crate::value::Value;
        if let Some(rendered) = crate::providers::render_offline(type_, config) {
            return rendered.map_err(crate::providers::ProviderError::new);
        }
        let results: Vec<(&str, Value)> = match type_ {
            "aws_availability_zones" => vec![(
                "names",
                Value::List(
                    "abcdef"
                        .chars()
                        .map(|z| Value::str(format!("us-east-1{z}")))
                        .collect(),
                ),
            )],
            "aws_region" => vec![("name", Value::str("us-east-1"))],
            "aws_partition" => vec![("partition", Value::str("aws"))],
            "aws_caller_identity" => vec![("account_id", Value::str("123456789012"))],
            other => panic!("the shipped stacks read no {other}"),
        };
        let mut map = config.as_map().cloned().unwrap_or_default();
        for (k, v) in results {
            map.insert(k.to_string(), v);
        }
        Ok(Value::Map(map))
    }
}

/// Every stack shipped in `stacks/` plans (with its defaults, against empty state) with
/// no finding that would stop it, and the guard reads every policy in it (bucket, role
/// and trust policies, built with `aws_iam_policy_document` or `jsonencode`): a policy
/// the rules cannot read would pass them unjudged.
#[test]
fn every_shipped_stack_passes_without_deny_findings() {
    let stacks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
    let mut dirs: Vec<_> = std::fs::read_dir(&stacks)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let config = crate::config::load(&dir)
            .unwrap_or_else(|(s, d)| panic!("{}: {:?}", dir.display(), located(&s, &d)));
        let graph = crate::graph::build(&config).unwrap();
        let inputs = Inputs::default();
        let guard = Guard::load(&config, &inputs)
            .unwrap_or_else(|d| panic!("{:?}", located(&config.sources, &d)));
        let prepared = crate::plan::Prepared {
            reader: &mut StubReader,
            moves: crate::plan::moves::Outcome::default(),
            imports: Vec::new(),
        };
        let plan =
            crate::plan::plan_with(&config, &graph, &inputs, &State::new("s"), false, prepared)
                .unwrap_or_else(|d| {
                    panic!("{}: {:?}", dir.display(), located(&config.sources, &d))
                });
        let report = guard.check(&config, &graph, &inputs, &plan);
        let denies: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.blocks())
            .map(|f| format!("{} {:?}: {}", f.rule, f.address, f.message))
            .collect();
        assert!(denies.is_empty(), "{}: {denies:#?}", dir.display());
        assert!(
            report.notes.is_empty(),
            "{}: {:?}",
            dir.display(),
            report.notes
        );

        let inv = view::Inventory::build(&config, &graph, &inputs, &plan);
        let policies = [
            ("aws_s3_bucket_policy", "policy"),
            ("aws_iam_role_policy", "policy"),
            ("aws_iam_role", "assume_role_policy"),
        ];
        for (type_, attr) in policies {
            for p in inv.of_type(type_) {
                assert!(
                    matches!(document::read(p.get(attr)), document::Document::Parsed(_)),
                    "{}: the guard cannot read {}.{attr}: {:?}",
                    dir.display(),
                    p.addr,
                    p.get(attr)
                );
            }
        }
    }
}

#[test]
fn when_references_cannot_be_traced_the_report_says_so_and_nothing_is_denied_on_them() {
    // split() of an ARN that is a marker at plan time fails: the guard falls back to the
    // plan's own values, with references unknown.
    let r = check(
        r#"
resource "aws_iam_role" "r" {
  name               = "r"
  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
  tags               = { team = "ml" }
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
  tags   = { team = "ml", account = split(":", aws_iam_role.r.arn)[4] }
}

resource "aws_s3_bucket_versioning" "b" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#,
    );
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    // The versioning configuration's bucket is unknown without markers: not a finding.
    assert!(
        !summary(&r).iter().any(|s| s.contains("s3-versioning")),
        "{:?}",
        summary(&r)
    );
}
