//! Conversions between keel's values and the strings, numbers and flags EC2 takes and
//! answers, shared by the compute types.

use crate::value::Value;
use std::collections::BTreeMap;

pub(super) fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).as_str().map(str::to_string)
}

/// A whole number EC2 takes as an integer (sizes, counts, indexes).
pub(super) fn int(v: &Value, key: &str) -> Option<i32> {
    match v.get(key) {
        Value::Number(n) if n.fract() == 0.0 && n.abs() <= i32::MAX as f64 => Some(*n as i32),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn flag(v: &Value, key: &str) -> Option<bool> {
    v.get(key).as_bool()
}

/// The instances of a nested block, in order.
pub(super) fn items<'a>(v: &'a Value, block: &str) -> &'a [Value] {
    v.get(block).as_list().unwrap_or(&[])
}

/// The only instance of a block that takes at most one.
pub(super) fn first<'a>(v: &'a Value, block: &str) -> Option<&'a Value> {
    items(v, block).first()
}

pub(super) fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

pub(super) fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

pub(super) fn opt_str(s: Option<&str>) -> Value {
    s.map(Value::str).unwrap_or(Value::Null)
}

pub(super) fn opt_int(n: Option<i32>) -> Value {
    n.map(|n| Value::Number(f64::from(n)))
        .unwrap_or(Value::Null)
}

pub(super) fn opt_bool(b: Option<bool>) -> Value {
    b.map(Value::Bool).unwrap_or(Value::Null)
}

/// A block that takes at most one instance, as state keeps it: a list of zero or one.
pub(super) fn block(item: Option<Value>) -> Value {
    Value::List(item.into_iter().collect())
}

/// A set of strings as state keeps it: sorted, without duplicates.
pub(super) fn string_set<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    let mut out: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    out.sort();
    out.dedup();
    Value::List(out.into_iter().map(Value::String).collect())
}

/// Tags without the `aws:` keys AWS adds itself (`aws:ec2launchtemplate:id`, ...), which
/// no one can set or remove and so are no one's to manage.
pub(super) fn own_tags(tags: BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.into_iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// A name no other object has: `prefix` and 26 characters, as Terraform's generated
/// names have.
pub(super) fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..26])
}

/// The account id in an ARN (`arn:aws:iam::123456789012:root`).
pub(super) fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_integers_only_when_whole() {
        let v = object([
            ("a", Value::Number(8.0)),
            ("b", Value::Number(1.5)),
            ("c", Value::str("12")),
        ]);
        assert_eq!(int(&v, "a"), Some(8));
        assert_eq!(int(&v, "b"), None);
        assert_eq!(int(&v, "c"), Some(12));
        assert_eq!(int(&v, "missing"), None);
    }

    #[test]
    fn aws_reserved_tags_are_dropped() {
        let tags = BTreeMap::from([
            ("aws:ec2launchtemplate:id".to_string(), "lt-1".to_string()),
            ("Name".to_string(), "gpu".to_string()),
        ]);
        assert_eq!(
            own_tags(tags),
            BTreeMap::from([("Name".to_string(), "gpu".to_string())])
        );
        assert_eq!(
            account_of("arn:aws:iam::123456789012:root"),
            Some("123456789012")
        );
    }
}
