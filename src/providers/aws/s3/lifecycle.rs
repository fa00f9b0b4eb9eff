//! `aws_s3_bucket_lifecycle_configuration`: a bucket's lifecycle rules, written whole with
//! PutBucketLifecycleConfiguration and read with one GetBucketLifecycleConfiguration.
//!
//! AWS keeps rules, transitions and noncurrent-version transitions as sets; a read lists
//! them in the order the configuration does (rules by `id`, transitions by storage class),
//! so the order AWS answers in is never a change.

use super::{bucket_of, build_err, first, gone};
use crate::providers::ProviderError;
use crate::providers::aws::{prior_id, sdk_error, string_map};
use crate::providers::schema::{Attr, BlockType, ResourceSchema, Ty, one_of};
use crate::value::Value;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleAndOperator, LifecycleRuleFilter,
    NoncurrentVersionExpiration, NoncurrentVersionTransition, Tag, Transition,
    TransitionStorageClass,
};
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

fn int(v: &Value) -> Option<i32> {
    match v {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i32),
        _ => None,
    }
}

fn long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        _ => None,
    }
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn blocks<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).as_list().unwrap_or(&[])
}

fn num<T: Into<f64>>(v: Option<T>) -> Value {
    v.map(|n| Value::Number(n.into())).unwrap_or(Value::Null)
}

fn text(v: Option<&str>) -> Value {
    v.map(Value::str).unwrap_or(Value::Null)
}

fn parse_date(s: &str) -> Option<DateTime> {
    DateTime::from_str(s, DateTimeFormat::DateTime).ok()
}

fn date_of(v: &Value, what: &str) -> Result<Option<DateTime>> {
    match v.as_str() {
        None => Ok(None),
        Some(s) => parse_date(s).map(Some).ok_or_else(|| {
            ProviderError::new(format!(
                "{what} \"{s}\" is not an RFC 3339 date such as \"2030-01-01T00:00:00Z\""
            ))
        }),
    }
}

/// A date as AWS holds it, in the configured spelling when it is the same instant.
fn date_value(cloud: Option<&DateTime>, prior: &Value) -> Value {
    let Some(d) = cloud else {
        return Value::Null;
    };
    if let Some(p) = prior.get("date").as_str()
        && parse_date(p).as_ref() == Some(d)
    {
        return Value::str(p);
    }
    d.fmt(DateTimeFormat::DateTime)
        .map(Value::str)
        .unwrap_or(Value::Null)
}

fn s3_tag(key: &str, value: &str) -> Result<Tag> {
    Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| build_err("lifecycle filter tag", e))
}

/// The rule's filter. A rule with neither `filter` nor the deprecated `prefix` applies to
/// every object: an empty prefix filter, as Terraform sends.
fn filter_of(rule: &Value) -> Result<Option<LifecycleRuleFilter>> {
    let f = first(rule, "filter");
    if f.is_null() {
        return Ok(rule
            .get("prefix")
            .is_null()
            .then(|| LifecycleRuleFilter::builder().prefix("").build()));
    }
    let mut b = LifecycleRuleFilter::builder()
        .set_prefix(str_of(f.get("prefix")))
        .set_object_size_greater_than(long(f.get("object_size_greater_than")))
        .set_object_size_less_than(long(f.get("object_size_less_than")));
    let tag = first(f, "tag");
    let and = first(f, "and");
    if !tag.is_null() {
        b = b.tag(s3_tag(
            tag.get("key").as_str().unwrap_or_default(),
            tag.get("value").as_str().unwrap_or_default(),
        )?);
    }
    if !and.is_null() {
        let mut a = LifecycleRuleAndOperator::builder()
            .set_prefix(str_of(and.get("prefix")))
            .set_object_size_greater_than(long(and.get("object_size_greater_than")))
            .set_object_size_less_than(long(and.get("object_size_less_than")));
        for (k, v) in string_map(and, "tags") {
            a = a.tags(s3_tag(&k, &v)?);
        }
        b = b.and(a.build());
    }
    let nothing = [
        "prefix",
        "object_size_greater_than",
        "object_size_less_than",
    ]
    .iter()
    .all(|k| f.get(k).is_null())
        && tag.is_null()
        && and.is_null();
    if nothing {
        b = b.prefix("");
    }
    Ok(Some(b.build()))
}

