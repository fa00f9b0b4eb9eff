//! The two small traits a state backend implements: [`Storage`] keeps the bytes of the
//! state document (and the version before it), [`Locker`] lets one command at a time use
//! it. [`Store`] is one of the backends keel has, chosen by the stack's configuration.

use super::local::LocalStore;
use super::s3::S3Store;
use super::{LockInfo, StateError, StateLock};
use std::future::Future;

/// Where a stack's state document lives.
pub trait Storage: Send + Sync {
    /// Where, for messages: a file path or `s3://bucket/key`.
    fn location(&self) -> String;

    /// Where the previous version is kept.
    fn backup_location(&self) -> String;

    /// The stored document; `None` when there is none yet.
    fn get(&self) -> impl Future<Output = Result<Option<Vec<u8>>, StateError>> + Send;

    /// Replaces the document, keeping the current one as the backup. A store that can
    /// tell (S3) refuses with [`StateError::Conflict`] when the document changed since
    /// this store last read or wrote it, so a writer that lost its lock overwrites nothing.
    fn put(&self, bytes: &[u8]) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// One writer at a time.
pub trait Locker: Send + Sync {
    /// Takes the lock for `info.operation`, failing at once with [`StateError::Locked`]
    /// (naming the holder) if another command holds it.
    fn lock(&self, info: LockInfo) -> impl Future<Output = Result<StateLock, StateError>> + Send;

    /// Breaks the lock held under `id`, returning who held it. Only on purpose: a lock
    /// left by a command that died.
    fn force_unlock(&self, id: &str) -> impl Future<Output = Result<LockInfo, StateError>> + Send;
}

/// The backends keel has.
pub enum Store {
    Local(LocalStore),
    S3(S3Store),
}

impl Storage for Store {
    fn location(&self) -> String {
        match self {
            Store::Local(s) => s.location(),
            Store::S3(s) => s.location(),
        }
    }

    fn backup_location(&self) -> String {
        match self {
            Store::Local(s) => s.backup_location(),
            Store::S3(s) => s.backup_location(),
        }
    }

    async fn get(&self) -> Result<Option<Vec<u8>>, StateError> {
        match self {
            Store::Local(s) => s.get().await,
            Store::S3(s) => s.get().await,
        }
    }

    async fn put(&self, bytes: &[u8]) -> Result<(), StateError> {
        match self {
            Store::Local(s) => s.put(bytes).await,
            Store::S3(s) => s.put(bytes).await,
        }
    }
}

impl Locker for Store {
    async fn lock(&self, info: LockInfo) -> Result<StateLock, StateError> {
        match self {
            Store::Local(s) => s.lock(info).await,
            Store::S3(s) => s.lock(info).await,
        }
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        match self {
            Store::Local(s) => s.force_unlock(id).await,
            Store::S3(s) => s.force_unlock(id).await,
        }
    }
}
