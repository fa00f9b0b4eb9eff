//! The AWS provider: resource schemas with Terraform AWS provider (v5) names, and create,
//! read, update and delete through the real aws-sdk clients. The endpoint comes from the
//! provider block's `endpoint` or the standard `AWS_ENDPOINT_URL`; credentials and region
//! from the standard chain.
//!
//! Each family of types lives in one module that holds its schemas and its create, read,
//! update and delete: `ec2` (VPCs, subnets), `network` (gateways, routes), `security_group`,
//! `s3`, `iam`, `kms` and `compute` (placement groups, key pairs, launch templates,
//! instances). This file only routes a type to its family. A family that outgrows one
//! file routes to its own siblings: `network` to `route`, `nat` (EIPs, NAT gateways),
//! `endpoint`, `network_acl` and `flow_log`; `security_group` to `security_group_rule`.

pub mod calls;
mod compute;
mod data;
mod ec2;
mod endpoint;
mod find;
mod flow_log;
mod iam;
mod inventory;
mod kms;
mod nat;
mod network;
mod network_acl;
mod pages;
mod route;
mod s3;
mod security_group;
mod security_group_rule;
mod wait;

use super::schema::{Attr, ResourceSchema, Ty};
use super::{Provider, ProviderError};
use crate::addr::ResourceAddr;
use crate::eval::ProviderSettings;
use crate::value::Value;
use aws_config::{BehaviorVersion, Region};
use std::collections::BTreeMap;
use std::future::Future;

pub(crate) const TAGS: Attr = Attr::optional("tags", Ty::StringMap);
pub(crate) const TAGS_ALL: Attr = Attr::computed("tags_all", Ty::StringMap);

/// A group of resource types served by one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Ec2,
    Network,
    SecurityGroup,
    S3,
    Iam,
    Kms,
    Compute,
}

const FAMILIES: &[(Family, &[&ResourceSchema])] = &[
    (Family::Ec2, ec2::SCHEMAS),
    (Family::Network, network::SCHEMAS),
    (Family::SecurityGroup, security_group::SCHEMAS),
    (Family::Compute, compute::SCHEMAS),
    (Family::Iam, iam::SCHEMAS),
    (Family::Kms, kms::SCHEMAS),
    (Family::S3, s3::SCHEMAS),
];

/// Every resource type the AWS provider supports, grouped by family.
pub fn schemas() -> impl Iterator<Item = &'static ResourceSchema> {
    FAMILIES.iter().flat_map(|(_, s)| s.iter().copied())
}

/// Every data source type the AWS provider reads.
pub fn data_schemas() -> impl Iterator<Item = &'static crate::providers::DataSchema> {
    data::SCHEMAS.iter().copied()
}

/// Reads a data source that needs no cloud (see [`data::render_offline`]).
pub fn render_offline_data(
    type_: &str,
    config: &crate::value::Value,
) -> Option<Result<crate::value::Value, String>> {
    data::render_offline(type_, config)
}

fn family(type_: &str) -> Result<Family, ProviderError> {
    FAMILIES
        .iter()
        .find(|(_, s)| s.iter().any(|s| s.type_name == type_))
        .map(|(f, _)| *f)
        .ok_or_else(|| unsupported(type_))
}

/// The AWS provider: one client per service, sharing one SDK configuration.
#[derive(Clone)]
pub struct AwsProvider {
    ec2: aws_sdk_ec2::Client,
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    kms: aws_sdk_kms::Client,
    sts: aws_sdk_sts::Client,
    region: String,
    calls: calls::CallCounter,
}