// The rule-level `prefix` is deprecated in S3's API and in Terraform, and still works.
#[allow(deprecated)]
fn rule_of(r: &Value) -> Result<LifecycleRule> {
    let id = r.get("id").as_str().unwrap_or_default();
    let mut b = LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::from(
            r.get("status").as_str().unwrap_or("Enabled"),
        ))
        .set_prefix(str_of(r.get("prefix")))
        .set_filter(filter_of(r)?);
    let exp = first(r, "expiration");
    if !exp.is_null() {
        b = b.expiration(
            LifecycleExpiration::builder()
                .set_date(date_of(
                    exp.get("date"),
                    &format!("rule \"{id}\" expiration.date"),
                )?)
                .set_days(int(exp.get("days")))
                .set_expired_object_delete_marker(exp.get("expired_object_delete_marker").as_bool())
                .build(),
        );
    }
    for t in blocks(r, "transition") {
        b = b.transitions(
            Transition::builder()
                .set_date(date_of(
                    t.get("date"),
                    &format!("rule \"{id}\" transition.date"),
                )?)
                .set_days(int(t.get("days")))
                .set_storage_class(
                    t.get("storage_class")
                        .as_str()
                        .map(TransitionStorageClass::from),
                )
                .build(),
        );
    }
    for t in blocks(r, "noncurrent_version_transition") {
        b = b.noncurrent_version_transitions(
            NoncurrentVersionTransition::builder()
                .set_noncurrent_days(int(t.get("noncurrent_days")))
                .set_newer_noncurrent_versions(int(t.get("newer_noncurrent_versions")))
                .set_storage_class(
                    t.get("storage_class")
                        .as_str()
                        .map(TransitionStorageClass::from),
                )
                .build(),
        );
    }
    let nve = first(r, "noncurrent_version_expiration");
    if !nve.is_null() {
        b = b.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .set_noncurrent_days(int(nve.get("noncurrent_days")))
                .set_newer_noncurrent_versions(int(nve.get("newer_noncurrent_versions")))
                .build(),
        );
    }
    let abort = first(r, "abort_incomplete_multipart_upload");
    if !abort.is_null() {
        b = b.abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .set_days_after_initiation(int(abort.get("days_after_initiation")))
                .build(),
        );
    }
    b.build()
        .map_err(|e| build_err(&format!("lifecycle rule \"{id}\""), e))
}

pub async fn put_lifecycle(s3: &Client, config: &Value) -> Result<Value> {
    let bucket = bucket_of(config);
    let rules = blocks(config, "rule")
        .iter()
        .map(rule_of)
        .collect::<Result<Vec<_>>>()?;
    let lifecycle = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| build_err("lifecycle configuration", e))?;
    s3.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .set_expected_bucket_owner(str_of(config.get("expected_bucket_owner")))
        .lifecycle_configuration(lifecycle)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketLifecycleConfiguration", e))?;
    let mut known = config.as_map().cloned().unwrap_or_default();
    known.insert("id".into(), Value::str(&bucket));
    read_lifecycle(s3, &Value::Map(known))
        .await?
        .ok_or_else(|| {
            ProviderError::new(format!(
                "the lifecycle configuration of bucket {bucket} was not there right after keel wrote it"
            ))
        })
}

/// `cloud` in the order of `prior` (matched on `key`), the unmatched ones after.
fn order_like(prior: &[Value], mut cloud: Vec<Value>, key: &str) -> Vec<Value> {
    let mut out = Vec::with_capacity(cloud.len());
    for p in prior {
        if let Some(i) = cloud.iter().position(|c| c.get(key) == p.get(key)) {
            out.push(cloud.remove(i));
        }
    }
    out.extend(cloud);
    out
}

