//! Bucket rules (encryption, public access, TLS-only policy, versioning) and KMS key
//! rotation. A bucket's settings live in separate resources whose `bucket` refers to it;
//! they are matched by reference, or by the bucket's name when it is known.

use super::Hit;
use crate::guard::document::{self, Document, condition_values};
use crate::guard::settings::RuleConfig;
use crate::guard::view::{Inventory, Planned, Target, first};
use crate::value::Value;
use std::collections::HashMap;

/// A bucket's settings resources of one type, by bucket address.
struct Attached<'i, 'a> {
    by_bucket: HashMap<String, Vec<&'i Planned<'a>>>,
    /// Some resource of the type names a bucket that cannot be told yet: a bucket
    /// without one may have it after all.
    unresolved: bool,
}

impl<'i, 'a> Attached<'i, 'a> {
    fn of(inv: &'i Inventory<'a>, type_: &str) -> Attached<'i, 'a> {
        let mut by_bucket: HashMap<String, Vec<&'i Planned<'a>>> = HashMap::new();
        let mut unresolved = false;
        for p in inv.of_type(type_) {
            match inv.resolve(p.get("bucket"), &["aws_s3_bucket"], &["bucket", "id"]) {
                Target::Resource(b, _) => by_bucket.entry(b.addr.to_string()).or_default().push(p),
                Target::Unknown => unresolved = true,
                Target::Outside => {}
            }
        }
        Attached {
            by_bucket,
            unresolved,
        }
    }

