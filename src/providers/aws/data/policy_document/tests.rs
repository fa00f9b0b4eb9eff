//! Policy documents rendered from HCL through evaluation, compared with the text the
//! Terraform AWS provider renders for the same configuration: the provider's own
//! acceptance-test fixtures (written for v4, which also printed `"Sid": ""`; v5 leaves
//! an empty Sid out, as here), with the partition written as `aws`.

use super::render;
use crate::addr::{DataAddr, ResourceAddr};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{Hook, Inputs};
use crate::graph::Node;
use crate::value::Value;
use std::collections::BTreeMap;

/// Renders every policy document of `hcl`: name -> the data source's value.
struct Render {
    docs: BTreeMap<String, Value>,
}

impl Hook for Render {
    fn resource(
        &mut self,
        _: &Config,
        _: Node,
        _: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics> {
        Ok(value)
    }

    fn data(
        &mut self,
        _: &Config,
        _: Node,
        addr: &DataAddr,
        args: Value,
    ) -> Result<Value, Diagnostics> {
        let v = render(&args).map_err(|e| Diagnostics::from(Diagnostic::error(e)))?;
        self.docs.insert(addr.0.name.clone(), v.clone());
        Ok(v)
    }
}

fn rendered(hcl: &str) -> Result<BTreeMap<String, Value>, String> {
    let (_root, config) = crate::config::testing::load_ok(&[("stack/main.hcl", hcl)]);
    let graph = crate::graph::build(&config).map_err(|d| format!("{:?}", d.items))?;
    let mut hook = Render {
        docs: BTreeMap::new(),
    };
    crate::eval::walk(&config, &graph, &Inputs::default(), &mut hook).map_err(|d| {
        d.items
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(hook.docs)
}

fn json(hcl: &str, name: &str) -> String {
    let docs = rendered(hcl).unwrap_or_else(|e| panic!("{e}"));
    docs[name].get("json").as_str().expect("json").to_string()
}

#[test]
fn the_providers_basic_document() {
    let hcl = r#"
data "aws_iam_policy_document" "test" {
  policy_id = "policy_id"

  statement {
    sid = "1"
    actions = [
      "s3:ListAllMyBuckets",
      "s3:GetBucketLocation",
    ]
    resources = [
      "arn:aws:s3:::*",
    ]
  }

  statement {
    actions = [
      "s3:ListBucket",
    ]

    resources = [
      "arn:aws:s3:::foo",
    ]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = [
        "home/",
        "",
        "home/&{aws:username}/",
      ]
    }

    not_principals {
      type        = "AWS"
      identifiers = ["arn:blahblah:example"]
    }
  }

  statement {
    actions = [
      "s3:*",
    ]

    resources = [
      "arn:aws:s3:::foo/home/&{aws:username}",
      "arn:aws:s3:::foo/home/&{aws:username}/*",
    ]

    principals {
      type        = "AWS"
      identifiers = ["arn:blahblah:example"]
    }
  }

  statement {
    effect        = "Deny"
    not_actions   = ["s3:*"]
    not_resources = ["arn:aws:s3:::*"]
  }

  # Normalization of wildcard principals

  statement {
    effect  = "Allow"
    actions = ["kinesis:*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }

  statement {
    effect  = "Allow"
    actions = ["firehose:*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}
"#;
    let expected = r#"{
  "Version": "2012-10-17",
  "Id": "policy_id",
  "Statement": [
    {
      "Sid": "1",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::foo",
      "NotPrincipal": {
        "AWS": "arn:blahblah:example"
      },
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "home/",
            "",
            "home/${aws:username}/"
          ]
        }
      }
    },
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::foo/home/${aws:username}/*",
        "arn:aws:s3:::foo/home/${aws:username}"
      ],
      "Principal": {
        "AWS": "arn:blahblah:example"
      }
    },
    {
      "Effect": "Deny",
      "NotAction": "s3:*",
      "NotResource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "kinesis:*",
      "Principal": {
        "AWS": "*"
      }
    },
    {
      "Effect": "Allow",
      "Action": "firehose:*",
      "Principal": "*"
    }
  ]
}"#;
    assert_eq!(json(hcl, "test"), expected);
}

#[test]
fn a_single_condition_value_is_a_string() {
    let hcl = r#"
data "aws_iam_policy_document" "test" {
  statement {
    effect = "Deny"

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    actions = ["elasticfilesystem:*"]

    resources = ["*"]

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
"#;
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Action": "elasticfilesystem:*",
      "Resource": "*",
      "Principal": {
        "AWS": "*"
      },
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    }
  ]
}"#;
    assert_eq!(json(hcl, "test"), expected);
    let docs = rendered(hcl).unwrap();
    let minified = docs["test"]
        .get("minified_json")
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        minified,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"elasticfilesystem:*","Resource":"*","Principal":{"AWS":"*"},"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#
    );
    // Terraform's id: the CRC-32 of the pretty JSON, in decimal.
    assert_eq!(
        docs["test"].get("id").as_str().unwrap(),
        crc32fast::hash(expected.as_bytes()).to_string()
    );
}

const SOURCES: &str = r#"
data "aws_iam_policy_document" "policy_a" {
  statement {
    sid     = ""
    effect  = "Allow"
    actions = ["foo:ActionOne"]
  }

  statement {
    sid     = "validSidOne"
    effect  = "Allow"
    actions = ["bar:ActionOne"]
  }
}

data "aws_iam_policy_document" "policy_b" {
  statement {
    sid     = "validSidTwo"
    effect  = "Deny"
    actions = ["foo:ActionTwo"]
  }
}

data "aws_iam_policy_document" "policy_c" {
  statement {
    sid     = ""
    effect  = "Allow"
    actions = ["bar:ActionTwo"]
  }
}

data "aws_iam_policy_document" "overriding" {
  statement {
    sid     = "validSidOne"
    effect  = "Deny"
    actions = ["bar:ActionOne"]
  }
}
"#;

#[test]
fn source_documents_are_merged_in_order() {
    let hcl = format!(
        "{SOURCES}{}",
        r#"
data "aws_iam_policy_document" "test_source_list" {
  version = "2012-10-17"

  source_policy_documents = [
    data.aws_iam_policy_document.policy_a.json,
    data.aws_iam_policy_document.policy_b.json,
    data.aws_iam_policy_document.policy_c.json
  ]
}
"#
    );
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "foo:ActionOne"
    },
    {
      "Sid": "validSidOne",
      "Effect": "Allow",
      "Action": "bar:ActionOne"
    },
    {
      "Sid": "validSidTwo",
      "Effect": "Deny",
      "Action": "foo:ActionTwo"
    },
    {
      "Effect": "Allow",
      "Action": "bar:ActionTwo"
    }
  ]
}"#;
    assert_eq!(json(&hcl, "test_source_list"), expected);
}

#[test]
fn override_documents_replace_statements_with_the_same_sid() {
    let hcl = format!(
        "{SOURCES}{}",
        r#"
data "aws_iam_policy_document" "test_override_list" {
  version = "2012-10-17"

  override_policy_documents = [
    data.aws_iam_policy_document.policy_a.json,
    data.aws_iam_policy_document.policy_b.json,
    data.aws_iam_policy_document.overriding.json
  ]
}
"#
    );
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "foo:ActionOne"
    },
    {
      "Sid": "validSidOne",
      "Effect": "Deny",
      "Action": "bar:ActionOne"
    },
    {
      "Sid": "validSidTwo",
      "Effect": "Deny",
      "Action": "foo:ActionTwo"
    }
  ]
}"#;
    assert_eq!(json(&hcl, "test_override_list"), expected);
}

#[test]
fn statements_replace_source_statements_with_the_same_sid() {
    let hcl = r#"
data "aws_iam_policy_document" "test_source" {
  statement {
    sid       = "SourceJSONTestConflicting"
    actions   = ["iam:*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "test_source_conflicting" {
  source_policy_documents = [data.aws_iam_policy_document.test_source.json]

  statement {
    sid       = "SourceJSONTestConflicting"
    actions   = ["*"]
    resources = ["*"]
  }
}
"#;
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SourceJSONTestConflicting",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#;
    assert_eq!(json(hcl, "test_source_conflicting"), expected);
}

#[test]
fn principals_of_one_type_are_joined_and_lists_reverse_sorted() {
    let hcl = r#"
data "aws_iam_policy_document" "test" {
  statement {
    actions   = ["*"]
    resources = ["*"]
    sid       = "StatementPrincipalIdentifiersStringAndSlice"

    principals {
      identifiers = ["arn:aws:iam::111111111111:root"]
      type        = "AWS"
    }

    principals {
      identifiers = ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
      type        = "AWS"
    }
  }
}
"#;
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "StatementPrincipalIdentifiersStringAndSlice",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*",
      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:root",
          "arn:aws:iam::333333333333:root",
          "arn:aws:iam::222222222222:root"
        ]
      }
    }
  ]
}"#;
    assert_eq!(json(hcl, "test"), expected);
}

#[test]
fn a_trust_policy_as_modules_write_it() {
    let hcl = r#"
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = ["123456789012"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:aws:ecs:*:123456789012:*", "arn:aws:ec2:*:123456789012:*"]
    }
  }
}
"#;
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Principal": {
        "Service": [
          "ecs-tasks.amazonaws.com",
          "ec2.amazonaws.com"
        ]
      },
      "Condition": {
        "ArnLike": {
          "aws:SourceArn": [
            "arn:aws:ecs:*:123456789012:*",
            "arn:aws:ec2:*:123456789012:*"
          ]
        },
        "StringEquals": {
          "aws:SourceAccount": "123456789012"
        }
      }
    }
  ]
}"#;
    assert_eq!(json(hcl, "assume"), expected);
}

#[test]
fn html_characters_are_escaped_as_go_escapes_them() {
    let hcl = r#"
data "aws_iam_policy_document" "test" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::a<b>&c/*"]
  }
}
"#;
    let docs = rendered(hcl).unwrap();
    assert_eq!(
        docs["test"].get("minified_json").as_str().unwrap(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a\u003cb\u003e\u0026c/*"}]}"#
    );
}

#[test]
fn duplicate_sids_and_old_versions_with_variables_are_refused() {
    let dup = rendered(
        r#"
data "aws_iam_policy_document" "test" {
  statement {
    sid       = "1"
    actions   = ["ec2:DescribeAccountAttributes"]
    resources = ["*"]
  }
  statement {
    sid       = "1"
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}
"#,
    )
    .unwrap_err();
    assert!(dup.contains("duplicate Sid (1)"), "{dup}");
    let old = rendered(
        r#"
data "aws_iam_policy_document" "test" {
  version = "2008-10-17"
  statement {
    actions   = ["*"]
    resources = ["arn:aws:s3:::foo/home/&{aws:username}"]
  }
}
"#,
    )
    .unwrap_err();
    assert!(
        old.contains("found &{ sequence in (arn:aws:s3:::foo/home/&{aws:username}), which is not supported in document version 2008-10-17"),
        "{old}"
    );
    let bad_sid = rendered(
        r#"
data "aws_iam_policy_document" "test" {
  statement {
    sid     = "not-alphanumeric"
    actions = ["*"]
  }
}
"#,
    )
    .unwrap_err();
    assert!(bad_sid.contains("alphanumeric"), "{bad_sid}");
}