impl AwsProvider {
    /// Builds the clients from the provider block's settings and the standard AWS chain.
    pub async fn new(settings: &ProviderSettings) -> AwsProvider {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        let loader = plain_http_loader(loader, settings.endpoint.as_deref());
        let shared = loader.load().await;
        let region = shared
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        let shared = if shared.region().is_none() {
            shared
                .into_builder()
                .region(Region::new(region.clone()))
                .build()
        } else {
            shared
        };
        // A custom endpoint (moto, LocalStack, a VPC endpoint by IP) cannot serve
        // virtual-hosted bucket names, so path style is the default there.
        let path_style = settings
            .s3_use_path_style
            .unwrap_or(shared.endpoint_url().is_some());
        let calls = calls::CallCounter::default();
        let s3_conf = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(path_style)
            .interceptor(calls.clone())
            .build();
        let ec2_conf = aws_sdk_ec2::config::Builder::from(&shared)
            .interceptor(calls.clone())
            .build();
        let iam_conf = aws_sdk_iam::config::Builder::from(&shared)
            .interceptor(calls.clone())
            .build();
        let kms_conf = aws_sdk_kms::config::Builder::from(&shared)
            .interceptor(calls.clone())
            .build();
        let sts_conf = aws_sdk_sts::config::Builder::from(&shared)
            .interceptor(calls.clone())
            .build();
        AwsProvider {
            ec2: aws_sdk_ec2::Client::from_conf(ec2_conf),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            iam: aws_sdk_iam::Client::from_conf(iam_conf),
            kms: aws_sdk_kms::Client::from_conf(kms_conf),
            sts: aws_sdk_sts::Client::from_conf(sts_conf),
            region,
            calls,
        }
    }

    /// The API calls this provider has made so far.
    pub fn calls(&self) -> &calls::CallCounter {
        &self.calls
    }

    pub fn region(&self) -> &str {
        &self.region
    }
}

/// How many reads of one type run at once when a type has no batched read.
const READ_CONCURRENCY: usize = 16;

