//! The values that flow through every stage: what HCL expressions evaluate to, what plans
//! compare and what state records. `Unknown` stands for a value that only apply can know
//! (a VPC's id before the VPC exists); it never reaches the state file.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;

/// An evaluated value. Maps keep their keys sorted, so plans and state are deterministic.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when the value, or anything inside it, is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            Value::Map(map) => map.values().any(Value::has_unknown),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The strings of a list value as a set; empty when `self` is not a list.
    pub fn string_set(&self) -> std::collections::BTreeSet<String> {
        self.as_list()
            .unwrap_or(&[])
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    }

    /// Attribute of a map value; `Null` when absent or when `self` is not a map.
    pub fn get(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Map(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Attribute of a map value, when present.
    pub fn get_opt(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// The name of the value's type, as HCL users know it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "object",
            Value::Unknown => "unknown",
        }
    }

    /// Converts to JSON for the state file. Unknown values become null; callers make sure
    /// none are left by then.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null | Value::Unknown => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(map) => {
                Json::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    pub fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            Json::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Renders the value as an HCL literal, the way plan output shows it.
    pub fn to_hcl(&self) -> String {
        let mut out = String::new();
        write_hcl(self, &mut out);
        out
    }
}

/// The key that marks an unknown value in the lossless encoding (saved plans carry values
/// that are only known after apply; state never holds one).
const UNKNOWN_KEY: &str = "$keel_unknown";

impl Value {
    /// JSON that keeps unknown values (as `{"$keel_unknown": true}`), for saved plans.
    pub fn to_tagged_json(&self) -> Json {
        match self {
            Value::Unknown => Json::Object(
                [(UNKNOWN_KEY.to_string(), Json::Bool(true))]
                    .into_iter()
                    .collect(),
            ),
            Value::List(items) => Json::Array(items.iter().map(Value::to_tagged_json).collect()),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_tagged_json()))
                    .collect(),
            ),
            other => other.to_json(),
        }
    }

    /// The inverse of [`Value::to_tagged_json`].
    pub fn from_tagged_json(json: &Json) -> Value {
        match json {
            Json::Object(map)
                if map.len() == 1 && map.get(UNKNOWN_KEY) == Some(&Json::Bool(true)) =>
            {
                Value::Unknown
            }
            Json::Array(items) => Value::List(items.iter().map(Value::from_tagged_json).collect()),
            Json::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_tagged_json(v)))
                    .collect(),
            ),
            other => Value::from_json(other),
        }
    }
}

/// Values serialise losslessly, unknowns included (see [`Value::to_tagged_json`]).
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.to_tagged_json(), s)
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Value::from_tagged_json(
            &<Json as serde::Deserialize>::deserialize(d)?,
        ))
    }
}

fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// Formats a number the way HCL writes it: integers without a fraction.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn write_hcl(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(*n)),
        Value::String(s) => out.push_str(&quote(s)),
        Value::Unknown => out.push_str("(known after apply)"),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_hcl(item, out);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quote(k));
                out.push_str(" = ");
                write_hcl(v, out);
            }
            out.push('}');
        }
    }
}

/// Quotes a string as an HCL string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push('$'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hcl())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_integers_integral() {
        let v = Value::Map(BTreeMap::from([
            ("n".to_string(), Value::Number(16.0)),
            ("s".to_string(), Value::str("a\"b")),
            (
                "l".to_string(),
                Value::List(vec![Value::Bool(true), Value::Null]),
            ),
        ]));
        let json = v.to_json();
        assert_eq!(json.to_string(), r#"{"l":[true,null],"n":16,"s":"a\"b"}"#);
        assert_eq!(Value::from_json(&json), v);
    }

    #[test]
    fn unknown_is_found_at_any_depth() {
        let v = Value::List(vec![Value::Map(BTreeMap::from([(
            "id".to_string(),
            Value::Unknown,
        )]))]);
        assert!(v.has_unknown());
        assert!(!Value::str("x").has_unknown());
    }

    #[test]
    fn hcl_rendering_quotes_strings() {
        assert_eq!(Value::str("a\nb").to_hcl(), r#""a\nb""#);
        assert_eq!(Value::Number(2.5).to_hcl(), "2.5");
        assert_eq!(Value::Unknown.to_hcl(), "(known after apply)");
    }
}
