//! The AWS provider: resource schemas with Terraform AWS provider (v5) names, and create,
//! read, update and delete through the real aws-sdk clients. The endpoint comes from the
//! provider block's `endpoint` or the standard `AWS_ENDPOINT_URL`; credentials and region
//! from the standard chain.

pub mod calls;
mod ec2;
mod inventory;
mod network;
mod s3;
mod security_group;

use super::schema::{Attr, BlockType, Default, ResourceSchema, Ty};
use super::{Provider, ProviderError};
use crate::addr::ResourceAddr;
use crate::eval::ProviderSettings;
use crate::value::Value;
use aws_config::{BehaviorVersion, Region};
use std::collections::BTreeMap;

const TAGS: Attr = Attr::optional("tags", Ty::StringMap);
const TAGS_ALL: Attr = Attr::computed("tags_all", Ty::StringMap);

pub static AWS_VPC: ResourceSchema = ResourceSchema {
    type_name: "aws_vpc",
    attrs: &[
        Attr::required("cidr_block", Ty::String).force_new(),
        Attr::optional("instance_tenancy", Ty::String)
            .force_new()
            .default(Default::Str("default")),
        Attr::optional("enable_dns_support", Ty::Bool).default(Default::Bool(true)),
        Attr::optional("enable_dns_hostnames", Ty::Bool).default(Default::Bool(false)),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
        Attr::computed("main_route_table_id", Ty::String),
        Attr::computed("default_network_acl_id", Ty::String),
        Attr::computed("default_security_group_id", Ty::String),
        Attr::computed("dhcp_options_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_SUBNET: ResourceSchema = ResourceSchema {
    type_name: "aws_subnet",
    attrs: &[
        Attr::required("vpc_id", Ty::String).force_new(),
        Attr::required("cidr_block", Ty::String).force_new(),
        Attr::optional_computed("availability_zone", Ty::String).force_new(),
        Attr::optional("map_public_ip_on_launch", Ty::Bool).default(Default::Bool(false)),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
        Attr::computed("availability_zone_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_S3_BUCKET: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket",
    attrs: &[
        Attr::optional_computed("bucket", Ty::String).force_new(),
        Attr::optional("force_destroy", Ty::Bool).default(Default::Bool(false)),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("region", Ty::String),
        Attr::computed("bucket_domain_name", Ty::String),
        Attr::computed("bucket_regional_domain_name", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

const SSE_DEFAULT: BlockType = BlockType {
    name: "apply_server_side_encryption_by_default",
    attrs: &[
        Attr::required("sse_algorithm", Ty::String),
        Attr::optional("kms_master_key_id", Ty::String),
    ],
    blocks: &[],
    min_items: 1,
    max_items: Some(1),
    force_new: false,
};

pub static AWS_S3_BUCKET_SSE: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_server_side_encryption_configuration",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::optional("expected_bucket_owner", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[BlockType {
        name: "rule",
        attrs: &[Attr::optional("bucket_key_enabled", Ty::Bool)],
        blocks: &[SSE_DEFAULT],
        min_items: 1,
        max_items: Some(1),
        force_new: false,
    }],
    taggable: false,
};

pub static AWS_S3_BUCKET_VERSIONING: ResourceSchema = ResourceSchema {
    type_name: "aws_s3_bucket_versioning",
    attrs: &[
        Attr::required("bucket", Ty::String).force_new(),
        Attr::optional("expected_bucket_owner", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[BlockType {
        name: "versioning_configuration",
        attrs: &[
            Attr::required("status", Ty::String),
            Attr::optional("mfa_delete", Ty::String),
        ],
        blocks: &[],
        min_items: 1,
        max_items: Some(1),
        force_new: false,
    }],
    taggable: false,
};

const SG_RULE: &[Attr] = &[
    Attr::required("from_port", Ty::Number),
    Attr::required("to_port", Ty::Number),
    Attr::required("protocol", Ty::String),
    Attr::optional("cidr_blocks", Ty::StringSet),
    Attr::optional("ipv6_cidr_blocks", Ty::StringSet),
    Attr::optional("prefix_list_ids", Ty::StringSet),
    Attr::optional("security_groups", Ty::StringSet),
    Attr::optional("self", Ty::Bool).default(Default::Bool(false)),
    Attr::optional("description", Ty::String),
];

pub static AWS_SECURITY_GROUP: ResourceSchema = ResourceSchema {
    type_name: "aws_security_group",
    attrs: &[
        Attr::optional_computed("name", Ty::String).force_new(),
        Attr::optional("description", Ty::String)
            .force_new()
            .default(Default::Str("Managed by keel")),
        Attr::optional_computed("vpc_id", Ty::String).force_new(),
        Attr::optional("revoke_rules_on_delete", Ty::Bool).default(Default::Bool(false)),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[
        BlockType {
            name: "ingress",
            attrs: SG_RULE,
            blocks: &[],
            min_items: 0,
            max_items: None,
            force_new: false,
        },
        BlockType {
            name: "egress",
            attrs: SG_RULE,
            blocks: &[],
            min_items: 0,
            max_items: None,
            force_new: false,
        },
    ],
    taggable: true,
};

pub static AWS_INTERNET_GATEWAY: ResourceSchema = ResourceSchema {
    type_name: "aws_internet_gateway",
    attrs: &[
        // Attaching and detaching happen in place.
        Attr::optional("vpc_id", Ty::String),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_ROUTE_TABLE: ResourceSchema = ResourceSchema {
    type_name: "aws_route_table",
    attrs: &[
        Attr::required("vpc_id", Ty::String).force_new(),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("owner_id", Ty::String),
    ],
    blocks: &[],
    taggable: true,
};

pub static AWS_ROUTE: ResourceSchema = ResourceSchema {
    type_name: "aws_route",
    attrs: &[
        Attr::required("route_table_id", Ty::String).force_new(),
        Attr::required("destination_cidr_block", Ty::String).force_new(),
        // The target changes in place (ReplaceRoute).
        Attr::optional("gateway_id", Ty::String),
        Attr::optional("nat_gateway_id", Ty::String),
        Attr::optional("vpc_endpoint_id", Ty::String),
        Attr::optional("network_interface_id", Ty::String),
        Attr::optional("vpc_peering_connection_id", Ty::String),
        Attr::computed("id", Ty::String),
        Attr::computed("origin", Ty::String),
        Attr::computed("state", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

pub static AWS_ROUTE_TABLE_ASSOCIATION: ResourceSchema = ResourceSchema {
    type_name: "aws_route_table_association",
    attrs: &[
        // Changes in place (ReplaceRouteTableAssociation).
        Attr::required("route_table_id", Ty::String),
        Attr::optional("subnet_id", Ty::String).force_new(),
        Attr::optional("gateway_id", Ty::String).force_new(),
        Attr::computed("id", Ty::String),
    ],
    blocks: &[],
    taggable: false,
};

/// Every resource type the AWS provider supports.
pub static SCHEMAS: &[&ResourceSchema] = &[
    &AWS_VPC,
    &AWS_SUBNET,
    &AWS_SECURITY_GROUP,
    &AWS_INTERNET_GATEWAY,
    &AWS_ROUTE_TABLE,
    &AWS_ROUTE,
    &AWS_ROUTE_TABLE_ASSOCIATION,
    &AWS_S3_BUCKET,
    &AWS_S3_BUCKET_SSE,
    &AWS_S3_BUCKET_VERSIONING,
];

/// The AWS provider: one client per service, sharing one SDK configuration.
#[derive(Clone)]
pub struct AwsProvider {
    ec2: aws_sdk_ec2::Client,
    s3: aws_sdk_s3::Client,
    region: String,
    calls: calls::CallCounter,
}

/// How many reads of one type run at once when a type has no batched read.
const READ_CONCURRENCY: usize = 16;

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
        AwsProvider {
            ec2: aws_sdk_ec2::Client::from_conf(ec2_conf),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
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

impl Provider for AwsProvider {
    async fn create(&self, addr: &ResourceAddr, config: &Value) -> Result<Value, ProviderError> {
        match addr.type_.as_str() {
            "aws_vpc" => ec2::create_vpc(&self.ec2, config).await,
            "aws_subnet" => ec2::create_subnet(&self.ec2, config).await,
            "aws_security_group" => security_group::create_security_group(&self.ec2, config).await,
            "aws_internet_gateway" => network::create_internet_gateway(&self.ec2, config).await,
            "aws_route_table" => network::create_route_table(&self.ec2, config).await,
            "aws_route" => network::create_route(&self.ec2, config).await,
            "aws_route_table_association" => {
                network::create_route_table_association(&self.ec2, config).await
            }
            "aws_s3_bucket" => s3::create_bucket(self, config).await,
            "aws_s3_bucket_server_side_encryption_configuration" => {
                s3::put_encryption(&self.s3, config).await
            }
            "aws_s3_bucket_versioning" => s3::put_versioning(&self.s3, config).await,
            other => Err(unsupported(other)),
        }
    }

    async fn read(&self, type_: &str, prior: &Value) -> Result<Option<Value>, ProviderError> {
        match type_ {
            "aws_vpc" => ec2::read_vpc(&self.ec2, prior).await,
            "aws_subnet" => ec2::read_subnet(&self.ec2, prior).await,
            "aws_security_group" => security_group::read_security_group(&self.ec2, prior).await,
            "aws_internet_gateway" => network::read_internet_gateway(&self.ec2, prior).await,
            "aws_route_table" => network::read_route_table(&self.ec2, prior).await,
            "aws_route" => network::read_route(&self.ec2, prior).await,
            "aws_route_table_association" => {
                network::read_route_table_association(&self.ec2, prior).await
            }
            "aws_s3_bucket" => s3::read_bucket(self, prior).await,
            "aws_s3_bucket_server_side_encryption_configuration" => {
                s3::read_encryption(&self.s3, prior).await
            }
            "aws_s3_bucket_versioning" => s3::read_versioning(&self.s3, prior).await,
            other => Err(unsupported(other)),
        }
    }

    async fn read_many(
        &self,
        type_: &str,
        priors: &[Value],
    ) -> Result<Vec<Option<Value>>, ProviderError> {
        match type_ {
            "aws_vpc" => ec2::read_vpcs(&self.ec2, priors).await,
            "aws_subnet" => ec2::read_subnets(&self.ec2, priors).await,
            "aws_security_group" => security_group::read_security_groups(&self.ec2, priors).await,
            _ => {
                let mut out = Vec::with_capacity(priors.len());
                for chunk in priors.chunks(READ_CONCURRENCY) {
                    let reads: Vec<_> = chunk.iter().map(|p| self.read(type_, p)).collect();
                    out.extend(futures_util::future::try_join_all(reads).await?);
                }
                Ok(out)
            }
        }
    }

    async fn update(
        &self,
        addr: &ResourceAddr,
        prior: &Value,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        match addr.type_.as_str() {
            "aws_vpc" => ec2::update_vpc(&self.ec2, prior, config).await,
            "aws_subnet" => ec2::update_subnet(&self.ec2, prior, config).await,
            "aws_security_group" => {
                security_group::update_security_group(&self.ec2, prior, config).await
            }
            "aws_internet_gateway" => {
                network::update_internet_gateway(&self.ec2, prior, config).await
            }
            "aws_route_table" => network::update_route_table(&self.ec2, prior, config).await,
            "aws_route" => network::update_route(&self.ec2, prior, config).await,
            "aws_route_table_association" => {
                network::update_route_table_association(&self.ec2, prior, config).await
            }
            "aws_s3_bucket" => s3::update_bucket(self, prior, config).await,
            "aws_s3_bucket_server_side_encryption_configuration" => {
                s3::put_encryption(&self.s3, config).await
            }
            "aws_s3_bucket_versioning" => s3::put_versioning(&self.s3, config).await,
            other => Err(unsupported(other)),
        }
    }

    async fn delete(&self, addr: &ResourceAddr, prior: &Value) -> Result<(), ProviderError> {
        match addr.type_.as_str() {
            "aws_vpc" => ec2::delete_vpc(&self.ec2, prior).await,
            "aws_subnet" => ec2::delete_subnet(&self.ec2, prior).await,
            "aws_security_group" => security_group::delete_security_group(&self.ec2, prior).await,
            "aws_internet_gateway" => network::delete_internet_gateway(&self.ec2, prior).await,
            "aws_route_table" => network::delete_route_table(&self.ec2, prior).await,
            "aws_route" => network::delete_route(&self.ec2, prior).await,
            "aws_route_table_association" => {
                network::delete_route_table_association(&self.ec2, prior).await
            }
            "aws_s3_bucket" => s3::delete_bucket(&self.s3, prior).await,
            "aws_s3_bucket_server_side_encryption_configuration" => {
                s3::delete_encryption(&self.s3, prior).await
            }
            "aws_s3_bucket_versioning" => s3::delete_versioning(&self.s3, prior).await,
            other => Err(unsupported(other)),
        }
    }
}

/// Retries for every client: the SDK's standard mode retries throttling (Throttling,
/// RequestLimitExceeded, SlowDown, TooManyRequestsException, ...), transient errors and 5xx
/// answers with exponential backoff and full jitter. AWS's default of 3 attempts is too few
/// for an apply that creates dozens of resources in a burst, so keel allows more and caps
/// the wait between attempts.
pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(std::time::Duration::from_millis(200))
        .with_max_backoff(std::time::Duration::from_secs(20))
}

fn unsupported(type_: &str) -> ProviderError {
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
        (None, _) => ProviderError::new(format!(
            "{op}: {}",
            aws_sdk_ec2::error::DisplayErrorContext(&err)
        )),
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

/// `tags` as state records it: the configured tags, with the values the cloud holds.
pub(crate) fn user_tags(prior_or_config: &Value, cloud: &BTreeMap<String, String>) -> Value {
    match prior_or_config.get("tags").as_map() {
        Some(m) => Value::Map(
            m.keys()
                .filter_map(|k| cloud.get(k).map(|v| (k.clone(), Value::str(v))))
                .collect(),
        ),
        None => Value::Null,
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
    }
}
