//! [`Backend`]: a store (local file or S3), the document codec and client-side
//! encryption, put together. This is all the engine sees of state: lock, read, write.

use super::codec::{self, Origin};
use super::crypto::{Content, Encryption, KeyHeader, is_sealed};
use super::local::LocalStore;
use super::s3::S3Store;
use super::settings::{BackendSettings, StoreSettings};
use super::storage::{Locker, Storage, Store};
use super::{LockInfo, State, StateError, StateLock};
use std::path::PathBuf;

/// How a stored document was protected.
#[derive(Debug, Clone, PartialEq)]
pub enum Protection {
    Plain,
    Sealed(KeyHeader),
}

/// A stack's state, wherever it is kept.
pub struct Backend {
    store: Store,
    crypto: Encryption,
    stack: String,
}

impl Backend {
    /// Opens the configured store (building its S3 client, if any).
    pub async fn open(settings: BackendSettings, stack: &str) -> Backend {
        let store = match settings.store {
            StoreSettings::Local { path } => Store::Local(LocalStore::new(path)),
            StoreSettings::S3(s3) => Store::S3(S3Store::connect(s3).await),
        };
        Backend::new(store, Encryption::new(settings.encryption), stack)
    }

    pub fn new(store: Store, crypto: Encryption, stack: &str) -> Backend {
        Backend {
            store,
            crypto,
            stack: stack.to_string(),
        }
    }

    /// A local, unencrypted backend (tests and tools).
    pub fn local(path: impl Into<PathBuf>, stack: &str) -> Backend {
        Backend::new(
            Store::Local(LocalStore::new(path)),
            Encryption::new(Default::default()),
            stack,
        )
    }

    pub fn location(&self) -> String {
        self.store.location()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn encryption(&self) -> &Encryption {
        &self.crypto
    }

    /// Takes the lock for `operation`; a second command gets [`StateError::Locked`].
    pub async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        self.store.lock(LockInfo::new(operation)).await
    }

    /// Breaks a lock left behind by a command that died.
    pub async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        self.store.force_unlock(id).await
    }

    /// Reads the state; `None` when there is none yet. A damaged document is an error
    /// and is left exactly as it is; so is plain state when encryption is configured.
    pub async fn read(&self) -> Result<Option<State>, StateError> {
        match self.read_any().await? {
            Some((_, Protection::Plain)) if self.crypto.enabled() => {
                Err(StateError::Encryption {
                    location: self.location(),
                    message: "it is not encrypted, but encryption is configured\n  help: encrypt it once with keel state rekey <stack dir>; keel has not changed it".into(),
                })
            }
            other => Ok(other.map(|(s, _)| s)),
        }
    }

    /// Reads the state however it is stored, plain or sealed with any key this backend
    /// can open (for `keel state rekey` and migrations).
    pub async fn read_any(&self) -> Result<Option<(State, Protection)>, StateError> {
        let Some(bytes) = self.store.get().await? else {
            return Ok(None);
        };
        let location = self.location();
        let backup = self.store.backup_location();
        let origin = Origin {
            location: &location,
            backup: &backup,
        };
        if is_sealed(&bytes) {
            let (plain, header) =
                self.crypto
                    .open(&bytes, Content::State)
                    .await
                    .map_err(|message| StateError::Encryption {
                        location: location.clone(),
                        message,
                    })?;
            Ok(Some((
                codec::decode(&plain, &origin)?,
                Protection::Sealed(header),
            )))
        } else {
            Ok(Some((codec::decode(&bytes, &origin)?, Protection::Plain)))
        }
    }

    /// Writes `state` with its serial bumped, sealed when encryption is configured. The
    /// store keeps the previous version as its backup. If the store refuses because
    /// someone else wrote since this command read (a broken lock), what this command
    /// meant to write is saved to a local file instead of being lost.
    pub async fn write(&self, _lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        state.keel_version = env!("CARGO_PKG_VERSION").to_string();
        let plain = codec::encode(state);
        let bytes = if self.crypto.enabled() {
            self.crypto
                .seal(&plain, Content::State)
                .await
                .map_err(|message| StateError::Encryption {
                    location: self.location(),
                    message: format!("cannot encrypt it: {message}"),
                })?
        } else {
            plain
        };
        match self.store.put(&bytes).await {
            Err(StateError::Conflict { location, .. }) => {
                let path = PathBuf::from(format!("keel-errored-{}.json", self.stack));
                let saved = std::fs::write(&path, &bytes).ok().map(|_| path);
                Err(StateError::Conflict { location, saved })
            }
            other => other,
        }
    }
}
