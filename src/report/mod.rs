//! Report: Plan | ApplyReport -> text for a person. One model, several renderers; the
//! terminal one lives in [`human`]. Every renderer goes through a [`Redactor`], so a
//! sensitive value never reaches the screen, a PR comment or a log.

pub mod drift;
pub mod human;
pub mod json;
pub mod markdown;
pub mod progress;

use crate::value::Value;

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

    /// Also redacts `more` (a plan's [`crate::plan::Plan::secrets`]).
    pub fn with(mut self, more: impl IntoIterator<Item = String>) -> Redactor {
        self.secrets
            .extend(more.into_iter().filter(|s| !s.is_empty()));
        self.secrets.sort();
        self.secrets.dedup();
        self
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
        self.secrets.iter().any(|s| {
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