/// Reads resources one call each, [`READ_CONCURRENCY`] at a time, for types whose API has
/// no batched read. Answers come in the order of `priors`.
pub(crate) async fn read_each<'a, F, Fut>(
    priors: &'a [Value],
    read: F,
) -> Result<Vec<Option<Value>>, ProviderError>
where
    F: Fn(&'a Value) -> Fut,
    Fut: Future<Output = Result<Option<Value>, ProviderError>>,
{
    let mut out = Vec::with_capacity(priors.len());
    for chunk in priors.chunks(READ_CONCURRENCY) {
        let reads: Vec<_> = chunk.iter().map(&read).collect();
        out.extend(futures_util::future::try_join_all(reads).await?);
    }
    Ok(out)
}

impl Provider for AwsProvider {
    async fn create(&self, addr: &ResourceAddr, config: &Value) -> Result<Value, ProviderError> {
        match family(&addr.type_)? {
            Family::Ec2 => ec2::create(self, addr, config).await,
            Family::Network => network::create(self, addr, config).await,
            Family::SecurityGroup => security_group::create(self, addr, config).await,
            Family::S3 => s3::create(self, addr, config).await,
            Family::Iam => iam::create(self, addr, config).await,
            Family::Kms => kms::create(self, addr, config).await,
            Family::Compute => compute::create(self, addr, config).await,
        }
    }

    async fn read(&self, type_: &str, prior: &Value) -> Result<Option<Value>, ProviderError> {
        let mut one = self.read_many(type_, std::slice::from_ref(prior)).await?;
        Ok(one.pop().flatten())
    }

    async fn read_many(
        &self,
        type_: &str,
        priors: &[Value],
    ) -> Result<Vec<Option<Value>>, ProviderError> {
        if priors.is_empty() {
            return Ok(Vec::new());
        }
        match family(type_)? {
            Family::Ec2 => ec2::read_many(self, type_, priors).await,
            Family::Network => network::read_many(self, type_, priors).await,
            Family::SecurityGroup => security_group::read_many(self, type_, priors).await,
            Family::S3 => s3::read_many(self, type_, priors).await,
            Family::Iam => iam::read_many(self, type_, priors).await,
            Family::Kms => kms::read_many(self, type_, priors).await,
            Family::Compute => compute::read_many(self, type_, priors).await,
        }
    }

    async fn update(
        &self,
        addr: &ResourceAddr,
        prior: &Value,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        match family(&addr.type_)? {
            Family::Ec2 => ec2::update(self, addr, prior, config).await,
            Family::Network => network::update(self, addr, prior, config).await,
            Family::SecurityGroup => security_group::update(self, addr, prior, config).await,
            Family::S3 => s3::update(self, addr, prior, config).await,
            Family::Iam => iam::update(self, addr, prior, config).await,
            Family::Kms => kms::update(self, addr, prior, config).await,
            Family::Compute => compute::update(self, addr, prior, config).await,
        }
    }

    async fn create_once(
        &self,
        addr: &ResourceAddr,
        config: &Value,
        token: &str,
    ) -> Result<Value, ProviderError> {
        compute::CLIENT_TOKEN
            .scope(token.to_string(), self.create(addr, config))
            .await
    }

    async fn find(
        &self,
        addr: &ResourceAddr,
        config: &Value,
        _token: &str,
        owned_only: bool,
    ) -> Result<Vec<Value>, ProviderError> {
        self.find_object(addr, config, owned_only).await
    }

    fn retries(&self) -> u64 {
        self.calls.retries()
    }

    async fn delete(&self, addr: &ResourceAddr, prior: &Value) -> Result<(), ProviderError> {
        match family(&addr.type_)? {
            Family::Ec2 => ec2::delete(self, addr, prior).await,
            Family::Network => network::delete(self, addr, prior).await,
            Family::SecurityGroup => security_group::delete(self, addr, prior).await,
            Family::S3 => s3::delete(self, addr, prior).await,
            Family::Iam => iam::delete(self, addr, prior).await,
            Family::Kms => kms::delete(self, addr, prior).await,
            Family::Compute => compute::delete(self, addr, prior).await,
        }
    }

    async fn read_data(&self, type_: &str, config: &Value) -> Result<Value, ProviderError> {
        data::read(self, type_, config).await
    }
}

/// Retries for every client: the SDK's standard mode retries throttling (Throttling,
/// RequestLimitExceeded, SlowDown, TooManyRequestsException, ...), transient errors and 5xx
/// answers with exponential backoff and full jitter. AWS's default of 3 attempts is too few
/// for an apply that creates dozens of resources in a burst, so keel allows more and caps
/// the wait between attempts.
/// An HTTP client that loads no root certificates, for a loader whose every call goes to
/// a plain-http endpoint (moto, LocalStack on loopback): TLS is never used there, and
/// reading the system's certificates (the SDK does it when the credential chain is
/// built) costs milliseconds at start-up. Only with static credentials in the
/// environment, so no credential provider has to reach AWS over TLS; anything else (no
/// endpoint, an https one, a per-service `AWS_ENDPOINT_URL_<SERVICE>`) keeps the SDK's
/// default client.
pub(crate) fn plain_http_loader(
    loader: aws_config::ConfigLoader,
    endpoint: Option<&str>,
) -> aws_config::ConfigLoader {
    let from_env = std::env::var("AWS_ENDPOINT_URL").ok();
    let plain_http = endpoint
        .or(from_env.as_deref())
        .is_some_and(|url| url.starts_with("http://"));
    let per_service = std::env::vars_os().any(|(k, _)| {
        k.to_str()
            .is_some_and(|k| k.starts_with("AWS_ENDPOINT_URL_"))
    });
    let static_credentials = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    if !plain_http || per_service || !static_credentials {
        return loader;
    }
    use aws_smithy_http_client::tls;
    let Ok(context) = tls::TlsContext::builder()
        .with_trust_store(tls::TrustStore::empty().with_native_roots(false))
        .build()
    else {
        return loader;
    };
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https();
    loader.http_client(client)
}

pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(std::time::Duration::from_millis(200))
        .with_max_backoff(std::time::Duration::from_secs(20))
}

pub(crate) fn unsupported(type_: &str) -> ProviderError {
    ProviderError::new(format!("the AWS provider does not support {type_}"))
}

/// Turns an SDK error into the cloud's error code and message.
pub(crate) fn sdk_error<E, R>(op: &str, err: aws_sdk_ec2::error::SdkError<E, R>) -> ProviderError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_ec2::error::ProvideErrorMetadata;
    match (err.code(), err.message()) {
        (Some(code), message) => ProviderError::with_code(
            code,
            format!("{op}: {}", message.unwrap_or("no message from AWS")),
        ),
        (None, _) => ProviderError::new(format!("{op}: {}", no_answer(&err))),
    }
}

