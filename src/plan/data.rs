//! Data sources at plan time: each `data` instance is read through its provider's read
//! path as the walk reaches it, unless its arguments are not known yet or its
//! `depends_on` names something with a pending change; then it is read during apply,
//! and the plan says so (Terraform's "will be read during apply").
//!
//! Nothing of a read goes into state: a data source is read afresh by every plan, as
//! Terraform reads it on every plan (Terraform also records the last read in state,
//! which nothing uses; keel records nothing).

use crate::addr::{DataAddr, ProviderAddr};
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::value::Value;

/// Why a data source is read during apply instead of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Deferred {
    /// Some argument is known only after apply (it refers to something not created yet).
    ConfigUnknown,
    /// Its `depends_on` names a resource (or module) with changes pending.
    DependencyPending,
}

impl Deferred {
    /// The note plans show under the read, as Terraform words it.
    pub fn note(self) -> &'static str {
        match self {
            Deferred::ConfigUnknown => "config refers to values not yet known",
            Deferred::DependencyPending => "depends on a resource or a module with changes pending",
        }
    }
}

/// One data source instance the plan read, or will read during apply.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DataRead {
    pub addr: DataAddr,
    /// The provider configuration it is read through.
    pub provider: ProviderAddr,
    /// Its arguments (unknown ones included, when deferred).
    pub config: Value,
    /// What the read returned; when deferred, the arguments with every result unknown.
    pub value: Value,
    /// `Some` when it is read during apply.
    pub deferred: Option<Deferred>,
}

/// The provider read path as planning sees it: one read at a time, in walk order.
pub trait DataReader {
    fn read(
        &mut self,
        provider: &ProviderAddr,
        type_: &str,
        config: &Value,
    ) -> Result<Value, ProviderError>;
}

/// Reads through a set of providers, blocking on `runtime` (planning is synchronous;
/// call it from outside the runtime).
pub struct BlockingReader<'a, P> {
    pub providers: &'a ProviderSet<P>,
    pub runtime: &'a tokio::runtime::Runtime,
}

impl<P: Provider> DataReader for BlockingReader<'_, P> {
    fn read(
        &mut self,
        provider: &ProviderAddr,
        type_: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        let p = self.providers.get(provider)?;
        self.runtime.block_on(p.read_data(type_, config))
    }
}

/// A reader for plans made without a cloud: data sources that need none (policy
/// documents) are rendered; every other read fails, saying so.
pub struct NoReader;

impl DataReader for NoReader {
    fn read(
        &mut self,
        _provider: &ProviderAddr,
        type_: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        if let Some(rendered) = crate::providers::render_offline(type_, config) {
            return rendered.map_err(ProviderError::new);
        }
        Err(ProviderError::new(format!(
            "{type_} is read through the provider, and this plan was made without one"
        )))
    }
}
