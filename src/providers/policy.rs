//! JSON policy documents (IAM, S3 bucket, KMS key policies) compared by meaning, never as
//! raw strings: AWS hands back a policy re-serialised, with keys reordered, whitespace
//! gone, a one-element list collapsed to a string and `Statement` sometimes a lone object.
//! Two documents that grant the same thing are equal here, so an apply a moment ago
//! never shows up as drift and a plan never proposes an update for formatting.

use serde_json::Value as Json;

/// Are two policy documents the same grant? Documents that do not parse are compared as
/// text.
pub fn equivalent(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Json>(a),
        serde_json::from_str::<Json>(b),
    ) {
        (Ok(x), Ok(y)) => canonical(&x) == canonical(&y),
        _ => a.trim() == b.trim(),
    }
}

/// The document a read should record: the prior (configured) text when the cloud's copy
/// means the same, so state keeps the user's formatting; otherwise the cloud's copy.
pub fn keep_prior(prior: Option<&str>, cloud: String) -> String {
    match prior {
        Some(p) if equivalent(p, &cloud) => p.to_string(),
        _ => cloud,
    }
}

/// A form in which equivalent documents are identical: object keys sorted, a one-element
/// list the same as its element, lists treated as sets (IAM evaluates every statement,
/// action and resource regardless of order), and `Statement` always a list.
pub fn canonical(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                let mut c = canonical(&m[k]);
                if k == "Statement" && !c.is_array() {
                    c = Json::Array(vec![c]);
                }
                out.insert(k.clone(), c);
            }
            Json::Object(out)
        }
        Json::Array(items) => {
            let mut c: Vec<Json> = items.iter().map(canonical).collect();
            c.sort_by_cached_key(|j| j.to_string());
            c.dedup();
            if c.len() == 1 && !c[0].is_object() {
                c.pop().expect("one element")
            } else {
                Json::Array(c)
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_whitespace_and_single_values_do_not_matter() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}]}"#;
        let b = r#"{
          "Statement": {"Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Action": "s3:GetObject", "Effect": "Allow"},
          "Version": "2012-10-17"
        }"#;
        assert!(equivalent(a, b));
    }

    #[test]
    fn a_different_grant_is_different() {
        let a = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert!(!equivalent(a, b));
        let c = r#"{"Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
        assert!(!equivalent(a, c));
    }

    #[test]
    fn statement_order_does_not_matter() {
        let a = r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"a:1","Resource":"*"},{"Sid":"B","Effect":"Deny","Action":"b:1","Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Sid":"B","Effect":"Deny","Action":"b:1","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"a:1","Resource":"*"}]}"#;
        assert!(equivalent(a, b));
    }

    #[test]
    fn keep_prior_keeps_the_users_text_only_when_equivalent() {
        let user = r#"{ "Statement": [ {"Effect": "Allow", "Action": "s3:*", "Resource": "*"} ] }"#;
        let cloud = r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}]}"#;
        assert_eq!(keep_prior(Some(user), cloud.to_string()), user);
        let changed = r#"{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}"#;
        assert_eq!(keep_prior(Some(user), changed.to_string()), changed);
        assert_eq!(keep_prior(None, cloud.to_string()), cloud);
    }

    #[test]
    fn text_that_is_not_json_compares_as_text() {
        assert!(equivalent("not json ", "not json"));
        assert!(!equivalent("not json", "{}"));
    }
}
