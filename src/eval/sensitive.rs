//! Sensitivity, carried beside values rather than inside them: [`Marks`] record which
//! variables, locals and resource attributes hold sensitive values, expression
//! evaluation ([`super::Ctx`]) notes when it reads one, and whatever it computes from one is
//! marked in turn, as Terraform's value marks do. Text that could show a secret (error
//! messages) is [`scrub`]bed of it.

use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What replaces a sensitive value wherever it would be shown.
pub const SENSITIVE: &str = "(sensitive value)";

/// Which named values are sensitive.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    /// `var.NAME` and `local.NAME`.
    names: HashSet<String>,
    /// `TYPE.NAME` -> its sensitive top-level attributes (configured from a sensitive value).
    attrs: BTreeMap<String, BTreeSet<String>>,
}

impl Marks {
    /// Marks `var.NAME` or `local.NAME`.
    pub fn mark(&mut self, name: impl Into<String>) {
        self.names.insert(name.into());
    }

    pub fn is_marked(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Marks attributes of the resource block `TYPE.NAME`.
    pub fn mark_attrs(&mut self, resource: &str, attrs: impl IntoIterator<Item = String>) {
        let set = self.attrs.entry(resource.to_string()).or_default();
        set.extend(attrs);
        if set.is_empty() {
            self.attrs.remove(resource);
        }
    }

    /// The sensitive attributes of `TYPE.NAME`.
    pub fn attrs(&self, resource: &str) -> Option<&BTreeSet<String>> {
        self.attrs.get(resource)
    }

    /// Is reading `attr` of `TYPE.NAME` (or the whole object, when `None`) sensitive?
    pub fn resource_read_is_sensitive(&self, resource: &str, attr: Option<&str>) -> bool {
        match (self.attrs.get(resource), attr) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(set), Some(a)) => set.contains(a),
        }
    }
}

/// What evaluating a resource's body found sensitive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Top-level attributes set from a sensitive value (or blocks holding one).
    pub attrs: BTreeSet<String>,
    /// The sensitive strings read or computed on the way (a variable's value, what a
    /// function made of it, a marked attribute or output read): what free text such as a
    /// progress line or a cloud error must never show.
    pub secrets: BTreeSet<String>,
}

impl Found {
    /// Records attribute `key`, evaluated in `ctx`, if what it read was sensitive.
    pub fn note(&mut self, key: &str, ctx: &super::Ctx<'_>) {
        if ctx.is_sensitive() {
            self.attrs.insert(key.to_string());
            self.secrets.extend(ctx.secret_strings());
        }
    }
}

