//! IAM segmentation: identity policies (`aws_iam_policy`, `aws_iam_role_policy`) that
//! grant everything, every resource or any role to pass, and trust policies that trust
//! anyone. Documents are read with single values and lists alike; one built with
//! `jsonencode` around ARNs not known yet is still read (the ARNs stand as markers).

use super::Hit;
use crate::guard::document::{self, Document, Statement};
use crate::guard::settings::RuleConfig;
use crate::guard::view::{Inventory, Planned};

/// Identity policies: (resource, Allow statements with their positions).
fn allow_statements<'i, 'a>(inv: &'i Inventory<'a>) -> Vec<(&'i Planned<'a>, usize, Statement)> {
    let mut out = Vec::new();
    for type_ in ["aws_iam_policy", "aws_iam_role_policy"] {
        for p in inv.of_type(type_) {
            if let Document::Parsed(statements) = document::read(p.get("policy")) {
                for (i, s) in statements.into_iter().enumerate() {
                    if s.allow {
                        out.push((p, i, s));
                    }
                }
            }
        }
    }
    out
}

pub fn wildcard_action(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    allow_statements(inv)
        .into_iter()
        .filter(|(_, _, s)| s.all_actions())
        .map(|(p, i, s)| {
            let how = if s.not_actions.is_empty() {
                "every action (\"*\")".to_string()
            } else {
                format!("every action but {} (NotAction)", s.not_actions.join(", "))
            };
            Hit::new(p.addr, format!("{} allows {how}", s.label(i))).at("policy")
        })
        .collect()
}

pub fn wildcard_resource(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    allow_statements(inv)
        .into_iter()
        .filter(|(_, _, s)| !s.all_actions() && (s.all_resources() || !s.not_resources.is_empty()))
        .map(|(p, i, s)| {
            let actions = if s.actions.is_empty() {
                "its actions".to_string()
            } else {
                s.actions.join(", ")
            };
            Hit::new(
                p.addr,
                format!("{} allows {actions} on every resource (\"*\")", s.label(i)),
            )
            .at("policy")
        })
        .collect()
}

/// A resource pattern that covers every role.
fn any_role(r: &str) -> bool {
    r == "*" || r.ends_with(":role/*") || r.ends_with(":*") || r == "arn:aws:iam::*:role/*"
}

pub fn passrole_wildcard(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    allow_statements(inv)
        .into_iter()
        .filter(|(_, _, s)| {
            !s.all_actions()
                && s.covers_action("iam:PassRole")
                && (s.resources.iter().any(|r| any_role(r)) || !s.not_resources.is_empty())
        })
        .map(|(p, i, s)| {
            Hit::new(
                p.addr,
                format!("{} allows iam:PassRole on every role", s.label(i)),
            )
            .at("policy")
        })
        .collect()
}

