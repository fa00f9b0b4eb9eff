//! Attribute diffs: which configured attributes differ from what state recorded, compared
//! by schema so that leaving an optional attribute out matches its zero value, and an
//! attribute the cloud chooses is never a change.

use crate::providers::schema::{Attr, BlockType, Mode, ResourceSchema, Ty};
use crate::value::Value;

/// One top-level attribute (or nested block) that changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttrChange {
    pub name: String,
    pub before: Value,
    pub after: Value,
    /// Changing it replaces the resource.
    pub forces_replacement: bool,
}

/// The changed top-level attributes and blocks of one resource, in schema order.
pub fn diff(
    schema: &ResourceSchema,
    config: &Value,
    prior: &Value,
    ignore: &[String],
) -> Vec<AttrChange> {
    let ignored = |name: &str| is_ignored(ignore, name);
    let mut out = Vec::new();
    for a in schema.attrs {
        if ignored(a.name) {
            continue;
        }
        // tags_all is computed from tags and the provider's default tags, so it is compared
        // even though the user cannot set it.
        if a.mode == Mode::Computed && a.name != "tags_all" {
            continue;
        }
        let Some(c) = config.get_opt(a.name) else {
            continue;
        };
        let p = prior.get(a.name);
        if !attr_equal(a, c, p) {
            out.push(AttrChange {
                name: a.name.to_string(),
                before: p.clone(),
                after: c.clone(),
                forces_replacement: a.force_new,
            });
        }
    }
    for b in schema.blocks {
        if ignored(b.name) {
            continue;
        }
        let c = config.get(b.name);
        // Left out of the configuration, a computed block is whatever the cloud holds.
        if b.computed && c.is_null() {
            continue;
        }
        let p = prior.get(b.name);
        if let Some(forces) = block_change(b, c, p) {
            out.push(AttrChange {
                name: b.name.to_string(),
                before: p.clone(),
                after: c.clone(),
                forces_replacement: forces,
            });
        }
    }
    out
}

/// Does `lifecycle.ignore_changes` cover this top-level attribute? `all` covers every
/// one, and ignoring `tags` ignores the `tags_all` computed from it.
pub fn is_ignored(ignore: &[String], name: &str) -> bool {
    ignore
        .iter()
        .any(|i| i == name || i == "all" || (name == "tags_all" && i == "tags"))
}

fn attr_equal(a: &Attr, c: &Value, p: &Value) -> bool {
    if c.has_unknown() {
        return false;
    }
    // false, "" and empty collections mean what null means to AWS, whichever side holds
    // them (an argument keel passes through unset is read back as null).
    if !c.is_null() && is_zero(c, a.ty) && is_zero(p, a.ty) {
        return true;
    }
    if c.is_null() {
        return match a.mode {
            // The cloud chooses when the configuration does not.
            Mode::OptionalComputed | Mode::Computed => true,
            _ => is_zero(p, a.ty),
        };
    }
    match a.ty {
        Ty::StringMap | Ty::StringList => c == p || (is_zero(c, a.ty) && is_zero(p, a.ty)),
        Ty::StringSet => c.string_set() == p.string_set(),
        Ty::Policy => match (c.as_str(), p.as_str()) {
            (Some(c), Some(p)) => crate::providers::policy::equivalent(c, p),
            _ => c == p,
        },
        _ => c == p,
    }
}