/// The strings inside `v`, however deep.
pub fn strings(v: &Value, out: &mut impl Extend<String>) {
    match v {
        Value::String(s) => out.extend([s.clone()]),
        Value::List(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Map(m) => m.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// The values of `attrs` inside a resource's value, whether it is one object, a list of
/// instances or a map of them.
pub fn attr_values(v: &Value, attrs: &BTreeSet<String>, out: &mut Vec<Value>) {
    let Some(m) = v.as_map() else {
        if let Value::List(items) = v {
            items.iter().for_each(|i| attr_values(i, attrs, out));
        }
        return;
    };
    let mut found = false;
    for a in attrs {
        if let Some(x) = m.get(a) {
            out.push(x.clone());
            found = true;
        }
    }
    if !found {
        // A map of instances keyed by for_each key.
        for inner in m.values().filter(|i| i.as_map().is_some()) {
            attr_values(inner, attrs, out);
        }
    }
}

/// `text` with every string in `secret` (and its rendering) replaced by
/// "(sensitive value)". Strings shorter than four characters are replaced only where they
/// appear quoted, so a secret "1" does not eat every digit of a message.
pub fn scrub(text: &str, secret: &Value) -> String {
    let mut leaves = Vec::new();
    collect(secret, &mut leaves);
    scrub_all(text, leaves)
}

/// Scrubs every string of every value in `secrets`.
pub fn scrub_values(text: &str, secrets: &[Value]) -> String {
    let mut leaves = Vec::new();
    secrets.iter().for_each(|s| collect(s, &mut leaves));
    scrub_all(text, leaves)
}

fn scrub_all(text: &str, mut leaves: Vec<String>) -> String {
    let mut out = text.to_string();
    leaves.sort_by_key(|s| std::cmp::Reverse(s.len()));
    leaves.dedup();
    for s in leaves {
        if s.chars().count() >= 4 {
            out = out.replace(&s, SENSITIVE);
        } else if !s.is_empty() {
            out = out.replace(&crate::value::quote(&s), SENSITIVE);
        }
    }
    out
}

/// The strings a value holds (numbers and bools rendered), and its rendering.
fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(_) | Value::Bool(_) => out.push(v.to_hcl()),
        Value::List(items) => {
            items.iter().for_each(|i| collect(i, out));
            out.push(v.to_hcl());
        }
        Value::Map(m) => {
            m.values().for_each(|i| collect(i, out));
            out.push(v.to_hcl());
        }
        Value::Null | Value::Unknown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_replaces_long_secrets_anywhere_and_short_ones_only_quoted() {
        let secret = Value::List(vec![Value::str("hunter22"), Value::str("ab")]);
        assert_eq!(
            scrub("got \"xhunter22y\" and \"ab\", not ab", &secret),
            "got \"x(sensitive value)y\" and (sensitive value), not ab"
        );
        assert_eq!(
            scrub_values("n=4242", &[Value::Number(4242.0)]),
            "n=(sensitive value)"
        );
    }

    #[test]
    fn evaluation_marks_what_it_computes_from_a_sensitive_value() {
        use super::super::{Ctx, Env};
        use crate::diag::FileId;
        let mut env = Env::default();
        env.vars.insert("secret".into(), Value::str("hunter22"));
        env.vars.insert("name".into(), Value::str("web"));
        env.sensitive.mark("var.secret");
        env.resources.insert(
            "aws_db.a".into(),
            Value::Map(
                [
                    ("password".to_string(), Value::str("pw-derived")),
                    ("id".to_string(), Value::str("db-1")),
                ]
                .into(),
            ),
        );
        env.sensitive
            .mark_attrs("aws_db.a", ["password".to_string()]);
        let marked = |src: &str| {
            let e = hcl_edit::parser::parse_expr(src).unwrap();
            let mut ctx = Ctx::new(&env, FileId(0));
            let r = ctx.eval(&e).map_err(|d| d.message);
            (r, ctx.is_sensitive())
        };
        assert!(marked("upper(var.secret)").1);
        // A condition on a secret marks the result; an unchosen secret branch does not.
        assert!(marked("var.secret == \"x\" ? \"a\" : \"b\"").1);
        assert!(!marked("var.name == \"x\" ? var.secret : \"\"").1);
        assert!(marked("[for c in [var.secret] : c]").1);
        assert!(!marked("upper(var.name)").1);
        assert!(marked("aws_db.a.password").1);
        assert!(marked("aws_db.a").1);
        assert!(!marked("aws_db.a.id").1);
        // Errors never show the secret, nor what a function made of it.
        let (r, _) = marked("cidrhost(upper(var.secret), 1)");
        let e = r.unwrap_err();
        assert!(!e.contains("HUNTER22") && !e.contains("hunter22"), "{e}");
        assert!(e.contains("(sensitive value)"), "{e}");
    }

    #[test]
    fn resource_reads_are_sensitive_by_attribute() {
        let mut m = Marks::default();
        m.mark_attrs("aws_db.a", ["password".to_string()]);
        assert!(m.resource_read_is_sensitive("aws_db.a", Some("password")));
        assert!(!m.resource_read_is_sensitive("aws_db.a", Some("id")));
        assert!(m.resource_read_is_sensitive("aws_db.a", None));
        assert!(!m.resource_read_is_sensitive("aws_db.b", None));
    }
}
