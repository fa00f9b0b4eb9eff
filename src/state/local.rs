//! The local backend: `state/<stack>.json`, a lock file beside it, and a `.backup` of the
//! previous version. Writes go to a temporary file that is fsynced and renamed over the
//! old one, so a crash at any instant leaves either the old or the new state, whole. The
//! lock is an OS file lock, released by the kernel if the process dies.

use super::storage::{Locker, Storage};
use super::{LockInfo, StateError, StateLock};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A stack's state file on local disk.
#[derive(Debug, Clone)]
pub struct LocalStore {
    pub path: PathBuf,
}

impl LocalStore {
    pub fn new(path: impl Into<PathBuf>) -> LocalStore {
        LocalStore { path: path.into() }
    }

    fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    fn io(&self, source: std::io::Error) -> StateError {
        StateError::Io {
            location: self.location(),
            source,
        }
    }

    fn open_lock_file(&self) -> Result<File, StateError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.lock_path())
            .map_err(|e| self.io(e))
    }

    fn lock_now(&self, info: LockInfo) -> Result<StateLock, StateError> {
        let mut file = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    location: self.location(),
                    holder: Box::new(holder(&mut file)),
                    remote: false,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(self.io(e)),
        }
        file.set_len(0).map_err(|e| self.io(e))?;
        file.rewind().map_err(|e| self.io(e))?;
        file.write_all(
            serde_json::to_string(&info)
                .expect("lock info serialises")
                .as_bytes(),
        )
        .map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        // Clear the holder on release; the OS lock goes with the file handle.
        Ok(StateLock::new(info, move || {
            let _ = file.set_len(0);
        }))
    }

    fn put_now(&self, bytes: &[u8]) -> Result<(), StateError> {
        if self.path.exists() {
            let tmp_backup = with_suffix(&self.path, ".backup.tmp");
            let _ = fs::remove_file(&tmp_backup);
            fs::hard_link(&self.path, &tmp_backup)
                .or_else(|_| fs::copy(&self.path, &tmp_backup).map(|_| ()))
                .map_err(|e| self.io(e))?;
            fs::rename(&tmp_backup, self.backup_path()).map_err(|e| self.io(e))?;
        } else if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let tmp = with_suffix(&self.path, &format!(".tmp.{}", std::process::id()));
        {
            let mut f = File::create(&tmp).map_err(|e| self.io(e))?;
            f.write_all(bytes).map_err(|e| self.io(e))?;
            f.sync_all().map_err(|e| self.io(e))?;
        }
        fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Storage for LocalStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn backup_location(&self) -> String {
        self.backup_path().display().to_string()
    }

    async fn get(&self) -> Result<Option<Vec<u8>>, StateError> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    async fn put(&self, bytes: &[u8]) -> Result<(), StateError> {
        self.put_now(bytes)
    }
}

impl Locker for LocalStore {
    async fn lock(&self, info: LockInfo) -> Result<StateLock, StateError> {
        self.lock_now(info)
    }

    /// A local lock cannot go stale: the kernel drops it with its process. So there is
    /// either nothing to break, or a live process to stop instead.
    async fn force_unlock(&self, _id: &str) -> Result<LockInfo, StateError> {
        let mut file = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                Err(StateError::NotLocked {
                    location: self.location(),
                })
            }
            Err(fs::TryLockError::WouldBlock) => Err(StateError::HeldByLiveProcess {
                location: self.location(),
                holder: Box::new(holder(&mut file)),
            }),
            Err(fs::TryLockError::Error(e)) => Err(self.io(e)),
        }
    }
}

fn holder(file: &mut File) -> LockInfo {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    serde_json::from_str(&text).unwrap_or_else(|_| LockInfo::unknown())
}

pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn put_keeps_the_previous_version_as_backup() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("state/s.json"));
        block_on(async {
            assert!(store.get().await.unwrap().is_none());
            store.put(b"one").await.unwrap();
            store.put(b"two").await.unwrap();
            assert_eq!(store.get().await.unwrap().unwrap(), b"two");
        });
        assert_eq!(fs::read(store.backup_path()).unwrap(), b"one");
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("state"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("s.json"));
        block_on(async {
            let first = store.lock(LockInfo::new("apply")).await.unwrap();
            match store.lock(LockInfo::new("plan")).await.unwrap_err() {
                StateError::Locked { holder, remote, .. } => {
                    assert_eq!(holder.operation, "apply");
                    assert_eq!(holder.id, first.info.id);
                    assert!(!remote);
                }
                other => panic!("expected a lock error, got {other}"),
            }
            match store.force_unlock(&first.info.id).await.unwrap_err() {
                StateError::HeldByLiveProcess { holder, .. } => {
                    assert_eq!(holder.pid, std::process::id())
                }
                other => panic!("expected a live holder, got {other}"),
            }
            drop(first);
            assert!(matches!(
                store.force_unlock("x").await.unwrap_err(),
                StateError::NotLocked { .. }
            ));
            store
                .lock(LockInfo::new("plan"))
                .await
                .expect("free after release");
        });
    }
}