    fn get(&self, bucket: &Planned) -> &[&'i Planned<'a>] {
        self.by_bucket
            .get(&bucket.addr.to_string())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// How a fix refers to the bucket.
fn bucket_ref(b: &Planned) -> String {
    format!("bucket = {}.{}.id", b.addr.type_, b.addr.name)
}

const SSE: &[&str] = &["aws:kms", "aws:kms:dsse", "AES256"];

pub fn encryption(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let configs = Attached::of(inv, "aws_s3_bucket_server_side_encryption_configuration");
    let mut hits = Vec::new();
    for b in inv.of_type("aws_s3_bucket") {
        let attached = configs.get(b);
        if attached.is_empty() {
            if !configs.unresolved {
                hits.push(
                    Hit::new(b.addr, "no server-side encryption configuration: S3 falls back to SSE-S3 with a key you do not control")
                        .fix(format!("add an aws_s3_bucket_server_side_encryption_configuration with {} and sse_algorithm = \"aws:kms\"", bucket_ref(b))),
                );
            }
            continue;
        }
        for c in attached {
            for rule in c.get("rule").as_list().unwrap_or(&[]) {
                let Some(default) = first(rule.get("apply_server_side_encryption_by_default"))
                else {
                    continue;
                };
                if let Some(alg) = default.get("sse_algorithm").as_str()
                    && !SSE.contains(&alg)
                {
                    hits.push(
                        Hit::new(
                            c.addr,
                            format!("encrypts {} with \"{alg}\", not SSE-KMS or AES256", b.addr),
                        )
                        .at("rule"),
                    );
                }
            }
        }
    }
    hits
}

pub fn public_access_block(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let blocks = Attached::of(inv, "aws_s3_bucket_public_access_block");
    if blocks.unresolved {
        return Vec::new();
    }
    inv.of_type("aws_s3_bucket")
        .filter(|b| blocks.get(b).is_empty())
        .map(|b| {
            Hit::new(
                b.addr,
                "no public access block: the bucket relies on the account's and AWS's defaults",
            )
            .fix(format!(
                "add an aws_s3_bucket_public_access_block with {} and all four settings true",
                bucket_ref(b)
            ))
        })
        .collect()
}

const FLAGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

pub fn public_access(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for p in inv.of_type("aws_s3_bucket_public_access_block") {
        let off: Vec<&str> = FLAGS
            .iter()
            .copied()
            .filter(|f| p.get(f).as_bool() != Some(true) && !p.get(f).has_unknown())
            .collect();
        if let Some(&at) = off.first() {
            let bucket = match inv.resolve(p.get("bucket"), &["aws_s3_bucket"], &["bucket", "id"]) {
                Target::Resource(b, _) => b.addr.to_string(),
                _ => "its bucket".to_string(),
            };
            hits.push(
                Hit::new(
                    p.addr,
                    format!(
                        "leaves public access to {bucket} open: {} not true",
                        off.join(", ")
                    ),
                )
                .at(at),
            );
        }
    }
    hits
}

/// Does one of the bucket's policies deny requests that are not TLS (and, with `min`,
/// TLS older than `min`)? `None` when a policy is not known yet.
fn denies_plain_http(policies: &[&Planned], min: Option<f64>) -> Option<(bool, bool)> {
    let (mut tls, mut version) = (false, min.is_none());
    for p in policies {
        let statements = match document::read(p.get("policy")) {
            Document::Parsed(s) => s,
            Document::Unknown => return None,
            Document::Absent | Document::Invalid => continue,
        };
        for s in statements.iter().filter(|s| !s.allow) {
            let everyone = s.principals.iter().any(|p| p == "*");
            let all_s3 = s.covers_action("s3:GetObject") && s.covers_action("s3:PutObject");
            if !(everyone && all_s3) {
                continue;
            }
            if condition_values(&s.condition, "Bool", "aws:SecureTransport")
                .iter()
                .any(|v| v == "false")
            {
                tls = true;
            }
            if let Some(min) = min
                && condition_values(&s.condition, "NumericLessThan", "s3:TlsVersion")
                    .iter()
                    .filter_map(|v| v.parse::<f64>().ok())
                    .any(|v| v >= min)
            {
                version = true;
            }
        }
    }
    Some((tls, version))
}

pub fn tls_only(inv: &Inventory, rc: &RuleConfig) -> Vec<Hit> {
    let policies = Attached::of(inv, "aws_s3_bucket_policy");
    let min = rc
        .min_tls_version
        .as_deref()
        .and_then(|v| v.parse::<f64>().ok());
    let mut hits = Vec::new();
    for b in inv.of_type("aws_s3_bucket") {
        let attached = policies.get(b);
        if attached.is_empty() {
            if !policies.unresolved {
                hits.push(
                    Hit::new(b.addr, "no bucket policy denies requests without TLS (aws:SecureTransport)")
                        .fix(format!("add an aws_s3_bucket_policy with {} and a Deny statement for Principal \"*\", Action \"s3:*\", Condition {{ Bool = {{ \"aws:SecureTransport\" = \"false\" }} }}", bucket_ref(b))),
                );
            }
            continue;
        }
        let Some((tls, version)) = denies_plain_http(attached, min) else {
            continue;
        };
        let at = attached[0];
        if !tls {
            hits.push(
                Hit::new(
                    at.addr,
                    format!(
                        "the policy of {} does not deny requests without TLS (aws:SecureTransport)",
                        b.addr
                    ),
                )
                .at("policy"),
            );
        }
        if !version {
            let v = rc.min_tls_version.clone().unwrap_or_default();
            hits.push(
                Hit::new(at.addr, format!("the policy of {} does not deny TLS older than {v} (s3:TlsVersion)", b.addr))
                    .fix(format!("add a Deny statement for Principal \"*\", Action \"s3:*\", Condition {{ NumericLessThan = {{ \"s3:TlsVersion\" = \"{v}\" }} }}"))
                    .at("policy"),
            );
        }
    }
    hits
}

pub fn versioning(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let configs = Attached::of(inv, "aws_s3_bucket_versioning");
    let mut hits = Vec::new();
    for b in inv.of_type("aws_s3_bucket") {
        let attached = configs.get(b);
        if attached.is_empty() {
            if !configs.unresolved {
                hits.push(
                    Hit::new(b.addr, "versioning is off: an overwrite or delete loses the object")
                        .fix(format!("add an aws_s3_bucket_versioning with {} and versioning_configuration {{ status = \"Enabled\" }}", bucket_ref(b))),
                );
            }
            continue;
        }
        for v in attached {
            let status = first(v.get("versioning_configuration")).map(|c| c.get("status"));
            if let Some(Value::String(s)) = status
                && s != "Enabled"
            {
                hits.push(
                    Hit::new(
                        v.addr,
                        format!("versioning of {} is \"{s}\", not \"Enabled\"", b.addr),
                    )
                    .at("versioning_configuration"),
                );
            }
        }
    }
    hits
}

pub fn kms_rotation(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    inv.of_type("aws_kms_key")
        .filter(|k| {
            let symmetric = matches!(k.get("customer_master_key_spec"), Value::Null)
                || k.get("customer_master_key_spec").as_str() == Some("SYMMETRIC_DEFAULT");
            let encrypts = matches!(k.get("key_usage"), Value::Null)
                || k.get("key_usage").as_str() == Some("ENCRYPT_DECRYPT");
            symmetric && encrypts && k.get("enable_key_rotation").as_bool() == Some(false)
        })
        .map(|k| Hit::new(k.addr, "key rotation is off").at("enable_key_rotation"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{hits, hits_with, lines};

    const KEY: &str = r#"
resource "aws_kms_key" "data" {
  enable_key_rotation = true
}
"#;

    fn bucket_with(extra: &str) -> String {
        format!(
            r#"{KEY}
resource "aws_s3_bucket" "data" {{
  bucket = "data"
}}
{extra}
"#
        )
    }

    const SSE_KMS: &str = r#"
resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
  }
}
"#;

    #[test]
    fn encryption_is_found_through_the_buckets_unknown_id() {
        assert_eq!(
            hits("s3-encryption", &bucket_with("")),
            [
                "aws_s3_bucket.data: no server-side encryption configuration: S3 falls back to SSE-S3 with a key you do not control"
            ]
        );
        assert!(hits("s3-encryption", &bucket_with(SSE_KMS)).is_empty());
    }

    #[test]
    fn encryption_of_another_bucket_does_not_count() {
        let other = SSE_KMS
            .replace("aws_s3_bucket.data.id", "aws_s3_bucket.other.id")
            .replace("\"data\" {", "\"other\" {");
        let hcl = bucket_with(&format!(
            "resource \"aws_s3_bucket\" \"other\" {{}}\n{other}"
        ));
        assert_eq!(
            hits("s3-encryption", &hcl),
            [
                "aws_s3_bucket.data: no server-side encryption configuration: S3 falls back to SSE-S3 with a key you do not control"
            ]
        );
    }

    #[test]
    fn encryption_follows_for_each_instances() {
        let hcl = r#"
resource "aws_s3_bucket" "lake" {
  for_each = toset(["raw", "curated"])
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  for_each = toset(["raw"])
  bucket   = aws_s3_bucket.lake[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}
"#;
        assert_eq!(
            hits("s3-encryption", hcl),
            [
                "aws_s3_bucket.lake[\"curated\"]: no server-side encryption configuration: S3 falls back to SSE-S3 with a key you do not control"
            ]
        );
    }

    const PAB: &str = r#"
resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.bucket
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"#;

    #[test]
    fn a_bucket_without_a_public_access_block_warns() {
        assert_eq!(
            hits("s3-public-access-block", &bucket_with("")),
            [
                "aws_s3_bucket.data: no public access block: the bucket relies on the account's and AWS's defaults"
            ]
        );
        assert!(hits("s3-public-access-block", &bucket_with(PAB)).is_empty());
    }

    #[test]
    fn a_public_access_block_with_a_setting_off_denies() {
        let open = PAB.replace(
            "restrict_public_buckets = true",
            "restrict_public_buckets = false",
        );
        assert_eq!(
            hits("s3-public-access", &bucket_with(&open)),
            [
                "aws_s3_bucket_public_access_block.data: leaves public access to aws_s3_bucket.data open: restrict_public_buckets not true"
            ]
        );
        // A setting left out is false.
        let missing = PAB.replace("  ignore_public_acls      = true\n", "");
        assert_eq!(hits("s3-public-access", &bucket_with(&missing)).len(), 1);
        assert!(hits("s3-public-access", &bucket_with(PAB)).is_empty());
    }

    const TLS: &str = r#"
resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
"#;

    #[test]
    fn a_tls_only_policy_is_read_although_it_holds_the_buckets_unknown_arn() {
        assert!(hits("s3-tls-only", &bucket_with(TLS)).is_empty());
        assert_eq!(
            hits("s3-tls-only", &bucket_with("")),
            [
                "aws_s3_bucket.data: no bucket policy denies requests without TLS (aws:SecureTransport)"
            ]
        );
        let allow = TLS.replace("\"Deny\"", "\"Allow\"");
        assert_eq!(
            hits("s3-tls-only", &bucket_with(&allow)),
            [
                "aws_s3_bucket_policy.data: the policy of aws_s3_bucket.data does not deny requests without TLS (aws:SecureTransport)"
            ]
        );
    }

    /// The TLS-only policy as `data "aws_iam_policy_document"` writes it: the plan reads
    /// the document during apply (the bucket's ARN is unknown), so the guard renders it.
    fn tls_document(effect: &str, min_tls: bool) -> String {
        let version = if min_tls {
            r#"
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["${aws_s3_bucket.data.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }"#
        } else {
            ""
        };
        format!(
            r#"
data "aws_iam_policy_document" "tls_only" {{
  statement {{
    sid       = "DenyInsecureTransport"
    effect    = "{effect}"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.data.arn, "${{aws_s3_bucket.data.arn}}/*"]
    principals {{
      type        = "*"
      identifiers = ["*"]
    }}
    condition {{
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }}
  }}{version}
}}

resource "aws_s3_bucket_policy" "data" {{
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.tls_only.json
}}
"#
        )
    }

    #[test]
    fn a_tls_only_policy_built_by_a_policy_document_data_source_is_read() {
        assert!(hits("s3-tls-only", &bucket_with(&tls_document("Deny", false))).is_empty());
        assert_eq!(
            hits("s3-tls-only", &bucket_with(&tls_document("Allow", false))),
            [
                "aws_s3_bucket_policy.data: the policy of aws_s3_bucket.data does not deny requests without TLS (aws:SecureTransport)"
            ]
        );
        let min =
            |rc: &mut crate::guard::settings::RuleConfig| rc.min_tls_version = Some("1.2".into());
        assert_eq!(
            lines(hits_with(
                "s3-tls-only",
                &bucket_with(&tls_document("Deny", false)),
                min
            )),
            [
                "aws_s3_bucket_policy.data: the policy of aws_s3_bucket.data does not deny TLS older than 1.2 (s3:TlsVersion)"
            ]
        );
        assert!(
            hits_with(
                "s3-tls-only",
                &bucket_with(&tls_document("Deny", true)),
                min
            )
            .is_empty()
        );
    }

    #[test]
    fn a_minimum_tls_version_needs_its_own_deny() {
        let min =
            |rc: &mut crate::guard::settings::RuleConfig| rc.min_tls_version = Some("1.2".into());
        assert_eq!(
            lines(hits_with("s3-tls-only", &bucket_with(TLS), min)),
            [
                "aws_s3_bucket_policy.data: the policy of aws_s3_bucket.data does not deny TLS older than 1.2 (s3:TlsVersion)"
            ]
        );
        let both = TLS.replace(
            "    }]\n",
            r#"    }, {
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = ["s3:*"]
      Resource  = "${aws_s3_bucket.data.arn}/*"
      Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
    }]
"#,
        );
        assert!(hits_with("s3-tls-only", &bucket_with(&both), min).is_empty());
    }

    #[test]
    fn versioning_must_be_enabled() {
        let v = |status: &str| {
            format!(
                r#"
resource "aws_s3_bucket_versioning" "data" {{
  bucket = aws_s3_bucket.data.id
  versioning_configuration {{
    status = "{status}"
  }}
}}
"#
            )
        };
        assert!(hits("s3-versioning", &bucket_with(&v("Enabled"))).is_empty());
        assert_eq!(
            hits("s3-versioning", &bucket_with(&v("Suspended"))),
            [
                "aws_s3_bucket_versioning.data: versioning of aws_s3_bucket.data is \"Suspended\", not \"Enabled\""
            ]
        );
        assert_eq!(
            hits("s3-versioning", &bucket_with("")),
            ["aws_s3_bucket.data: versioning is off: an overwrite or delete loses the object"]
        );
    }

    #[test]
    fn symmetric_keys_must_rotate() {
        assert!(hits("kms-rotation", KEY).is_empty());
        assert_eq!(
            hits("kms-rotation", "resource \"aws_kms_key\" \"k\" {}"),
            ["aws_kms_key.k: key rotation is off"]
        );
        // Asymmetric keys cannot rotate.
        let signing = r#"
resource "aws_kms_key" "sign" {
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
}
"#;
        assert!(hits("kms-rotation", signing).is_empty());
    }

    #[test]
    fn buckets_in_a_module_are_matched_through_module_variables() {
        let (_root, config) = crate::config::testing::load_ok(&[
            (
                "stack/main.hcl",
                r#"
module "lake" {
  source = "../modules/bucket"
}
resource "aws_s3_bucket_versioning" "v" {
  bucket = module.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#,
            ),
            (
                "modules/bucket/main.tf",
                r#"
resource "aws_s3_bucket" "this" {}
output "id" {
  value = aws_s3_bucket.this.id
}
"#,
            ),
        ]);
        let graph = crate::graph::build(&config).unwrap();
        let inputs = crate::eval::Inputs::default();
        let plan = crate::plan::plan(
            &config,
            &graph,
            &inputs,
            &crate::state::State::new("s"),
            false,
        )
        .unwrap();
        let inv = crate::guard::view::Inventory::build(&config, &graph, &inputs, &plan);
        let rule = super::super::find("s3-versioning").unwrap();
        let rc = crate::guard::settings::RuleConfig::default_for(rule);
        assert!((rule.check)(&inv, &rc).is_empty());
    }
}
