//! Sensitive values: text that must never show a secret is scrubbed of it.

use crate::value::Value;

/// What replaces a sensitive value wherever it would be shown.
pub const SENSITIVE: &str = "(sensitive value)";

/// `text` with every string in `secret` (and its rendering) replaced by
/// "(sensitive value)". Strings shorter than four characters are replaced only where they
/// appear quoted, so a secret "1" does not eat every digit of a message.
pub fn scrub(text: &str, secret: &Value) -> String {
    let mut leaves = Vec::new();
    collect(secret, &mut leaves);
    let mut out = text.to_string();
    leaves.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in leaves {
        if s.chars().count() >= 4 {
            out = out.replace(&s, SENSITIVE);
        } else if !s.is_empty() {
            out = out.replace(&crate::value::quote(&s), SENSITIVE);
        }
    }
    out
}

/// The strings a value holds (numbers and bools rendered), innermost first.
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
