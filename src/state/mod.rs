//! State: the record of what keel manages. One JSON document per stack with a format
//! `version`, a `lineage` fixed at creation and a `serial` bumped at every write. It is the
//! source of truth: written atomically after every resource operation and locked while a
//! command uses it.

mod local;

pub use local::{LocalBackend, LockInfo, StateLock};

use crate::addr::ResourceAddr;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The state file format this keel writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub version: u32,
    pub lineage: String,
    pub serial: u64,
    /// The keel that last wrote the file.
    pub keel_version: String,
    pub stack: String,
    #[serde(default)]
    pub resources: BTreeMap<ResourceAddr, ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// Old objects of create-before-destroy replacements, between the create of their
    /// successor and their own delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<Deposed>,
}

/// An object that was replaced but not yet deleted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deposed {
    pub addr: ResourceAddr,
    #[serde(flatten)]
    pub resource: ResourceState,
}

/// One managed resource instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub type_: String,
    /// The cloud's id for it.
    pub id: String,
    /// Every attribute the cloud reported, as JSON.
    pub attributes: serde_json::Value,
    /// Addresses this resource depended on when it was last applied; deletes of resources
    /// no longer in the configuration follow these in reverse.
    #[serde(default)]
    pub dependencies: Vec<ResourceAddr>,
    /// Top-level attributes whose values came from sensitive values (as Terraform's
    /// `sensitive_attributes`): reports hide them, even once the configuration is gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<String>,
}

impl ResourceState {
    pub fn value(&self) -> Value {
        Value::from_json(&self.attributes)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputState {
    pub value: serde_json::Value,
    #[serde(default)]
    pub sensitive: bool,
}

impl State {
    /// A fresh state with a new lineage.
    pub fn new(stack: &str) -> State {
        State {
            version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            keel_version: env!("CARGO_PKG_VERSION").to_string(),
            stack: stack.to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            deposed: Vec::new(),
        }
    }
}

/// Why state could not be read, written or locked.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "state {path} is locked by {holder}\n  help: wait for that command to finish; if it died, its lock is released with its process"
    )]
    Locked {
        path: PathBuf,
        holder: Box<LockInfo>,
    },
    #[error(
        "state file {path} is damaged: {reason}\n  help: keel has not changed it. Restore the previous copy from {path}.backup, or fix the file by hand"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "state file {path} has format version {found}, newer than this keel understands ({FORMAT_VERSION})\n  help: upgrade keel"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
