//! Cost allocation: every taggable resource carries the tags the policy names (its own
//! `tags`, or the provider's `default_tags`). A tag whose value is not known yet counts
//! as present; tags that are unknown as a whole are not judged.

use super::Hit;
use crate::guard::settings::RuleConfig;
use crate::guard::view::Inventory;
use crate::providers::schema;
use crate::value::Value;
use std::collections::BTreeSet;

pub fn required(inv: &Inventory, rc: &RuleConfig) -> Vec<Hit> {
    if rc.tags.is_empty() {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for p in inv.all() {
        if !schema(p.type_()).is_some_and(|s| s.taggable) {
            continue;
        }
        let mut present: BTreeSet<String> = BTreeSet::new();
        for key in ["tags", "tags_all"] {
            match p.get(key) {
                Value::Map(m) => present.extend(
                    m.iter()
                        .filter(|(_, v)| v.as_str() != Some(""))
                        .map(|(k, _)| k.clone()),
                ),
                Value::Null => {}
                _ if key == "tags" => present.extend(rc.tags.iter().cloned()),
                _ => {}
            }
        }
        if let Some(settings) = inv.provider_of(p) {
            present.extend(
                settings
                    .default_tags
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, _)| k.clone()),
            );
        }
        let missing: Vec<&str> = rc
            .tags
            .iter()
            .filter(|t| !present.contains(*t))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            hits.push(
                Hit::new(
                    p.addr,
                    format!("missing cost-allocation tag(s): {}", missing.join(", ")),
                )
                .fix(format!(
                    "add {} to tags, or to default_tags in the provider block",
                    missing.join(", ")
                ))
                .at("tags"),
            );
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::{hits, hits_with, lines};

    const STACK: &str = r#"
provider "aws" {
  default_tags {
    tags = { team = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
  tags       = { experiment = "llama-ft-7" }
}

resource "aws_s3_bucket" "scratch" {}

resource "aws_s3_bucket_versioning" "scratch" {
  bucket = aws_s3_bucket.scratch.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#;

    #[test]
    fn the_default_team_tag_comes_from_default_tags() {
        assert!(hits("required-tags", STACK).is_empty());
        let untagged = STACK.replace("team = \"ml-platform\"", "owner = \"x\"");
        assert_eq!(
            hits("required-tags", &untagged),
            [
                "aws_s3_bucket.scratch: missing cost-allocation tag(s): team",
                "aws_vpc.main: missing cost-allocation tag(s): team",
            ]
        );
    }

    #[test]
    fn configured_tags_are_required_on_every_taggable_resource() {
        let both = |rc: &mut crate::guard::settings::RuleConfig| {
            rc.tags = vec!["team".into(), "experiment".into()]
        };
        // The versioning configuration carries no tags in AWS: not checked.
        assert_eq!(
            lines(hits_with("required-tags", STACK, both)),
            ["aws_s3_bucket.scratch: missing cost-allocation tag(s): experiment"]
        );
    }
}
