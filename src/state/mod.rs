//! State: the record of what keel manages. One JSON document per stack with a format
//! `version`, a `lineage` fixed at creation and a `serial` bumped at every write. It is the
//! source of truth: written after every resource operation and locked while a command
//! uses it.
//!
//! The model lives here; where the document is kept is a backend's business, split as
//! Terraform's statemgr is into two small traits ([`Storage`]: bytes in, bytes out, the
//! previous version kept; [`Locker`]: one writer at a time), implemented by the local
//! file backend and the S3 backend. [`Backend`] puts a store together with the document
//! codec and client-side encryption, and is all the engine sees.

mod backend;
mod codec;
pub mod crypto;
pub mod journal;
mod local;
mod lock;
pub mod migrate;
pub mod ops;
mod s3;
pub mod settings;
mod storage;

pub use backend::{Backend, Protection};
pub use journal::{Journal, Op, OpKind, Phase, Status};
pub use local::LocalStore;
pub use lock::{LockInfo, StateLock};
pub use s3::{S3Settings, S3Store};
pub use storage::{Locker, Storage, Store};

use crate::addr::{ProviderAddr, ResourceAddr};
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
    /// The journal of an apply that has not finished: killed while applying, or with a
    /// rollback pending. `None` between applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<Journal>,
    /// Idempotency tokens of creates that were in flight when keel died and whose object
    /// was not found: the next create of that address reuses the token, so a create that
    /// took effect unseen is answered with its object rather than made twice.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub create_tokens: BTreeMap<ResourceAddr, String>,
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
    /// The provider configuration that manages it (`aws`, `aws.west`): refresh and delete
    /// use it even after the resource's block is gone from the configuration.
    #[serde(default)]
    pub provider: ProviderAddr,
    /// The cloud's id for it.
    pub id: String,
    /// Every attribute the cloud reported, as JSON.
    pub attributes: serde_json::Value,
    /// What this resource depended on when it was last applied; deletes of resources no
    /// longer in the configuration follow these in reverse. An address without an
    /// instance key (`aws_subnet.private`) names every instance of that resource in that
    /// module instance, as [`crate::addr::AddrIndex`] resolves it.
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
            journal: None,
            create_tokens: BTreeMap::new(),
        }
    }
}

/// Why state could not be read, written or locked.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{}", locked_message(location, holder, *remote))]
    Locked {
        location: String,
        holder: Box<LockInfo>,
        /// A lock object that outlives its process (S3), so it may need breaking.
        remote: bool,
    },
    #[error(
        "state {location} is damaged: {reason}\n  help: keel has not changed it. The previous version is kept at {backup}: restore it from there, or fix the file by hand"
    )]
    Corrupt {
        location: String,
        reason: String,
        backup: String,
    },
    #[error(
        "state {location} has format version {found}, newer than this keel understands ({FORMAT_VERSION})\n  help: upgrade keel; this one has not changed the state"
    )]
    TooNew { location: String, found: u32 },
    #[error("state {location}: {source}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the S3 bucket \"{bucket}\" for state {location} does not exist (region {region})\n  help: keel does not create its own state bucket: create it (with versioning on), or fix bucket and region in the backend \"s3\" block"
    )]
    NoBucket {
        bucket: String,
        region: String,
        location: String,
    },
    #[error("state {location}: {operation} failed: {message}")]
    Remote {
        location: String,
        operation: String,
        message: String,
    },
    #[error("{}", conflict_message(location, saved.as_deref()))]
    Conflict {
        location: String,
        /// Where the state this command could not write was saved instead.
        saved: Option<PathBuf>,
    },
    #[error("state {location}: {message}")]
    Encryption { location: String, message: String },
    #[error("state {location} is not locked; there is nothing to unlock")]
    NotLocked { location: String },
    #[error(
        "state {location} is locked under id {}, not {id}; nothing was unlocked\n  help: the lock is held by {holder}",
        holder.id
    )]
    LockMismatch {
        location: String,
        id: String,
        holder: Box<LockInfo>,
    },
    #[error(
        "state {location} is locked by {holder}, a process that is still running\n  help: a local lock ends with its process; stop that keel (kill {}) instead of breaking the lock",
        holder.pid
    )]
    HeldByLiveProcess {
        location: String,
        holder: Box<LockInfo>,
    },
}

fn locked_message(location: &str, holder: &LockInfo, remote: bool) -> String {
    if remote {
        format!(
            "state {location} is locked by {holder}\n  help: wait for that command to finish. If it died and left its lock behind, break the lock on purpose with: keel force-unlock {} <stack dir>",
            holder.id
        )
    } else {
        format!(
            "state {location} is locked by {holder}\n  help: wait for that command to finish; if it died, its lock is released with its process"
        )
    }
}

fn conflict_message(location: &str, saved: Option<&std::path::Path>) -> String {
    let mut m = format!(
        "state {location} was changed by someone else since this keel read it, so keel did not overwrite it\n  help: another keel wrote the state, most likely after this command's lock was broken with keel force-unlock. "
    );
    match saved {
        Some(path) => m.push_str(&format!(
            "What this command meant to write is saved in {}; compare it with the stored state before using it",
            path.display()
        )),
        None => m.push_str("Run keel plan again to see where things stand"),
    }
    m
}
