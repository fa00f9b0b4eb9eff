//! Providers: the only code that talks to a cloud. The engine asks a provider to create,
//! read, update and delete one resource at a time; each answer is the resource's full set
//! of attributes, which state records.

pub mod aws;
pub mod identity;
pub mod memory;
pub mod policy;
pub mod schema;

use crate::addr::{ProviderAddr, ResourceAddr};
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

pub use schema::{DataSchema, ResourceSchema};

/// A failed cloud call, with the cloud's own error code when it gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub code: Option<String>,
    pub message: String,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> ProviderError {
        ProviderError {
            code: None,
            message: message.into(),
        }
    }

    pub fn with_code(code: impl Into<String>, message: impl Into<String>) -> ProviderError {
        ProviderError {
            code: Some(code.into()),
            message: message.into(),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ProviderError {}

/// Create, read, update and delete for the resource types a provider supports.
///
/// `config` is the resource's planned attributes with every value known; the result is
/// everything the cloud reports, which becomes the resource's state.
pub trait Provider: Send + Sync {
    fn create(
        &self,
        addr: &ResourceAddr,
        config: &Value,
    ) -> impl Future<Output = Result<Value, ProviderError>> + Send;

    /// Reads a resource by the attributes state recorded (its `id` at least). `None` when it
    /// no longer exists.
    fn read(
        &self,
        type_: &str,
        prior: &Value,
    ) -> impl Future<Output = Result<Option<Value>, ProviderError>> + Send;

    /// Reads many resources of one type at once; the answers come in the order of
    /// `priors`. Providers batch these (one `Describe*` call per page of ids); the default
    /// reads one at a time.
    fn read_many(
        &self,
        type_: &str,
        priors: &[Value],
    ) -> impl Future<Output = Result<Vec<Option<Value>>, ProviderError>> + Send {
        async move {
            let mut out = Vec::with_capacity(priors.len());
            for prior in priors {
                out.push(self.read(type_, prior).await?);
            }
            Ok(out)
        }
    }

    fn update(
        &self,
        addr: &ResourceAddr,
        prior: &Value,
        config: &Value,
    ) -> impl Future<Output = Result<Value, ProviderError>> + Send;

    fn delete(
        &self,
        addr: &ResourceAddr,
        prior: &Value,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Creates with an idempotency token that the apply journal recorded before the call:
    /// where the API takes one (EC2 RunInstances' ClientToken), a retry with the same
    /// token is answered with the object the first call made. The default ignores it.
    fn create_once(
        &self,
        addr: &ResourceAddr,
        config: &Value,
        token: &str,
    ) -> impl Future<Output = Result<Value, ProviderError>> + Send {
        let _ = token;
        self.create(addr, config)
    }

    /// Looks for the object a create of `addr` with `config` may have made although its
    /// answer never reached keel (keel was killed, or the response was lost): by keel's
    /// ownership tags, its unique name or the create's token. `owned_only` accepts only an
    /// object that carries `addr`'s ownership tags; without it, an object with no keel
    /// tags at all is taken too (a type created first and tagged by a second call). The
    /// answer is every such object's attributes, as a create's would be (a create-first
    /// replacement's old object carries the same tags: the caller skips what state
    /// already records). The default finds nothing.
    fn find(
        &self,
        addr: &ResourceAddr,
        config: &Value,
        token: &str,
        owned_only: bool,
    ) -> impl Future<Output = Result<Vec<Value>, ProviderError>> + Send {
        let _ = (addr, config, token, owned_only);
        async { Ok(Vec::new()) }
    }

    /// How many calls the cloud has asked keel to retry so far (throttling, 5xx): apply
    /// slows down when this grows.
    fn retries(&self) -> u64 {
        0
    }

    /// Reads a data source: `config` is its evaluated arguments, every value known; the
    /// answer is the arguments with the results filled in (and `id`). A read path only:
    /// it never changes the cloud, and nothing of it goes into state's resources.
    fn read_data(
        &self,
        type_: &str,
        config: &Value,
    ) -> impl Future<Output = Result<Value, ProviderError>> + Send {
        let _ = config;
        let type_ = type_.to_string();
        async move {
            Err(ProviderError::new(format!(
                "this provider cannot read data source {type_}"
            )))
        }
    }
}

/// A stack's provider configurations by address (`aws`, `aws.west`), each its own client
/// set with its own region, endpoint and default tags.
pub struct ProviderSet<P> {
    configs: BTreeMap<ProviderAddr, P>,
}

impl<P> ProviderSet<P> {
    pub fn new() -> ProviderSet<P> {
        ProviderSet {
            configs: BTreeMap::new(),
        }
    }

    /// A set holding only the default configuration.
    pub fn single(provider: P) -> ProviderSet<P> {
        let mut set = ProviderSet::new();
        set.insert(ProviderAddr::default(), provider);
        set
    }

    pub fn insert(&mut self, addr: ProviderAddr, provider: P) {
        self.configs.insert(addr, provider);
    }

    /// The configuration `addr`, or an error saying it is not configured.
    pub fn get(&self, addr: &ProviderAddr) -> Result<&P, ProviderError> {
        self.configs.get(addr).ok_or_else(|| {
            let known: Vec<String> = self.configs.keys().map(ToString::to_string).collect();
            ProviderError::new(format!(
                "provider configuration {addr} is not declared (configured: {}); it is needed for resources that state records under it, so keep its provider \"{}\" block until they are destroyed",
                if known.is_empty() { "none".to_string() } else { known.join(", ") },
                addr.name
            ))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ProviderAddr, &P)> {
        self.configs.iter()
    }
}

impl<P: Provider> ProviderSet<P> {
    /// Retries asked for by the cloud, over every configuration.
    pub fn retries(&self) -> u64 {
        self.configs.values().map(Provider::retries).sum()
    }
}

impl<P> Default for ProviderSet<P> {
    fn default() -> Self {
        ProviderSet::new()
    }
}

/// The schema of a supported resource type.
pub fn schema(type_: &str) -> Option<&'static ResourceSchema> {
    aws::schemas().find(|s| s.type_name == type_)
}

/// Every resource type keel supports, for error messages.
pub fn supported_types() -> Vec<&'static str> {
    aws::schemas().map(|s| s.type_name).collect()
}

/// The schema of a supported data source type.
pub fn data_schema(type_: &str) -> Option<&'static DataSchema> {
    aws::data_schemas().find(|s| s.type_name == type_)
}

/// Reads data source `type_` from its arguments alone, when it needs no cloud (an
/// `aws_iam_policy_document` renders locally); `None` when it needs a provider.
pub fn render_offline(type_: &str, args: &Value) -> Option<Result<Value, String>> {
    aws::render_offline_data(type_, args)
}

/// Every data source type keel can read, for error messages.
pub fn supported_data_types() -> Vec<&'static str> {
    aws::data_schemas().map(|s| s.type_name).collect()
}
