//! `aws_key_pair`: an SSH public key imported into EC2 for instances to trust. Terraform's
//! id is the key's name; tags go on its `key-...` id.

use super::values::{object, opt_str, string, unique_name};
use crate::providers::ProviderError;
use crate::providers::aws::ec2::{
    by_ids, filter_any, ids_of, merge_config, retag, tag_spec, tags_of,
};
use crate::providers::aws::{AwsProvider, TAGS, TAGS_ALL, prior_id, sdk_error, string_map};
use crate::providers::aws::{tags_value, user_tags};
use crate::providers::schema::{Attr, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{KeyPairInfo, ResourceType};

type Result<T> = std::result::Result<T, ProviderError>;

pub static AWS_KEY_PAIR: ResourceSchema = ResourceSchema {
    type_name: "aws_key_pair",
    attrs: &[
        Attr::optional_computed("key_name", Ty::String).force_new(),
        Attr::optional("key_name_prefix", Ty::String).force_new(),
        Attr::required("public_key", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("key_pair_id", Ty::String),
        Attr::computed("fingerprint", Ty::String),
        Attr::computed("key_type", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub(super) async fn create(p: &AwsProvider, config: &Value) -> Result<Value> {
    let name = string(config, "key_name").unwrap_or_else(|| {
        unique_name(&string(config, "key_name_prefix").unwrap_or_else(|| "keel-".to_string()))
    });
    let public_key = string(config, "public_key").unwrap_or_default();
    p.ec2
        .import_key_pair()
        .key_name(&name)
        .public_key_material(Blob::new(public_key.into_bytes()))
        .tag_specifications(tag_spec(
            ResourceType::KeyPair,
            &string_map(config, "tags_all"),
        ))
        .send()
        .await
        .map_err(|e| sdk_error("ImportKeyPair", e))?;
    let known = object([("id", Value::str(&name))]);
    read_many(p, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| {
            ProviderError::new(format!(
                "key pair {name} vanished right after it was imported"
            ))
        })
}

/// The account the provider's credentials belong to, for ARNs EC2 does not hand out: one
/// GetCallerIdentity call.
async fn account(p: &AwsProvider) -> Result<String> {
    let me = p
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_error("GetCallerIdentity", e))?;
    Ok(me.account().unwrap_or_default().to_string())
}

/// Reads key pairs with one DescribeKeyPairs call per page of 200 names, plus one
/// GetCallerIdentity for the account in their ARNs.
pub(super) async fn read_many(p: &AwsProvider, priors: &[Value]) -> Result<Vec<Option<Value>>> {
    let names = ids_of(priors)?;
    let found = describe(&p.ec2, &names).await?;
    if found.is_empty() {
        return Ok(vec![None; priors.len()]);
    }
    let account = account(p).await?;
    let region = p.region();
    Ok(priors
        .iter()
        .zip(&names)
        .map(|(prior, name)| {
            let k = found.get(name)?;
            let tags = tags_of(k.tags());
            let arn = format!("arn:aws:ec2:{region}:{account}:key-pair/{name}");
            Some(object([
                ("id", Value::str(name)),
                ("key_name", Value::str(name)),
                ("key_name_prefix", prior.get("key_name_prefix").clone()),
                ("public_key", public_key(prior, k.public_key())),
                ("key_pair_id", opt_str(k.key_pair_id())),
                ("fingerprint", opt_str(k.key_fingerprint())),
                ("key_type", opt_str(k.key_type().map(|t| t.as_str()))),
                ("arn", Value::str(arn)),
                ("tags", user_tags(prior, &tags)),
                ("tags_all", tags_value(&tags)),
            ]))
        })
        .collect())
}

async fn describe(
    ec2: &Client,
    names: &[String],
) -> Result<std::collections::HashMap<String, KeyPairInfo>> {
    by_ids(names, |chunk| async move {
        let out = ec2
            .describe_key_pairs()
            .filters(filter_any("key-name", &chunk))
            .include_public_key(true)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeKeyPairs", e))?;
        Ok(out
            .key_pairs()
            .iter()
            .filter_map(|k| Some((k.key_name()?.to_string(), k.clone())))
            .collect())
    })
    .await
}

/// EC2 answers the key it stored, sometimes with another comment after it; when the key
/// itself (type and material) is the one state recorded, state keeps its own spelling.
fn public_key(prior: &Value, cloud: Option<&str>) -> Value {
    let key = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    match (prior.get("public_key").as_str(), cloud) {
        (Some(p), Some(c)) if key(p) == key(c) => Value::str(p),
        (_, Some(c)) => Value::str(c.trim()),
        (p, None) => opt_str(p),
    }
}

pub(super) async fn update(p: &AwsProvider, prior: &Value, config: &Value) -> Result<Value> {
    let name = prior_id(prior)?.to_string();
    let key_id = string(prior, "key_pair_id").ok_or_else(|| {
        ProviderError::new(format!(
            "the state holds no key_pair_id for key pair {name}; run keel apply -refresh-only first"
        ))
    })?;
    retag(&p.ec2, &key_id, prior, config).await?;
    let known = object([("id", Value::str(&name))]);
    read_many(p, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("key pair {name} no longer exists")))
}

/// DeleteKeyPair succeeds for a key that is already gone.
pub(super) async fn delete(ec2: &Client, prior: &Value) -> Result<()> {
    ec2.delete_key_pair()
        .key_name(prior_id(prior)?)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteKeyPair", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_only_differs_in_its_comment_keeps_the_recorded_spelling() {
        let prior = object([("public_key", Value::str("ssh-ed25519 AAAAC3 me@laptop"))]);
        assert_eq!(
            public_key(&prior, Some("ssh-ed25519 AAAAC3 keel-key")),
            Value::str("ssh-ed25519 AAAAC3 me@laptop")
        );
        assert_eq!(
            public_key(&prior, Some("ssh-ed25519 BBBB")),
            Value::str("ssh-ed25519 BBBB")
        );
        assert_eq!(
            public_key(&Value::Null, Some("ssh-rsa AAAA x\n")),
            Value::str("ssh-rsa AAAA x")
        );
    }
}