fn filter_value(f: Option<&LifecycleRuleFilter>, prior_rule: &Value) -> Value {
    let Some(f) = f else {
        return Value::List(vec![]);
    };
    let empty = f.prefix().is_none_or(str::is_empty)
        && f.object_size_greater_than().is_none()
        && f.object_size_less_than().is_none()
        && f.tag().is_none()
        && f.and().is_none();
    // The empty filter keel sends for a configured rule without one is no filter block.
    // Read with nothing to go by (an import), it is `filter {}`, the form Terraform
    // recommends for a rule over every object.
    if empty && !prior_rule.is_null() && first(prior_rule, "filter").is_null() {
        return Value::List(vec![]);
    }
    let tag = f
        .tag()
        .map(|t| {
            vec![Value::Map(BTreeMap::from([
                ("key".to_string(), Value::str(t.key())),
                ("value".to_string(), Value::str(t.value())),
            ]))]
        })
        .unwrap_or_default();
    let and = f
        .and()
        .map(|a| {
            let tags = a
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), Value::str(t.value())))
                .collect();
            vec![Value::Map(BTreeMap::from([
                ("prefix".to_string(), text(a.prefix())),
                (
                    "object_size_greater_than".to_string(),
                    num(a.object_size_greater_than().map(|n| n as f64)),
                ),
                (
                    "object_size_less_than".to_string(),
                    num(a.object_size_less_than().map(|n| n as f64)),
                ),
                ("tags".to_string(), Value::Map(tags)),
            ]))]
        })
        .unwrap_or_default();
    Value::List(vec![Value::Map(BTreeMap::from([
        ("prefix".to_string(), text(f.prefix())),
        (
            "object_size_greater_than".to_string(),
            num(f.object_size_greater_than().map(|n| n as f64)),
        ),
        (
            "object_size_less_than".to_string(),
            num(f.object_size_less_than().map(|n| n as f64)),
        ),
        ("tag".to_string(), Value::List(tag)),
        ("and".to_string(), Value::List(and)),
    ]))])
}

#[allow(deprecated)]
fn rule_value(r: &LifecycleRule, prior_rule: &Value) -> Value {
    let expiration = r.expiration().map(|e| {
        Value::Map(BTreeMap::from([
            (
                "date".to_string(),
                date_value(e.date(), first(prior_rule, "expiration")),
            ),
            ("days".to_string(), num(e.days())),
            (
                "expired_object_delete_marker".to_string(),
                e.expired_object_delete_marker()
                    .map(Value::Bool)
                    .unwrap_or(Value::Null),
            ),
        ]))
    });
    let prior_transitions = blocks(prior_rule, "transition");
    let transitions = r
        .transitions()
        .iter()
        .map(|t| {
            let class = t.storage_class().map(|c| c.as_str());
            let prior = prior_transitions
                .iter()
                .find(|p| p.get("storage_class").as_str() == class)
                .unwrap_or(&Value::Null);
            Value::Map(BTreeMap::from([
                ("date".to_string(), date_value(t.date(), prior)),
                ("days".to_string(), num(t.days())),
                ("storage_class".to_string(), text(class)),
            ]))
        })
        .collect();
    let nv_transitions = r
        .noncurrent_version_transitions()
        .iter()
        .map(|t| {
            Value::Map(BTreeMap::from([
                ("noncurrent_days".to_string(), num(t.noncurrent_days())),
                (
                    "newer_noncurrent_versions".to_string(),
                    num(t.newer_noncurrent_versions()),
                ),
                (
                    "storage_class".to_string(),
                    text(t.storage_class().map(|c| c.as_str())),
                ),
            ]))
        })
        .collect();
    let nve = r.noncurrent_version_expiration().map(|e| {
        Value::Map(BTreeMap::from([
            ("noncurrent_days".to_string(), num(e.noncurrent_days())),
            (
                "newer_noncurrent_versions".to_string(),
                num(e.newer_noncurrent_versions()),
            ),
        ]))
    });
    let abort = r.abort_incomplete_multipart_upload().map(|a| {
        Value::Map(BTreeMap::from([(
            "days_after_initiation".to_string(),
            num(a.days_after_initiation()),
        )]))
    });
    let one = |v: Option<Value>| Value::List(v.into_iter().collect());
    Value::Map(BTreeMap::from([
        ("id".to_string(), text(r.id())),
        ("status".to_string(), Value::str(r.status().as_str())),
        ("prefix".to_string(), text(r.prefix())),
        ("filter".to_string(), filter_value(r.filter(), prior_rule)),
        ("expiration".to_string(), one(expiration)),
        (
            "transition".to_string(),
            Value::List(order_like(prior_transitions, transitions, "storage_class")),
        ),
        (
            "noncurrent_version_transition".to_string(),
            Value::List(order_like(
                blocks(prior_rule, "noncurrent_version_transition"),
                nv_transitions,
                "storage_class",
            )),
        ),
        ("noncurrent_version_expiration".to_string(), one(nve)),
        ("abort_incomplete_multipart_upload".to_string(), one(abort)),
    ]))
}

