//! The apply journal, kept inside the state: every provider call an apply makes is
//! recorded before the call goes out ([`Status::Started`]) and again when its answer is
//! back, so a keel that was killed at any instant knows exactly what was in flight, and a
//! rollback that failed or was cut short can be resumed by the next run.
//!
//! An apply that finishes (or rolls back completely) leaves no journal behind. A journal
//! in [`Phase::Applying`] means the apply was killed: the next run looks for the objects
//! of creates that were in flight and adopts them, then plans afresh. A journal in
//! [`Phase::RollingBack`] means a rollback is pending: `keel apply` and `keel rollback`
//! finish it first, and `keel plan` says so.

use super::ResourceState;
use crate::addr::{ProviderAddr, ResourceAddr};
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// One apply's record of its provider calls.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    /// Identifies the apply that wrote it.
    pub run: String,
    /// When that apply started (RFC 3339).
    pub started: String,
    pub phase: Phase,
    /// Why the apply is being rolled back: the failure with the cloud's error, or an
    /// interruption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// In the order their intents were recorded.
    #[serde(default)]
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Creating, updating and deleting as planned.
    Applying,
    /// Undoing what the apply completed; resumed by the next `keel apply` or `keel rollback`.
    RollingBack,
}

/// What one provider call does to one resource instance, and so how it is undone.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Undone by deleting what it created.
    Create,
    /// Undone by updating the object back to the record in [`Op::before`].
    Update,
    /// The create half of a create-first replacement: the old object waits in
    /// `State::deposed`. Undone by deleting the new object and restoring the old record.
    CreateReplacement,
    /// The create half of a delete-first replacement: the old object is gone, so rollback
    /// keeps the new one.
    Recreate,
    /// A delete: irreversible, and run only after every create and update succeeded
    /// (except the first half of a delete-first replacement).
    Delete,
    /// The delete of the old half of a create-first replacement.
    DeleteDeposed,
}

impl OpKind {
    pub fn creates(self) -> bool {
        matches!(
            self,
            OpKind::Create | OpKind::CreateReplacement | OpKind::Recreate
        )
    }
}

/// Where one call stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The intent is recorded; the answer is not (in flight, or keel died waiting).
    Started,
    Done,
    Failed,
    /// A create in flight when keel died whose object was looked for and not found: it
    /// never took effect.
    Void,
    /// Rollback is undoing it.
    Undoing,
    Undone,
    UndoFailed,
    /// Rollback left it as it is: it cannot be undone (the object it replaced is gone).
    Kept,
}

/// One provider call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Op {
    pub addr: ResourceAddr,
    pub kind: OpKind,
    pub status: Status,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub provider: ProviderAddr,
    /// The create's idempotency token (EC2's ClientToken), reused if the create is retried.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// What a create sent, so that an object whose create was never answered can be
    /// looked for (by its tags or unique name). Dropped once the answer is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// The record this call replaces or changes: what rollback puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<ResourceState>,
    /// The resources it depends on: rollback undoes dependents first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<ResourceAddr>,
    /// Top-level attributes the configuration marks sensitive: recorded with whatever
    /// object this call produces (or a recovery adopts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// The cloud's error, for a failed call or undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Journal {
    pub fn new() -> Journal {
        Journal {
            run: uuid::Uuid::new_v4().to_string(),
            started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            phase: Phase::Applying,
            reason: None,
            ops: Vec::new(),
        }
    }

    /// Completed steps rollback still has to undo (or resolve).
    pub fn to_undo(&self) -> usize {
        self.ops
            .iter()
            .filter(|o| {
                matches!(
                    o.status,
                    Status::Done | Status::Started | Status::Undoing | Status::UndoFailed
                ) && !matches!(
                    o.kind,
                    OpKind::Delete | OpKind::DeleteDeposed | OpKind::Recreate
                )
            })
            .count()
    }
}

impl Default for Journal {
    fn default() -> Self {
        Journal::new()
    }
}
