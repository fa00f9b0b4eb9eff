//! Snapshots of the guardrail sections in all three renderers, over one report holding a
//! deny, a warning, a waived finding, a budget overrun and cost lines of every kind.

use super::snapshot_tests::{every_action, redactor};
use super::{human, json, markdown};
use crate::cost::{Estimate, Line, PriceTable, Priced, Total};
use crate::guard::{Finding, Location, Report, Severity};
use crate::plan::{Action, Plan};

fn finding(
    rule: &'static str,
    severity: Severity,
    addr: Option<&str>,
    message: &str,
    waiver: Option<&str>,
) -> Finding {
    Finding {
        rule,
        severity,
        address: addr.map(|a| a.parse().unwrap()),
        location: Some(Location {
            file: "stacks/starter/main.hcl".into(),
            line: 12,
            column: 3,
        }),
        message: message.into(),
        fix: "do the right thing".into(),
        waiver: waiver.map(str::to_string),
    }
}

fn known(hourly: f64, estimate: bool, what: &str) -> Option<Priced> {
    Some(Priced::Known {
        hourly,
        estimate,
        what: what.into(),
    })
}

pub(super) fn guarded() -> Plan {
    let t = PriceTable::builtin();
    let p5 = t.instance("p5.48xlarge").unwrap();
    let g6e_spot = t.instance("g6e.xlarge").unwrap() * (1.0 - t.spot_discount);
    let line = |addr: &str, action, before, after| Line {
        addr: addr.parse().unwrap(),
        action,
        before,
        after,
    };
    let lines = vec![
        line(
            "aws_instance.gpu[0]",
            Action::Create,
            None,
            known(p5, false, "p5.48xlarge"),
        ),
        line(
            "aws_instance.spot",
            Action::Create,
            None,
            known(g6e_spot, true, "g6e.xlarge spot"),
        ),
        line(
            "aws_instance.cpu",
            Action::Update,
            known(0.096, false, "m5.large"),
            known(0.1008, false, "m7i.large"),
        ),
        line(
            "aws_nat_gateway.old",
            Action::Delete,
            known(0.045, false, "NAT gateway"),
            None,
        ),
        line(
            "aws_instance.odd",
            Action::Create,
            None,
            Some(Priced::Unknown {
                what: "x9.colossal".into(),
                why: "the price table has no price for x9.colossal".into(),
            }),
        ),
    ];
    let cost = Estimate {
        lines,
        before: Total {
            hourly: 0.096 + 0.045,
            estimate: false,
            unpriced: 0,
        },
        after: Total {
            hourly: p5 + g6e_spot + 0.1008,
            estimate: true,
            unpriced: 1,
        },
        region: t.region.clone(),
        date: t.date.clone(),
        source: "test".into(),
        overrides: None,
        hours_per_month: 730.0,
        spot_discount: t.spot_discount,
        notes: vec!["NAT gateway data processing (per GB) is not estimated.".into()],
        by_tag: [(
            "experiment".to_string(),
            [
                ("llama-ft-7".to_string(), p5),
                ("(untagged)".to_string(), g6e_spot + 0.1008),
            ]
            .into(),
        )]
        .into(),
    };
    let findings = vec![
        finding(
            "sg-open-ingress",
            Severity::Deny,
            Some("aws_security_group.bastion"),
            "ingress from 0.0.0.0/0 on tcp port 22",
            None,
        ),
        finding(
            "budget",
            Severity::Deny,
            None,
            "this plan would cost too much",
            None,
        ),
        finding(
            "s3-versioning",
            Severity::Warn,
            Some("aws_s3_bucket.data"),
            "versioning is off: an overwrite or delete loses the object",
            None,
        ),
        finding(
            "imdsv2",
            Severity::Deny,
            Some("aws_instance.legacy"),
            "IMDSv2 is not required",
            Some("vendor appliance needs IMDSv1 until its 4.2 release; ticket OPS-311"),
        ),
    ];
    Plan {
        guard: Some(Report {
            findings,
            cost,
            budget: Some(50000.0),
            unused_waivers: vec!["kms-rotation for aws_kms_key.gone".into()],
            notes: vec![],
        }),
        ..every_action()
    }
}

#[test]
fn human_guarded() {
    insta::assert_snapshot!(human::plan(&guarded(), &redactor()));
}

#[test]
fn json_guarded() {
    let doc = json::plan(&guarded(), &redactor());
    let sections = serde_json::json!({ "cost": doc["cost"], "policy": doc["policy"] });
    insta::assert_snapshot!(serde_json::to_string_pretty(&sections).unwrap());
}

#[test]
fn markdown_guarded() {
    let plan = guarded();
    let r = redactor();
    insta::assert_snapshot!(markdown::comment(
        &[(&plan, &r)],
        markdown::GITHUB_COMMENT_LIMIT
    ));
}

#[test]
fn a_waivers_reason_is_shown_by_every_renderer() {
    let plan = guarded();
    let r = redactor();
    let reason = "vendor appliance needs IMDSv1 until its 4.2 release; ticket OPS-311";
    for text in [
        human::plan(&plan, &r),
        json::plan(&plan, &r).to_string(),
        markdown::comment(&[(&plan, &r)], markdown::GITHUB_COMMENT_LIMIT),
    ] {
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("imdsv2"), "{text}");
    }
}

#[test]
fn the_comment_carries_the_cost_line_and_findings_even_when_cut() {
    let plan = guarded();
    let r = redactor();
    let full = markdown::comment(&[(&plan, &r)], markdown::GITHUB_COMMENT_LIMIT);
    let cut = markdown::comment(&[(&plan, &r)], 3000);
    for text in [&full, &cut] {
        assert!(
            text.contains("**Cost**: $102.93 → $40,796.20 per month"),
            "{text}"
        );
        assert!(text.contains("increase**"), "{text}");
        assert!(text.contains("| ⛔ deny | `sg-open-ingress` |"), "{text}");
        assert!(text.contains("[!CAUTION]"), "{text}");
    }
}

#[test]
fn findings_never_show_a_secret() {
    let mut plan = guarded();
    let g = plan.guard.as_mut().unwrap();
    g.findings[2].message = "bucket team-hunter2-bucket has no versioning".into();
    let r = redactor();
    for text in [
        human::plan(&plan, &r),
        json::plan(&plan, &r).to_string(),
        markdown::comment(&[(&plan, &r)], markdown::GITHUB_COMMENT_LIMIT),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}