pub fn trust_wildcard(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for role in inv.of_type("aws_iam_role") {
        if let Document::Parsed(statements) = document::read(role.get("assume_role_policy")) {
            for (i, s) in statements.iter().enumerate() {
                if s.allow && s.principals.iter().any(|p| p == "*") {
                    hits.push(
                        Hit::new(
                            role.addr,
                            format!(
                                "{} of the trust policy lets anyone (\"*\") assume the role",
                                s.label(i)
                            ),
                        )
                        .at("assume_role_policy"),
                    );
                }
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::hits;

    fn policy(statement: &str) -> String {
        format!(
            r#"
resource "aws_s3_bucket" "data" {{}}

resource "aws_iam_policy" "p" {{
  name   = "p"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{statement}]
  }})
}}
"#
        )
    }

    const SCOPED: &str = r#"{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]
    }"#;

    /// A role policy built with `data "aws_iam_policy_document"`: read during apply when
    /// it names the bucket's unknown ARN, read while planning when it names only known
    /// values; the guard sees the rendered document either way.
    fn document(actions: &str, resources: &str) -> String {
        format!(
            r#"
resource "aws_s3_bucket" "data" {{}}

data "aws_iam_policy_document" "p" {{
  statement {{
    actions   = {actions}
    resources = {resources}
  }}
}}

resource "aws_iam_role_policy" "p" {{
  name   = "p"
  role   = "r"
  policy = data.aws_iam_policy_document.p.json
}}
"#
        )
    }

    #[test]
    fn wildcards_are_found_in_policies_built_by_a_policy_document_data_source() {
        let scoped = r#"["${aws_s3_bucket.data.arn}/*"]"#;
        assert!(
            hits(
                "iam-wildcard-action",
                &document(r#"["s3:GetObject"]"#, scoped)
            )
            .is_empty()
        );
        assert!(
            hits(
                "iam-wildcard-resource",
                &document(r#"["s3:GetObject"]"#, scoped)
            )
            .is_empty()
        );
        assert_eq!(
            hits("iam-wildcard-action", &document(r#"["*"]"#, scoped)),
            ["aws_iam_role_policy.p: statement 1 allows every action (\"*\")"]
        );
        assert_eq!(
            hits(
                "iam-wildcard-resource",
                &document(r#"["s3:GetObject"]"#, r#"["*"]"#)
            ),
            ["aws_iam_role_policy.p: statement 1 allows s3:GetObject on every resource (\"*\")"]
        );
    }

    #[test]
    fn every_action_denies() {
        let admin = policy(r#"{ Effect = "Allow", Action = "*", Resource = "*" }"#);
        assert_eq!(
            hits("iam-wildcard-action", &admin),
            ["aws_iam_policy.p: statement 1 allows every action (\"*\")"]
        );
        // Reported once: not again as a wildcard resource.
        assert!(hits("iam-wildcard-resource", &admin).is_empty());
        assert!(hits("iam-wildcard-action", &policy(SCOPED)).is_empty());
        let not_action =
            policy(r#"{ Sid = "Most", Effect = "Allow", NotAction = "iam:*", Resource = "*" }"#);
        assert_eq!(
            hits("iam-wildcard-action", &not_action),
            ["aws_iam_policy.p: statement \"Most\" allows every action but iam:* (NotAction)"]
        );
    }

    #[test]
    fn every_resource_warns_and_a_deny_statement_does_not() {
        assert_eq!(
            hits(
                "iam-wildcard-resource",
                &policy(r#"{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }"#)
            ),
            ["aws_iam_policy.p: statement 1 allows s3:GetObject on every resource (\"*\")"]
        );
        assert!(
            hits(
                "iam-wildcard-resource",
                &policy(r#"{ Effect = "Deny", Action = "s3:DeleteObject", Resource = "*" }"#)
            )
            .is_empty()
        );
        assert!(hits("iam-wildcard-resource", &policy(SCOPED)).is_empty());
    }

    #[test]
    fn passrole_on_every_role_denies_also_through_a_wildcard_action() {
        for action in [
            "iam:PassRole",
            "iam:Pass*",
            "[\"ec2:RunInstances\", \"iam:*\"]",
        ] {
            let action = if action.starts_with('[') {
                action.to_string()
            } else {
                format!("\"{action}\"")
            };
            let hcl = policy(&format!(
                r#"{{ Effect = "Allow", Action = {action}, Resource = "*" }}"#
            ));
            assert_eq!(
                hits("iam-passrole-wildcard", &hcl),
                ["aws_iam_policy.p: statement 1 allows iam:PassRole on every role"],
                "{action}"
            );
        }
        let scoped = r#"
resource "aws_iam_role" "node" {
  name               = "node"
  assume_role_policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "pass" {
  role   = aws_iam_role.node.name
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "iam:PassRole", Resource = aws_iam_role.node.arn }]
  })
}
"#;
        assert!(hits("iam-passrole-wildcard", scoped).is_empty());
        assert!(hits("iam-trust-wildcard", scoped).is_empty());
    }

    #[test]
    fn a_trust_policy_that_trusts_anyone_denies() {
        for principal in [
            r#""*""#,
            r#"{"AWS": "*"}"#,
            r#"{"AWS": ["arn:aws:iam::123456789012:root", "*"]}"#,
        ] {
            let hcl = format!(
                r#"
resource "aws_iam_role" "open" {{
  name               = "open"
  assume_role_policy = <<JSON
{{"Statement": {{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {principal}}}}}
JSON
}}
"#
            );
            assert_eq!(
                hits("iam-trust-wildcard", &hcl),
                [
                    "aws_iam_role.open: statement 1 of the trust policy lets anyone (\"*\") assume the role"
                ],
                "{principal}"
            );
        }
    }
}
