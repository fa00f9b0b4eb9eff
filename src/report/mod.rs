//! Report: Plan | ApplyReport -> text for a person. One model, several renderers; the
//! terminal one lives in [`human`]. Every renderer goes through a [`Redactor`], so a
//! sensitive value never reaches the screen, a PR comment or a log.

pub mod diagnostics;
pub mod drift;
pub mod guard;
pub mod human;
pub mod json;
pub mod markdown;
pub mod progress;

use crate::eval::SENSITIVE;
use crate::plan::{Change, Plan};
use crate::value::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// `c` with the attributes the plan marks sensitive replaced by "(sensitive value)",
/// before and after: what every plan renderer draws.
pub(crate) fn masked<'a>(plan: &Plan, c: &'a Change) -> Cow<'a, Change> {
    let Some(marks) = plan.sensitive_attrs.get(&c.addr) else {
        return Cow::Borrowed(c);
    };
    let mut c = c.clone();
    let hide = |v: &mut Value| {
        if let Value::Map(m) = v {
            for (k, x) in m.iter_mut() {
                if marks.contains(k) {
                    *x = mask(x);
                }
            }
        }
    };
    if let Some(b) = &mut c.before {
        hide(b);
    }
    hide(&mut c.after);
    hide(&mut c.config);
    for a in &mut c.attrs {
        if marks.contains(&a.name) {
            a.before = mask(&a.before);
            a.after = mask(&a.after);
        }
    }
    Cow::Owned(c)
}

/// The sensitive attributes of a change, for renderers that say which they hid.
pub(crate) fn marks<'a>(plan: &'a Plan, c: &Change) -> Option<&'a BTreeSet<String>> {
    plan.sensitive_attrs.get(&c.addr)
}

/// A sensitive value as shown: null and unknown stay what they are (they reveal nothing),
/// nested blocks keep their shape with every value hidden, anything else is hidden whole.
fn mask(v: &Value) -> Value {
    match v {
        Value::Null | Value::Unknown => v.clone(),
        Value::List(items) if !items.is_empty() && items.iter().all(|i| i.as_map().is_some()) => {
            Value::List(
                items
                    .iter()
                    .map(|i| {
                        Value::Map(
                            i.as_map()
                                .into_iter()
                                .flatten()
                                .map(|(k, x)| (k.clone(), mask(x)))
                                .collect(),
                        )
                    })
                    .collect(),
            )
        }
        _ => Value::str(SENSITIVE),
    }
}

/// Hides sensitive values: any rendered value that contains one of them is replaced.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Redacts these values (those of variables declared `sensitive = true`). Very short
    /// values are still redacted when a whole rendered value equals them.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        Redactor {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    /// Also hides every string found in these values (secrets a plan found, sensitive
    /// outputs), so they stay out of progress lines and cloud errors.
    pub fn with_values<'a>(mut self, values: impl IntoIterator<Item = &'a Value>) -> Redactor {
        fn leaves(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::List(items) => items.iter().for_each(|i| leaves(i, out)),
                Value::Map(m) => m.values().for_each(|i| leaves(i, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        values.into_iter().for_each(|v| leaves(v, &mut found));
        self.secrets
            .extend(found.into_iter().filter(|s| s.len() >= 4 && s != SENSITIVE));
        self
    }

    /// Every secret a plan knows of: the sensitive strings evaluation read or computed
    /// for its changes ([`Plan::secrets`]) and the values of sensitive outputs. The marks
    /// already hide whole attributes; this keeps the secrets themselves out of any other
    /// text (a value that happens to embed one, a progress line, a cloud error).
    pub fn with_plan(self, plan: &Plan) -> Redactor {
        let mut values: Vec<Value> = plan.secrets.iter().map(Value::str).collect();
        values.extend(
            plan.outputs
                .iter()
                .filter(|(k, _)| plan.sensitive_outputs.contains(*k))
                .map(|(_, v)| v.clone()),
        );
        self.with_values(&values)
    }

    /// Free text (a progress line, an error from the cloud) with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut secrets: Vec<&String> = self.secrets.iter().filter(|s| s.len() >= 4).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for s in secrets {
            out = out.replace(s.as_str(), SENSITIVE);
        }
        out
    }

    /// The value as HCL, or "(sensitive value)".
    pub fn value(&self, v: &Value) -> String {
        let text = v.to_hcl();
        if self.hides(&text) {
            "(sensitive value)".to_string()
        } else {
            text
        }
    }

    /// The value as JSON, with every string that holds a secret replaced and unknown
    /// values as null.
    pub fn json(&self, v: &Value) -> serde_json::Value {
        match v {
            Value::String(s) if self.hides(&crate::value::quote(s)) => "(sensitive value)".into(),
            Value::List(items) => items.iter().map(|i| self.json(i)).collect(),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (k.clone(), self.json(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            other => other.to_json(),
        }
    }

    fn hides(&self, text: &str) -> bool {
        text.contains(SENSITIVE)
            || self.secrets.iter().any(|s| {
                if s.len() >= 4 {
                    text.contains(s.as_str())
                } else {
                    text.trim_matches('"') == s
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_containing_a_secret_are_hidden() {
        let r = Redactor::new(["hunter22".to_string()]);
        assert_eq!(r.value(&Value::str("pw=hunter22")), "(sensitive value)");
        assert_eq!(r.value(&Value::str("public")), "\"public\"");
    }
}

#[cfg(test)]
mod snapshot_tests;

#[cfg(test)]
mod guard_snapshots;
