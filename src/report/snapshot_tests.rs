//! Snapshots of the three renderers over one plan holding every action kind, so a change
//! in what users read is a reviewed change.

use super::{Redactor, human, json, markdown};
use crate::plan::{Action, AttrChange, Change, Plan};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn change(
    addr: &str,
    action: Action,
    before: Option<Value>,
    after: Value,
    attrs: Vec<AttrChange>,
) -> Change {
    Change {
        addr: addr.parse().unwrap(),
        action,
        before,
        config: after.clone(),
        after,
        attrs,
        dependencies: vec![],
        provider: Default::default(),
        deposed: false,
    }
}

pub(super) fn every_action() -> Plan {
    let tags = |t: &str| obj(&[("Name", Value::str("net")), ("tier", Value::str(t))]);
    let subnet = |cidr: &str, id: Value| {
        obj(&[
            ("cidr_block", Value::str(cidr)),
            ("id", id),
            ("vpc_id", Value::str("vpc-1")),
            ("tags", tags("private")),
        ])
    };
    let changes = vec![
        change(
            "aws_vpc.main",
            Action::Create,
            None,
            obj(&[
                ("cidr_block", Value::str("10.0.0.0/16")),
                ("id", Value::Unknown),
                ("tags", obj(&[("Name", Value::str("net"))])),
            ]),
            vec![],
        ),
        change(
            "aws_subnet.tagged",
            Action::Update,
            Some(subnet("10.0.1.0/24", Value::str("subnet-1"))),
            obj(&[
                ("cidr_block", Value::str("10.0.1.0/24")),
                ("id", Value::str("subnet-1")),
                ("tags", tags("restricted")),
            ]),
            vec![AttrChange {
                name: "tags".into(),
                before: tags("private"),
                after: tags("restricted"),
                forces_replacement: false,
            }],
        ),
        change(
            "aws_subnet.moved",
            Action::DeleteThenCreate,
            Some(subnet("10.0.2.0/24", Value::str("subnet-2"))),
            obj(&[
                ("cidr_block", Value::str("10.0.3.0/24")),
                ("id", Value::Unknown),
            ]),
            vec![AttrChange {
                name: "cidr_block".into(),
                before: Value::str("10.0.2.0/24"),
                after: Value::str("10.0.3.0/24"),
                forces_replacement: true,
            }],
        ),
        change(
            "aws_subnet.spare[\"b\"]",
            Action::CreateThenDelete,
            Some(subnet("10.0.4.0/24", Value::str("subnet-4"))),
            obj(&[
                ("cidr_block", Value::str("10.0.5.0/24")),
                ("id", Value::Unknown),
            ]),
            vec![AttrChange {
                name: "cidr_block".into(),
                before: Value::str("10.0.4.0/24"),
                after: Value::str("10.0.5.0/24"),
                forces_replacement: true,
            }],
        ),
        change(
            "aws_s3_bucket.old",
            Action::Delete,
            Some(obj(&[
                ("bucket", Value::str("old-data")),
                ("id", Value::str("old-data")),
            ])),
            Value::Null,
            vec![],
        ),
        // Attributes computed from a sensitive variable: the values hold no known secret
        // text, so only the marks can hide them.
        change(
            "aws_db_instance.main",
            Action::Create,
            None,
            obj(&[
                ("username", Value::str("admin")),
                ("password", Value::str("derived-c2VjcmV0")),
                ("id", Value::Unknown),
            ]),
            vec![],
        ),
        change(
            "aws_instance.gpu",
            Action::Update,
            Some(obj(&[
                ("id", Value::str("i-1")),
                ("user_data", Value::str("export TOKEN=old-derived-token\n")),
            ])),
            obj(&[
                ("id", Value::str("i-1")),
                ("user_data", Value::str("export TOKEN=new-derived-token\n")),
            ]),
            vec![AttrChange {
                name: "user_data".into(),
                before: Value::str("export TOKEN=old-derived-token\n"),
                after: Value::str("export TOKEN=new-derived-token\n"),
                forces_replacement: false,
            }],
        ),
        change(
            "aws_ssm_parameter.token",
            Action::Delete,
            Some(obj(&[
                ("id", Value::str("/team/token")),
                ("value", Value::str("recorded-derived-secret")),
            ])),
            Value::Null,
            vec![],
        ),
        change(
            "aws_s3_bucket.secret",
            Action::Create,
            None,
            obj(&[
                ("bucket", Value::str("team-hunter2-bucket")),
                ("id", Value::Unknown),
            ]),
            vec![],
        ),
        // Inside a module instance, managed through an aliased provider configuration.
        Change {
            provider: "aws.west".parse().unwrap(),
            ..change(
                "module.net[\"a\"].aws_subnet.private[0]",
                Action::Create,
                None,
                obj(&[
                    ("cidr_block", Value::str("10.1.0.0/24")),
                    ("id", Value::Unknown),
                    ("vpc_id", Value::Unknown),
                ]),
                vec![],
            )
        },
    ];
    Plan {
        stack: "starter".into(),
        lineage: "00000000-0000-0000-0000-000000000000".into(),
        serial: 7,
        destroy: false,
        steps: vec![],
        changes,
        outputs: BTreeMap::from([("vpc_id".to_string(), Value::Unknown)]),
        sensitive_outputs: HashSet::new(),
        sensitive_attrs: BTreeMap::from([
            (
                "aws_db_instance.main".parse().unwrap(),
                BTreeSet::from(["password".to_string()]),
            ),
            (
                "aws_instance.gpu".parse().unwrap(),
                BTreeSet::from(["user_data".to_string()]),
            ),
            (
                "aws_ssm_parameter.token".parse().unwrap(),
                BTreeSet::from(["value".to_string()]),
            ),
        ]),
        output_changes: BTreeMap::from([("vpc_id".to_string(), (None, Value::Unknown))]),
        secrets: vec![],
        ..Plan::default()
    }
}

