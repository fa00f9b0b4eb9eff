//! What every IAM type shares: policy documents as IAM returns them (URL-encoded) turned
//! back into the text state keeps, waiting out IAM's eventual consistency, tags (with
//! keel's ownership tags encoded into the characters IAM accepts), generated names and
//! dates.

use crate::providers::ProviderError;
use crate::providers::aws::wait::{Patience, retry_while};
use crate::providers::policy::keep_prior;
use crate::value::Value;
use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
use aws_sdk_iam::types::Tag;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

pub(super) type Result<T> = std::result::Result<T, ProviderError>;

/// A policy document as IAM answers it. Get* calls return documents URL-encoded (RFC 3986);
/// a document that already parses as JSON (as some emulators send it) is taken as is.
pub(super) fn decode_document(raw: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(raw).is_ok() {
        return raw.to_string();
    }
    percent_decode(raw)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The document state records: the prior text when the cloud's copy means the same (so a
/// re-plan shows no change), otherwise the cloud's copy, decoded.
pub(super) fn document(prior: &Value, cloud_raw: &str) -> Value {
    Value::str(keep_prior(prior.as_str(), decode_document(cloud_raw)))
}

/// How long keel waits for IAM to make something it just created visible everywhere.
/// IAM usually settles within seconds; Terraform allows two minutes. Keel gives it 60
/// seconds, so a name that really does not exist fails within a minute.
pub(super) const PROPAGATION: Patience = Patience {
    timeout: Duration::from_secs(60),
    first_pause: Duration::from_millis(200),
    max_pause: Duration::from_secs(5),
};

/// Answers IAM gives while something created a moment ago has not reached every endpoint:
/// a trust policy naming a new role ("Invalid principal"), or the new role, policy or
/// profile not found yet.
pub(super) fn not_yet_visible(e: &ProviderError) -> bool {
    match e.code.as_deref() {
        Some("NoSuchEntity") => true,
        Some("MalformedPolicyDocument") => e.message.contains("Invalid principal"),
        _ => false,
    }
}

/// Runs `op`, waiting out IAM propagation ([`not_yet_visible`]) for at most
/// [`PROPAGATION`].
pub(super) async fn settled<T, F, Fut>(op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_while(not_yet_visible, PROPAGATION, op).await
}

/// Is this the answer for something that does not exist?
pub(super) fn is_missing(e: &ProviderError) -> bool {
    e.code.as_deref() == Some("NoSuchEntity")
}

/// IAM tag values may hold only letters, digits, spaces and `_.:/=+-@`, so keel's own tags
/// (`keel:address` can read `aws_iam_role.worker["a"]`) are stored with every other
/// byte, and `+` itself, written `+XX`. [`decode_tag`] undoes it.
pub(super) fn encode_tag(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || " _.:/=-@".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("+{b:02X}"));
            }
        }
    }
    out
}

pub(super) fn decode_tag(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'+'
            && let Some(b) = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_keel_key(key: &str) -> bool {
    key.starts_with("keel:")
}

/// Tags to send to IAM.
pub(super) fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            let v = if is_keel_key(k) {
                encode_tag(v)
            } else {
                v.clone()
            };
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::new(format!("IAM tag {k}: {e}")))
        })
        .collect()
}

/// Tags as IAM holds them, keel's own decoded.
pub(super) fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            let v = if is_keel_key(t.key()) {
                decode_tag(t.value())
            } else {
                t.value().to_string()
            };
            (t.key().to_string(), v)
        })
        .collect()
}

/// `tags` as state records it. A prior that never had `tags` (a resource read from its
/// id alone, as an import does) takes every tag but keel's own, as Terraform's import
/// does; otherwise the configured keys with the cloud's values.
pub(super) fn user_tags(prior: &Value, cloud: &BTreeMap<String, String>) -> Value {
    if prior.get_opt("tags").is_some() {
        return super::super::user_tags(prior, cloud);
    }
    let own: BTreeMap<String, Value> = cloud
        .iter()
        .filter(|(k, _)| !is_keel_key(k))
        .map(|(k, v)| (k.clone(), Value::str(v)))
        .collect();
    if own.is_empty() {
        Value::Null
    } else {
        Value::Map(own)
    }
}