/// Null and the type's empty value are the same to AWS.
fn is_zero(v: &Value, ty: Ty) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b && ty == Ty::Bool,
        Value::String(s) => s.is_empty() && ty == Ty::String,
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// `None` when a block's configured instances match the prior ones; otherwise whether the
/// difference replaces the resource: the block forces replacement, or an argument that
/// differs inside it does (an instance's `root_block_device.encrypted`, where its
/// `volume_size` changes in place).
fn block_change(b: &BlockType, c: &Value, p: &Value) -> Option<bool> {
    // Blocks a `dynamic` block generates from a for_each known only at apply.
    if c == &Value::Unknown {
        return Some(b.force_new);
    }
    let empty = [];
    let cs = c.as_list().unwrap_or(&empty);
    let ps = p.as_list().unwrap_or(&empty);
    if cs.is_empty() && b.cloud_chosen() {
        return None;
    }
    if cs.len() != ps.len() {
        return Some(b.can_force_new());
    }
    let mut changed = false;
    let mut forces = b.force_new;
    for (c, p) in cs.iter().zip(ps) {
        for a in b.attrs {
            if let Some(cv) = c.get_opt(a.name)
                && !attr_equal(a, cv, p.get(a.name))
            {
                changed = true;
                forces |= a.force_new;
            }
        }
        for inner in b.blocks {
            if let Some(f) = block_change(inner, c.get(inner.name), p.get(inner.name)) {
                changed = true;
                forces |= f;
            }
        }
    }
    changed.then_some(forces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::schema;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn an_unchanged_subnet_has_no_diff() {
        let s = schema("aws_subnet").unwrap();
        let config = obj(&[
            ("vpc_id", Value::str("vpc-1")),
            ("cidr_block", Value::str("10.0.1.0/24")),
            ("map_public_ip_on_launch", Value::Bool(false)),
            ("tags", Value::Null),
        ]);
        let prior = obj(&[
            ("vpc_id", Value::str("vpc-1")),
            ("cidr_block", Value::str("10.0.1.0/24")),
            ("availability_zone", Value::str("us-east-1a")),
            ("map_public_ip_on_launch", Value::Bool(false)),
            ("tags", Value::Map(BTreeMap::new())),
        ]);
        assert!(diff(s, &config, &prior, &[]).is_empty());
    }

    #[test]
    fn a_cidr_change_forces_replacement_and_a_tag_change_does_not() {
        let s = schema("aws_subnet").unwrap();
        let prior = obj(&[
            ("vpc_id", Value::str("vpc-1")),
            ("cidr_block", Value::str("10.0.1.0/24")),
            ("tags", obj(&[("Name", Value::str("a"))])),
        ]);
        let config = obj(&[
            ("vpc_id", Value::str("vpc-1")),
            ("cidr_block", Value::str("10.0.3.0/24")),
            ("tags", obj(&[("Name", Value::str("b"))])),
        ]);
        let changes = diff(s, &config, &prior, &[]);
        let names: Vec<(&str, bool)> = changes
            .iter()
            .map(|c| (c.name.as_str(), c.forces_replacement))
            .collect();
        assert_eq!(names, vec![("cidr_block", true), ("tags", false)]);
        assert!(diff(s, &config, &prior, &["tags".into(), "cidr_block".into()]).is_empty());
    }

    #[test]
    fn unknown_values_are_changes_and_removed_tags_are_seen() {
        let s = schema("aws_subnet").unwrap();
        let prior = obj(&[
            ("vpc_id", Value::str("vpc-1")),
            ("tags", obj(&[("Name", Value::str("a"))])),
        ]);
        let config = obj(&[
            ("vpc_id", Value::Unknown),
            ("tags", Value::Map(BTreeMap::new())),
        ]);
        let names: Vec<String> = diff(s, &config, &prior, &[])
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, vec!["vpc_id", "tags"]);
    }

    #[test]
    fn cloud_chosen_blocks_left_out_are_no_change_and_nested_force_new_replaces() {
        let s = schema("aws_instance").unwrap();
        let root = |size: f64, encrypted: bool| {
            Value::List(vec![obj(&[
                ("volume_size", Value::Number(size)),
                ("encrypted", Value::Bool(encrypted)),
                ("volume_type", Value::str("gp3")),
            ])])
        };
        let prior = obj(&[
            ("ami", Value::str("ami-1")),
            ("root_block_device", root(100.0, true)),
        ]);
        let left_out = obj(&[
            ("ami", Value::str("ami-1")),
            ("root_block_device", Value::List(vec![])),
        ]);
        assert!(diff(s, &left_out, &prior, &[]).is_empty());
        let bigger = obj(&[
            ("ami", Value::str("ami-1")),
            (
                "root_block_device",
                Value::List(vec![obj(&[("volume_size", Value::Number(200.0))])]),
            ),
        ]);
        let changes = diff(s, &bigger, &prior, &[]);
        assert_eq!(changes.len(), 1);
        assert!(
            !changes[0].forces_replacement,
            "a bigger volume is resized in place"
        );
        let plain = obj(&[
            ("ami", Value::str("ami-1")),
            (
                "root_block_device",
                Value::List(vec![obj(&[("encrypted", Value::Bool(false))])]),
            ),
        ]);
        assert!(diff(s, &plain, &prior, &[])[0].forces_replacement);
    }

    #[test]
    fn a_computed_block_left_out_is_not_managed_and_an_empty_list_is() {
        let s = schema("aws_security_group").unwrap();
        let rule = obj(&[
            ("protocol", Value::str("tcp")),
            ("from_port", Value::Number(443.0)),
            ("to_port", Value::Number(443.0)),
            ("cidr_blocks", Value::List(vec![Value::str("10.0.0.0/16")])),
        ]);
        let prior = obj(&[
            ("name", Value::str("g")),
            ("ingress", Value::List(vec![rule])),
            ("egress", Value::List(vec![])),
        ]);
        let left_out = obj(&[("name", Value::str("g"))]);
        assert!(diff(s, &left_out, &prior, &[]).is_empty());
        let emptied = obj(&[("name", Value::str("g")), ("ingress", Value::List(vec![]))]);
        let names: Vec<String> = diff(s, &emptied, &prior, &[])
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, vec!["ingress"]);
    }

    #[test]
    fn nested_blocks_compare_by_their_schema() {
        let s = schema("aws_s3_bucket_server_side_encryption_configuration").unwrap();
        let rule = |alg: &str, key: Value| {
            Value::List(vec![obj(&[
                ("bucket_key_enabled", key),
                (
                    "apply_server_side_encryption_by_default",
                    Value::List(vec![obj(&[
                        ("sse_algorithm", Value::str(alg)),
                        ("kms_master_key_id", Value::Null),
                    ])]),
                ),
            ])])
        };
        let prior = obj(&[
            ("bucket", Value::str("b")),
            ("rule", rule("aws:kms", Value::Bool(false))),
        ]);
        let same = obj(&[
            ("bucket", Value::str("b")),
            ("rule", rule("aws:kms", Value::Null)),
        ]);
        assert!(diff(s, &same, &prior, &[]).is_empty());
        let other = obj(&[
            ("bucket", Value::str("b")),
            ("rule", rule("AES256", Value::Null)),
        ]);
        assert_eq!(diff(s, &other, &prior, &[])[0].name, "rule");
    }
}