pub async fn read_lifecycle(s3: &Client, prior: &Value) -> Result<Option<Value>> {
    let bucket = prior_id(prior)?;
    let out = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .set_expected_bucket_owner(str_of(prior.get("expected_bucket_owner")))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if gone(e.code(), "NoSuchLifecycleConfiguration") => return Ok(None),
        Err(e) => return Err(sdk_error("GetBucketLifecycleConfiguration", e)),
    };
    let prior_rules = blocks(prior, "rule");
    let rules = out
        .rules()
        .iter()
        .map(|r| {
            let prior_rule = prior_rules
                .iter()
                .find(|p| p.get("id").as_str() == r.id())
                .unwrap_or(&Value::Null);
            rule_value(r, prior_rule)
        })
        .collect();
    Ok(Some(Value::Map(BTreeMap::from([
        ("id".to_string(), Value::str(bucket)),
        ("bucket".to_string(), Value::str(bucket)),
        (
            "expected_bucket_owner".to_string(),
            prior.get("expected_bucket_owner").clone(),
        ),
        (
            "rule".to_string(),
            Value::List(order_like(prior_rules, rules, "id")),
        ),
    ]))))
}

pub async fn delete_lifecycle(s3: &Client, prior: &Value) -> Result<()> {
    let bucket = prior_id(prior)?;
    match s3
        .delete_bucket_lifecycle()
        .bucket(bucket)
        .set_expected_bucket_owner(str_of(prior.get("expected_bucket_owner")))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if gone(e.code(), "NoSuchLifecycleConfiguration") => Ok(()),
        Err(e) => Err(sdk_error("DeleteBucketLifecycle", e)),
    }
}

// Schema: Terraform AWS provider (v5) names.

fn check_status(v: &Value) -> std::result::Result<(), String> {
    one_of(v, &["Enabled", "Disabled"])
}

fn check_storage_class(v: &Value) -> std::result::Result<(), String> {
    one_of(v, TransitionStorageClass::values())
}

fn check_date(v: &Value) -> std::result::Result<(), String> {
    match v.as_str() {
        Some(s) if parse_date(s).is_none() => Err(format!(
            "\"{s}\" is not an RFC 3339 date such as \"2030-01-01T00:00:00Z\""
        )),
        _ => Ok(()),
    }
}

const fn block(
    name: &'static str,
    attrs: &'static [Attr],
    blocks: &'static [BlockType],
    max_items: Option<usize>,
) -> BlockType {
    BlockType {
        name,
        attrs,
        blocks,
        min_items: 0,
        max_items,
        force_new: false,
        computed: false,
    }
}

const FILTER: BlockType = block(
    "filter",
    &[
        Attr::optional("prefix", Ty::String),
        Attr::optional("object_size_greater_than", Ty::Number),
        Attr::optional("object_size_less_than", Ty::Number),
    ],
    &[
        block(
            "tag",
            &[
                Attr::required("key", Ty::String),
                Attr::required("value", Ty::String),
            ],
            &[],
            Some(1),
        ),
        block(
            "and",
            &[
                Attr::optional("prefix", Ty::String),
                Attr::optional("object_size_greater_than", Ty::Number),
                Attr::optional("object_size_less_than", Ty::Number),
                Attr::optional("tags", Ty::StringMap),
            ],
            &[],
            Some(1),
        ),
    ],
    Some(1),
);