/// Why a call got no answer from AWS, in words: missing credentials and unreachable
/// endpoints get a hint; otherwise the chain of causes, never the SDK's debug dump.
fn no_answer<E, R>(err: &aws_sdk_ec2::error::SdkError<E, R>) -> String
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_ec2::error::SdkError;
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    let chain = parts.join(": ");
    if chain.contains("loading credentials") || chain.contains("no providers in chain") {
        return format!(
            "no AWS credentials could be loaded ({chain})\n  help: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance or task role applies; for a local endpoint also set AWS_ENDPOINT_URL"
        );
    }
    match err {
        SdkError::TimeoutError(_) => format!("the call timed out ({chain})"),
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => format!(
            "cannot reach the AWS endpoint ({chain})\n  help: check the network, and the endpoint (AWS_ENDPOINT_URL or the provider block's endpoint) if one is set"
        ),
        _ => chain,
    }
}

/// The string map in `value[key]`, empty when absent.
pub(crate) fn string_map(value: &Value, key: &str) -> BTreeMap<String, String> {
    value
        .get(key)
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `tags` as state records it: the configured tags, with the values the cloud holds. On
/// import, when nothing is recorded, every tag but keel's (`keel:`) and AWS's (`aws:`).
pub(crate) fn user_tags(prior_or_config: &Value, cloud: &BTreeMap<String, String>) -> Value {
    match prior_or_config.get_opt("tags") {
        Some(Value::Map(m)) => Value::Map(
            m.keys()
                .filter_map(|k| cloud.get(k).map(|v| (k.clone(), Value::str(v))))
                .collect(),
        ),
        None => {
            let theirs: BTreeMap<String, Value> = cloud
                .iter()
                .filter(|(k, _)| !k.starts_with("keel:") && !k.starts_with("aws:"))
                .map(|(k, v)| (k.clone(), Value::str(v)))
                .collect();
            if theirs.is_empty() {
                Value::Null
            } else {
                Value::Map(theirs)
            }
        }
        Some(_) => Value::Null,
    }
}

pub(crate) fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect(),
    )
}

/// The id a resource's state recorded.
pub(crate) fn prior_id(prior: &Value) -> Result<&str, ProviderError> {
    prior
        .get("id")
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ProviderError::new("the state holds no id for this resource"))
}

/// What changed between two tag maps: (to set, keys to remove).
pub(crate) fn tag_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_split_sets_and_removals() {
        let old = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let new = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "3".to_string()),
        ]);
        let (set, remove) = tag_changes(&old, &new);
        assert_eq!(set, BTreeMap::from([("c".to_string(), "3".to_string())]));
        assert_eq!(remove, vec!["b".to_string()]);
    }

    #[test]
    fn user_tags_take_the_cloud_values_of_configured_keys() {
        let config = Value::Map(BTreeMap::from([(
            "tags".to_string(),
            Value::Map(BTreeMap::from([("Name".to_string(), Value::str("old"))])),
        )]));
        let cloud = BTreeMap::from([
            ("Name".to_string(), "new".to_string()),
            ("keel:stack".to_string(), "s".to_string()),
        ]);
        assert_eq!(
            user_tags(&config, &cloud),
            Value::Map(BTreeMap::from([("Name".to_string(), Value::str("new"))]))
        );
        let untagged = Value::Map(BTreeMap::from([("tags".to_string(), Value::Null)]));
        assert_eq!(user_tags(&untagged, &cloud), Value::Null);
        // Imported: state recorded nothing, so the cloud's tags but keel's own.
        let imported = Value::Map(BTreeMap::from([("id".to_string(), Value::str("x"))]));
        assert_eq!(
            user_tags(&imported, &cloud),
            Value::Map(BTreeMap::from([("Name".to_string(), Value::str("new"))]))
        );
    }
}