pub(super) fn redactor() -> Redactor {
    Redactor::new(["hunter2".to_string()])
}

#[test]
fn human_plan() {
    insta::assert_snapshot!(human::plan(&every_action(), &redactor()));
}

#[test]
fn json_plan() {
    let doc = json::plan(&every_action(), &redactor());
    insta::assert_snapshot!(serde_json::to_string_pretty(&doc).unwrap());
}

#[test]
fn markdown_plan() {
    let plan = every_action();
    let r = redactor();
    insta::assert_snapshot!(markdown::comment(
        &[(&plan, &r)],
        markdown::GITHUB_COMMENT_LIMIT
    ));
}

#[test]
fn no_renderer_shows_a_sensitive_value() {
    let plan = every_action();
    let r = redactor();
    for text in [
        human::plan(&plan, &r),
        json::plan(&plan, &r).to_string(),
        markdown::comment(&[(&plan, &r)], markdown::GITHUB_COMMENT_LIMIT),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("derived"), "{text}");
        assert!(text.contains("(sensitive value)"), "{text}");
        // What is not sensitive is still shown.
        assert!(text.contains("admin"), "{text}");
    }
}

#[test]
fn a_long_comment_is_cut_to_the_limit_with_a_note() {
    let plan = every_action();
    let r = Redactor::default();
    let full = markdown::comment(&[(&plan, &r)], markdown::GITHUB_COMMENT_LIMIT);
    let limit = full.len() - 200;
    let cut = markdown::comment(&[(&plan, &r)], limit);
    assert!(cut.len() <= limit, "{} > {limit}", cut.len());
    assert!(
        cut.contains("were left out to stay under GitHub's"),
        "{cut}"
    );
    // The headline and the irreversible steps survive any cut.
    assert!(
        cut.contains("### `starter`: 4 to add, 2 to change, 2 to replace, 2 to destroy"),
        "{cut}"
    );
    assert!(cut.contains("`aws_s3_bucket.old`: destroyed"), "{cut}");
    assert!(!full.contains("left out"));
}