const RULE: BlockType = BlockType {
    name: "rule",
    attrs: &[
        Attr::required("id", Ty::String),
        Attr::required("status", Ty::String).check(check_status),
        // Deprecated in Terraform in favour of filter { prefix }; still accepted.
        Attr::optional("prefix", Ty::String),
    ],
    blocks: &[
        FILTER,
        block(
            "expiration",
            &[
                Attr::optional("date", Ty::String).check(check_date),
                Attr::optional("days", Ty::Number),
                Attr::optional("expired_object_delete_marker", Ty::Bool),
            ],
            &[],
            Some(1),
        ),
        block(
            "transition",
            &[
                Attr::optional("date", Ty::String).check(check_date),
                Attr::optional("days", Ty::Number),
                Attr::required("storage_class", Ty::String).check(check_storage_class),
            ],
            &[],
            None,
        ),
        block(
            "noncurrent_version_transition",
            &[
                Attr::optional("newer_noncurrent_versions", Ty::Number),
                Attr::optional("noncurrent_days", Ty::Number),
                Attr::required("storage_class", Ty::String).check(check_storage_class),
            ],
            &[],
            None,
        ),
        block(
            "noncurrent_version_expiration",
            &[
                Attr::optional("newer_noncurrent_versions", Ty::Number),
                Attr::optional("noncurrent_days", Ty::Number),
            ],
            &[],
            Some(1),
        ),
        block(
            "abort_incomplete_multipart_upload",
            &[Attr::optional("days_after_initiation", Ty::Number)],
            &[],
            Some(1),
        ),
    ],
    min_items: 1,
    max_items: None,
    force_new: false,
    computed: false,
};

pub static AWS_S3_BUCKET_LIFECYCLE_CONFIGURATION: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_lifecycle_configuration",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::optional("expected_bucket_owner", Ty::String).force_new(),
        Attr::unmanaged("transition_default_minimum_object_size", Ty::String),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[RULE],
    taggable: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn cloud_order_follows_the_configuration() {
        let prior = vec![
            obj(&[("id", Value::str("b"))]),
            obj(&[("id", Value::str("a"))]),
        ];
        let cloud = vec![
            obj(&[("id", Value::str("a"))]),
            obj(&[("id", Value::str("c"))]),
            obj(&[("id", Value::str("b"))]),
        ];
        let ids: Vec<String> = order_like(&prior, cloud, "id")
            .iter()
            .map(|v| v.get("id").as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["b", "a", "c"]);
    }

    #[test]
    fn a_rule_without_filter_gets_an_empty_prefix_and_reads_back_without_one() {
        let rule = obj(&[
            ("id", Value::str("all")),
            ("status", Value::str("Enabled")),
            ("prefix", Value::Null),
            ("filter", Value::List(vec![])),
        ]);
        let f = filter_of(&rule).unwrap().unwrap();
        assert_eq!(f.prefix(), Some(""));
        assert_eq!(filter_value(Some(&f), &rule), Value::List(vec![]));
        // Written as `filter {}`, it reads back as a filter block.
        let with_block = obj(&[("filter", Value::List(vec![obj(&[("prefix", Value::Null)])]))]);
        assert_eq!(
            filter_value(Some(&f), &with_block)
                .as_list()
                .map(<[Value]>::len),
            Some(1)
        );
    }

    #[test]
    fn dates_keep_the_configured_spelling_of_the_same_instant() {
        let d = parse_date("2030-01-01T00:00:00Z").unwrap();
        let prior = obj(&[("date", Value::str("2030-01-01T00:00:00.000Z"))]);
        assert_eq!(
            date_value(Some(&d), &prior),
            Value::str("2030-01-01T00:00:00.000Z")
        );
        assert_eq!(
            date_value(Some(&d), &Value::Null),
            Value::str("2030-01-01T00:00:00Z")
        );
        assert!(check_date(&Value::str("2030-01-01")).is_err());
    }
}
