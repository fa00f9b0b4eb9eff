//! `moved` blocks against hand-made state: renames, instance keys, into and between
//! modules, statements inside modules, chains; Terraform's errors for ambiguous,
//! redundant, cyclic and type-changing moves and for a `from` still declared; a blocked
//! move is a warning and changes nothing.

use super::*;
use crate::config::testing::{load_ok, load_stack, write};
use crate::state::ResourceState;

fn state(addrs: &[&str]) -> State {
    let mut s = State::new("s");
    for a in addrs {
        let addr: ResourceAddr = a.parse().unwrap();
        s.resources.insert(
            addr.clone(),
            ResourceState {
                type_: addr.type_.clone(),
                provider: Default::default(),
                id: format!("id-{a}"),
                attributes: serde_json::json!({ "id": format!("id-{a}") }),
                dependencies: vec![],
                sensitive_attributes: vec![],
            },
        );
    }
    s
}

fn keys(s: &State) -> Vec<String> {
    s.resources.keys().map(ToString::to_string).collect()
}

fn moved(out: &Outcome) -> Vec<String> {
    out.moved
        .iter()
        .map(|(f, t)| format!("{f} -> {t}"))
        .collect()
}

fn apply(files: &[(&str, &str)], s: &mut State) -> Result<Outcome, String> {
    let (_root, config) = load_ok(files);
    apply_moves(&config, s).map_err(|d| {
        d.items
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn a_rename_keeps_the_object_and_follows_keys() {
    let mut s = state(&["aws_vpc.old", "aws_subnet.a[0]", "aws_subnet.a[1]"]);
    let out = apply(
        &[(
            "stack/main.hcl",
            r#"
moved {
  from = aws_vpc.old
  to   = aws_vpc.main
}

moved {
  from = aws_subnet.a
  to   = aws_subnet.private
}
"#,
        )],
        &mut s,
    )
    .unwrap();
    assert_eq!(
        keys(&s),
        [
            "aws_subnet.private[0]",
            "aws_subnet.private[1]",
            "aws_vpc.main"
        ]
    );
    assert_eq!(
        s.resources[&"aws_vpc.main".parse().unwrap()].id,
        "id-aws_vpc.old"
    );
    assert_eq!(
        moved(&out),
        [
            "aws_vpc.old -> aws_vpc.main",
            "aws_subnet.a[0] -> aws_subnet.private[0]",
            "aws_subnet.a[1] -> aws_subnet.private[1]"
        ]
    );
    // Applying them again finds nothing to move: Terraform's quiet no-op.
    let again = apply(
        &[(
            "stack/main.hcl",
            "moved {\n  from = aws_vpc.old\n  to   = aws_vpc.main\n}\n",
        )],
        &mut s,
    )
    .unwrap();
    assert!(again.moved.is_empty() && again.blocked.is_empty());
}

#[test]
fn adding_count_moves_the_unkeyed_instance_to_index_zero() {
    let mut s = state(&["aws_vpc.v"]);
    let out = apply(
        &[(
            "stack/main.hcl",
            "moved {\n  from = aws_vpc.v\n  to   = aws_vpc.v[0]\n}\n",
        )],
        &mut s,
    )
    .unwrap();
    assert_eq!(keys(&s), ["aws_vpc.v[0]"]);
    assert_eq!(moved(&out), ["aws_vpc.v -> aws_vpc.v[0]"]);
}

#[test]
fn into_a_module_between_modules_and_inside_one() {
    let mut s = state(&[
        "aws_vpc.v",
        "module.old[\"a\"].aws_subnet.s",
        "module.old[\"b\"].aws_subnet.s",
        "module.net[\"x\"].aws_s3_bucket.legacy",
        "module.net[\"y\"].aws_s3_bucket.legacy",
    ]);
    let out = apply(
        &[
            (
                "stack/main.hcl",
                r#"
moved {
  from = aws_vpc.v
  to   = module.core.aws_vpc.this
}

moved {
  from = module.old
  to   = module.net
}

module "core" {
  source = "../modules/core"
}

module "net" {
  source   = "../modules/net"
  for_each = toset(["a", "b", "x", "y"])
}
"#,
            ),
            (
                "modules/core/main.tf",
                "resource \"aws_vpc\" \"this\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n",
            ),
            (
                "modules/net/main.tf",
                r#"
moved {
  from = aws_s3_bucket.legacy
  to   = aws_s3_bucket.logs
}

resource "aws_s3_bucket" "logs" {
  bucket = "x"
}
"#,
            ),
        ],
        &mut s,
    )
    .unwrap();
    assert_eq!(
        keys(&s),
        [
            "module.core.aws_vpc.this",
            "module.net[\"a\"].aws_subnet.s",
            "module.net[\"b\"].aws_subnet.s",
            "module.net[\"x\"].aws_s3_bucket.logs",
            "module.net[\"y\"].aws_s3_bucket.logs",
        ]
    );
    assert_eq!(out.moved.len(), 5, "{:?}", moved(&out));
}

#[test]
fn chained_moves_end_at_the_last_address() {
    let mut s = state(&["aws_vpc.a"]);
    let out = apply(
        &[(
            "stack/main.hcl",
            r#"
moved {
  from = aws_vpc.b
  to   = aws_vpc.c
}

moved {
  from = aws_vpc.a
  to   = aws_vpc.b
}
"#,
        )],
        &mut s,
    )
    .unwrap();
    assert_eq!(keys(&s), ["aws_vpc.c"]);
    assert_eq!(moved(&out), ["aws_vpc.a -> aws_vpc.c"]);
}

#[test]
fn a_destination_state_already_holds_blocks_the_move_with_a_warning() {
    let mut s = state(&["aws_vpc.a", "aws_vpc.b"]);
    let out = apply(
        &[(
            "stack/main.hcl",
            "moved {\n  from = aws_vpc.a\n  to   = aws_vpc.b\n}\n",
        )],
        &mut s,
    )
    .unwrap();
    assert_eq!(keys(&s), ["aws_vpc.a", "aws_vpc.b"]);
    assert!(out.moved.is_empty());
    assert_eq!(out.blocked.len(), 1);
    assert!(
        out.blocked[0].starts_with("aws_vpc.a could not move to aws_vpc.b: state already holds"),
        "{:?}",
        out.blocked
    );
}

fn errors(hcl: &str) -> String {
    let root = write(&[("stack/main.hcl", hcl)]);
    let config = load_stack(&root).expect("loads");
    let mut s = state(&["aws_vpc.a"]);
    let before = s.clone();
    let err = apply_moves(&config, &mut s).unwrap_err();
    assert_eq!(s, before, "an invalid set of moves changes nothing");
    crate::config::testing::located(&config.sources, &err).join("\n")
}

#[test]
fn terraforms_errors_for_moves_that_cannot_be() {
    let ambiguous = errors(
        r#"
moved {
  from = aws_vpc.a
  to   = aws_vpc.b
}

moved {
  from = aws_vpc.a
  to   = aws_vpc.c
}

moved {
  from = aws_vpc.x
  to   = aws_vpc.b
}
"#,
    );
    // The other statement's location is the file as displayed (relative to the working
    // directory when keel runs inside it).
    assert!(
        ambiguous.contains("stack/main.hcl:7:1: Ambiguous move statements: a statement at "),
        "{ambiguous}"
    );
    assert!(ambiguous.contains("main.hcl:2:1 declared that aws_vpc.a moved to aws_vpc.b, but this statement instead declares that it moved to aws_vpc.c"), "{ambiguous}");
    assert!(
        ambiguous.contains("stack/main.hcl:12:1: Ambiguous move statements: a statement at "),
        "{ambiguous}"
    );
    assert!(ambiguous.contains("main.hcl:2:1 declared that aws_vpc.a moved to aws_vpc.b, but this statement instead declares that aws_vpc.x moved there"), "{ambiguous}");

    let cycle = errors(
        r#"
moved {
  from = aws_vpc.a
  to   = aws_vpc.b
}

moved {
  from = aws_vpc.b
  to   = aws_vpc.a
}
"#,
    );
    assert!(
        cycle.contains("Cyclic dependency in move statements"),
        "{cycle}"
    );
    assert!(
        cycle.contains("main.hcl:2:1: aws_vpc.a → aws_vpc.b"),
        "{cycle}"
    );
    assert!(
        cycle.contains("main.hcl:7:1: aws_vpc.b → aws_vpc.a"),
        "{cycle}"
    );

    let retype = errors("moved {\n  from = aws_vpc.a\n  to   = aws_subnet.a\n}\n");
    assert!(
        retype.contains(
            "Resource type mismatch: this statement declares a move from aws_vpc.a to aws_subnet.a"
        ),
        "{retype}"
    );

    let redundant = errors("moved {\n  from = aws_vpc.a\n  to   = aws_vpc.a\n}\n");
    assert!(
        redundant.contains("Redundant move statement"),
        "{redundant}"
    );

    let kinds = write(&[(
        "stack/main.hcl",
        "moved {\n  from = module.a\n  to   = aws_vpc.a\n}\n",
    )]);
    let (sources, diags) = load_stack(&kinds).unwrap_err();
    let kinds = crate::config::testing::located(&sources, &diags).join("\n");
    assert!(
        kinds.contains("one is a module and the other a resource"),
        "{kinds}"
    );
}

#[test]
fn a_from_the_configuration_still_declares_is_an_error_after_planning() {
    let (_root, config) = load_ok(&[(
        "stack/main.hcl",
        r#"
moved {
  from = aws_vpc.a
  to   = aws_vpc.b
}

resource "aws_vpc" "a" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_vpc" "b" {
  cidr_block = "10.0.0.0/16"
}
"#,
    )]);
    let a: ResourceAddr = "aws_vpc.a".parse().unwrap();
    let b: ResourceAddr = "aws_vpc.b".parse().unwrap();
    let diags = check_declared(&config, &[&a, &b]);
    let text = crate::config::testing::located(&config.sources, &diags).join("\n");
    assert!(text.contains("stack/main.hcl:2:1: Moved object still exists: this statement declares a move from aws_vpc.a, but that resource is still declared"), "{text}");
    assert!(check_declared(&config, &[&b]).items.is_empty());
}