/// A name for a resource whose configuration gives only `name_prefix`, or neither, made
/// the way Terraform makes them: the prefix and 26 characters unique in time.
pub(super) fn name_of(config: &Value) -> String {
    match config.get("name").as_str() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => prefixed_unique_id(config.get("name_prefix").as_str().unwrap_or("keel-")),
    }
}

/// `prefix` + a UTC timestamp to the tenth of a millisecond (18 digits) + 8 random hex
/// digits, as Terraform's `PrefixedUniqueId` forms ids and generated names.
pub(super) fn prefixed_unique_id(prefix: &str) -> String {
    let stamp: String = humantime::format_rfc3339_micros(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .take(18)
        .collect();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{stamp}{}", &random[..8])
}

pub(super) fn date(d: Option<&DateTime>) -> Value {
    d.and_then(|d| d.fmt(DateTimeFormat::DateTime).ok())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

pub(super) fn opt_str(s: Option<&str>) -> Value {
    s.filter(|s| !s.is_empty())
        .map(Value::str)
        .unwrap_or(Value::Null)
}

pub(super) fn number(v: &Value) -> Option<i32> {
    match v {
        Value::Number(n) => Some(*n as i32),
        _ => None,
    }
}

/// The state after an in-place update: what state recorded, with every configured
/// attribute as the update just made it.
pub(super) fn updated(prior: &Value, config: &Value) -> Value {
    let mut map = prior.as_map().cloned().unwrap_or_default();
    if let Some(c) = config.as_map() {
        map.extend(c.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Map(map)
}

/// `value` with the attributes in `keys` that it lacks taken from `config`: for a create
/// whose answer leaves out something that was sent.
pub(super) fn fill_from(value: Value, config: &Value, keys: &[&str]) -> Value {
    let Value::Map(mut map) = value else {
        return value;
    };
    for k in keys {
        let sent = config.get(k);
        if map.get(*k).is_none_or(Value::is_null) && !sent.is_null() {
            map.insert(k.to_string(), sent.clone());
        }
    }
    Value::Map(map)
}

/// Builds a map value from pairs.
pub(super) fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn documents_are_url_decoded_unless_already_json() {
        let raw = "%7B%22Version%22%3A%20%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_document(raw),
            r#"{"Version": "2012-10-17","Statement":[]}"#
        );
        let plain = r#"{"Condition":{"StringLike":{"s3:prefix":"home/%2A"}}}"#;
        assert_eq!(decode_document(plain), plain);
    }

    #[test]
    fn the_users_text_survives_a_reformatted_cloud_copy() {
        let user = Value::str(
            "{\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"*\"},\n  \"Version\": \"2012-10-17\"\n}",
        );
        let cloud = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Resource%22%3A%22%2A%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Effect%22%3A%22Allow%22%7D%5D%7D";
        assert_eq!(document(&user, cloud), user);
        let changed = cloud.replace("GetObject", "PutObject");
        assert_eq!(
            document(&user, &changed).as_str().unwrap(),
            r#"{"Version":"2012-10-17","Statement":[{"Resource":"*","Action":"s3:PutObject","Effect":"Allow"}]}"#
        );
    }

    #[test]
    fn keel_tags_round_trip_through_the_characters_iam_allows() {
        for address in [
            "aws_iam_role.worker[0]",
            "module.iam.aws_iam_role.r[\"a b+c\"]",
            "aws_iam_role.plain",
            "aws_iam_role.ü[\"日本\"]",
        ] {
            let encoded = encode_tag(address);
            assert!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)),
                "{encoded}"
            );
            assert_eq!(decode_tag(&encoded), address);
        }
        assert_eq!(encode_tag("aws_iam_role.plain"), "aws_iam_role.plain");
        assert_eq!(encode_tag("aws_iam_role.w[0]"), "aws_iam_role.w+5B0+5D");
    }

    #[test]
    fn only_keel_tags_are_encoded() {
        let tags = BTreeMap::from([
            ("keel:address".to_string(), "aws_iam_role.r[1]".to_string()),
            ("team".to_string(), "a+b".to_string()),
        ]);
        let sent = iam_tags(&tags).unwrap();
        let by_key: BTreeMap<&str, &str> = sent.iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(by_key["keel:address"], "aws_iam_role.r+5B1+5D");
        assert_eq!(by_key["team"], "a+b");
        assert_eq!(tags_of(&sent), tags);
    }

    #[test]
    fn an_imported_resource_takes_every_tag_but_keels() {
        let cloud = BTreeMap::from([
            ("keel:stack".to_string(), "s".to_string()),
            ("team".to_string(), "ml".to_string()),
        ]);
        let imported = object(vec![("id", Value::str("r"))]);
        assert_eq!(
            user_tags(&imported, &cloud),
            object(vec![("team", Value::str("ml"))])
        );
        let managed = object(vec![("tags", Value::Null)]);
        assert_eq!(user_tags(&managed, &cloud), Value::Null);
    }

    #[test]
    fn generated_names_are_the_prefix_and_26_characters() {
        let n = name_of(&object(vec![("name_prefix", Value::str("gpu-"))]));
        assert!(n.starts_with("gpu-") && n.len() == 4 + 26, "{n}");
        let a = prefixed_unique_id("r-");
        let b = prefixed_unique_id("r-");
        assert_ne!(a, b);
        assert_eq!(
            name_of(&object(vec![("name", Value::str("fixed"))])),
            "fixed"
        );
        assert!(name_of(&Value::Null).starts_with("keel-"));
    }

    #[test]
    fn a_create_answer_is_completed_from_what_was_sent() {
        let answer = object(vec![
            ("description", Value::Null),
            ("path", Value::str("/")),
        ]);
        let config = object(vec![
            ("description", Value::str("sent")),
            ("path", Value::str("/other/")),
        ]);
        let filled = fill_from(answer, &config, &["description", "path"]);
        assert_eq!(filled.get("description"), &Value::str("sent"));
        assert_eq!(filled.get("path"), &Value::str("/"), "the answer wins");
    }

    fn quick() -> Patience {
        Patience {
            timeout: Duration::from_millis(200),
            first_pause: Duration::from_millis(1),
            max_pause: Duration::from_millis(4),
        }
    }

    #[tokio::test]
    async fn a_new_principal_is_waited_for_and_other_errors_are_not() {
        let attempts = Cell::new(0);
        let out = retry_while(not_yet_visible, quick(), || {
            attempts.set(attempts.get() + 1);
            let n = attempts.get();
            async move {
                if n < 3 {
                    Err(ProviderError::with_code(
                        "MalformedPolicyDocument",
                        "CreateRole: Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/a\"",
                    ))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out, Ok(3));

        attempts.set(0);
        let out: Result<()> = retry_while(not_yet_visible, quick(), || {
            attempts.set(attempts.get() + 1);
            async {
                Err(ProviderError::with_code(
                    "MalformedPolicyDocument",
                    "CreateRole: Syntax errors in policy.",
                ))
            }
        })
        .await;
        assert_eq!(attempts.get(), 1);
        assert!(out.is_err());
    }

    #[tokio::test]
    async fn waiting_is_bounded_and_says_so() {
        let attempts = Cell::new(0);
        let out: Result<()> = retry_while(not_yet_visible, quick(), || {
            attempts.set(attempts.get() + 1);
            async {
                Err(ProviderError::with_code(
                    "NoSuchEntity",
                    "GetRole: Role r not found",
                ))
            }
        })
        .await;
        let e = out.unwrap_err();
        assert_eq!(e.code.as_deref(), Some("NoSuchEntity"));
        assert!(e.message.contains("after retrying for"), "{}", e.message);
        assert!(
            attempts.get() > 2 && attempts.get() < 200,
            "{}",
            attempts.get()
        );
    }
}
