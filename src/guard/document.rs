//! Policy documents (IAM policies, trust policies, bucket policies) read the way IAM reads
//! them: `Statement` a list or a lone object, `Action`, `Resource` and principals a string
//! or a list of strings. Wildcards match as IAM matches them (`*` any run, `?` one
//! character, actions case-insensitively).

use crate::value::Value;
use serde_json::Value as Json;

/// One statement of a policy document.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    /// Written as `NotAction`: the statement covers every action but these.
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    /// `Principal`: `"*"` as `["*"]`; `{"AWS": [...], "Service": ...}` flattened.
    pub principals: Vec<String>,
    pub condition: Json,
}

impl Statement {
    /// A name for messages: the Sid, or the statement's position.
    pub fn label(&self, i: usize) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => format!("statement \"{s}\""),
            _ => format!("statement {}", i + 1),
        }
    }

    /// Does the statement cover `action` (e.g. `iam:PassRole`)?
    pub fn covers_action(&self, action: &str) -> bool {
        if !self.not_actions.is_empty() {
            return !self.not_actions.iter().any(|p| glob(p, action, true));
        }
        self.actions.iter().any(|p| glob(p, action, true))
    }

    /// Does it grant every action (`"*"`, `"*:*"`, or `NotAction`)?
    pub fn all_actions(&self) -> bool {
        self.actions.iter().any(|a| a == "*" || a == "*:*") || !self.not_actions.is_empty()
    }

    /// Does it apply to every resource (`"*"`)?
    pub fn all_resources(&self) -> bool {
        self.resources.iter().any(|r| r == "*")
    }
}

/// What a policy attribute holds.
#[derive(Debug)]
pub enum Document {
    Parsed(Vec<Statement>),
    /// Not known until apply: nothing can be judged.
    Unknown,
    /// Not set.
    Absent,
    /// Not JSON, or not a policy: evaluation or AWS reports that; rules skip it.
    Invalid,
}

/// Reads a policy attribute's value.
pub fn read(v: &Value) -> Document {
    let text = match v {
        Value::Null => return Document::Absent,
        Value::Unknown => return Document::Unknown,
        Value::String(s) if s.trim().is_empty() => return Document::Absent,
        Value::String(s) => s,
        _ => return Document::Invalid,
    };
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        return Document::Invalid;
    };
    let statements = match json.get("Statement") {
        Some(Json::Array(items)) => items.iter().map(statement).collect(),
        Some(one @ Json::Object(_)) => vec![statement(one)],
        _ => return Document::Invalid,
    };
    Document::Parsed(statements)
}

fn statement(j: &Json) -> Statement {
    Statement {
        sid: j.get("Sid").and_then(Json::as_str).map(str::to_string),
        allow: j.get("Effect").and_then(Json::as_str) == Some("Allow"),
        actions: strings(j.get("Action")),
        not_actions: strings(j.get("NotAction")),
        resources: strings(j.get("Resource")),
        not_resources: strings(j.get("NotResource")),
        principals: principals(j.get("Principal")),
        condition: j.get("Condition").cloned().unwrap_or(Json::Null),
    }
}

/// A string or a list of strings.
pub fn strings(j: Option<&Json>) -> Vec<String> {
    match j {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn principals(j: Option<&Json>) -> Vec<String> {
    match j {
        Some(Json::Object(m)) => m.values().flat_map(|v| strings(Some(v))).collect(),
        other => strings(other),
    }
}

/// The values a condition operator gives a key: `Condition.Bool."aws:SecureTransport"`.
/// Keys compare case-insensitively, as IAM's do.
pub fn condition_values(condition: &Json, operator: &str, key: &str) -> Vec<String> {
    let Some(block) = condition.as_object().and_then(|m| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(operator))
            .map(|(_, v)| v)
    }) else {
        return Vec::new();
    };
    block
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| match v {
            Json::Bool(b) => vec![b.to_string()],
            Json::Number(n) => vec![n.to_string()],
            other => strings(Some(other)),
        })
        .unwrap_or_default()
}

/// IAM wildcard matching: `*` any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let p: Vec<char> = norm(pattern).chars().collect();
    let t: Vec<char> = norm(text).chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_values_and_lists_read_alike() {
        let one = read(&Value::str(
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}}"#,
        ));
        let many = read(&Value::str(
            r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"], "Principal": {"AWS": ["*"]}}]}"#,
        ));
        for doc in [one, many] {
            let Document::Parsed(s) = doc else {
                panic!("parsed")
            };
            assert_eq!(s[0].actions, ["s3:GetObject"]);
            assert!(s[0].all_resources() && s[0].allow);
            assert_eq!(s[0].principals, ["*"]);
        }
        assert!(matches!(read(&Value::Unknown), Document::Unknown));
        assert!(matches!(read(&Value::Null), Document::Absent));
        assert!(matches!(read(&Value::str("nope")), Document::Invalid));
    }

    #[test]
    fn wildcards_match_as_iam_matches() {
        assert!(glob("iam:Pass*", "iam:PassRole", true));
        assert!(glob("IAM:*", "iam:PassRole", true));
        assert!(glob("iam:P?ssRole", "iam:passrole", true));
        assert!(!glob("iam:Get*", "iam:PassRole", true));
        assert!(!glob("s3:*", "iam:PassRole", true));
        let s = Statement {
            not_actions: vec!["s3:*".into()],
            ..Statement::default()
        };
        assert!(s.covers_action("iam:PassRole") && s.all_actions());
    }

    #[test]
    fn condition_keys_compare_case_insensitively() {
        let c: Json =
            serde_json::from_str(r#"{"Bool": {"aws:SecureTransport": "false"}}"#).unwrap();
        assert_eq!(
            condition_values(&c, "bool", "AWS:SecureTransport"),
            ["false"]
        );
        assert!(condition_values(&c, "StringEquals", "aws:SecureTransport").is_empty());
    }
}
