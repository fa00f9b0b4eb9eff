//! The local backend: `state/<stack>.json`, a lock file beside it, and a `.backup` of the
//! previous version. Writes go to a temporary file that is fsynced and renamed over the
//! old one, so a crash at any instant leaves either the old or the new state, whole.

use super::{FORMAT_VERSION, State, StateError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Who holds a lock, written into the lock file so a second command can say.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub who: String,
    pub pid: u32,
    pub created: String,
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (keel {}, pid {}, since {}, lock id {})",
            self.who, self.operation, self.pid, self.created, self.id
        )
    }
}

/// A stack's state file on local disk.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    pub path: PathBuf,
}

/// The lock on a state file, held until dropped. The operating system releases it if the
/// process dies, so a killed keel never leaves a stale lock behind.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    pub info: LockInfo,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Clear the holder; the OS lock goes with the file handle.
        let _ = self.file.set_len(0);
    }
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend { path: path.into() }
    }

    fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    fn io(&self, source: std::io::Error) -> StateError {
        StateError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Takes the lock for `operation`, failing at once if another command holds it.
    pub fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.lock_path())
            .map_err(|e| self.io(e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder: LockInfo = serde_json::from_str(&text).unwrap_or(LockInfo {
                    id: "unknown".into(),
                    operation: "unknown".into(),
                    who: "another keel process".into(),
                    pid: 0,
                    created: "unknown".into(),
                });
                return Err(StateError::Locked {
                    path: self.path.clone(),
                    holder: Box::new(holder),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(self.io(e)),
        }
        let info = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: who(),
            pid: std::process::id(),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        };
        file.set_len(0).map_err(|e| self.io(e))?;
        file.rewind().map_err(|e| self.io(e))?;
        file.write_all(
            serde_json::to_string(&info)
                .expect("lock info serialises")
                .as_bytes(),
        )
        .map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        Ok(StateLock { file, info })
    }

    /// Reads the state; `None` when no state file exists yet. A damaged file is an error and
    /// is left exactly as it is.
    pub fn read(&self) -> Result<Option<State>, StateError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
                path: self.path.clone(),
                reason: format!("not valid JSON ({e})"),
            })?;
        let version = json
            .get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| StateError::Corrupt {
                path: self.path.clone(),
                reason: "no format version".into(),
            })?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(StateError::TooNew {
                path: self.path.clone(),
                found: version as u32,
            });
        }
        serde_json::from_value(json)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            })
    }

    /// Writes `state` with its serial bumped: the current file becomes the backup, the new
    /// one is written to a temporary file, fsynced and renamed into place.
    pub fn write(&self, _lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        state.keel_version = env!("CARGO_PKG_VERSION").to_string();
        let text = serde_json::to_string_pretty(state).expect("state serialises") + "\n";
        if self.path.exists() {
            let tmp_backup = with_suffix(&self.path, ".backup.tmp");
            let _ = fs::remove_file(&tmp_backup);
            fs::hard_link(&self.path, &tmp_backup)
                .or_else(|_| fs::copy(&self.path, &tmp_backup).map(|_| ()))
                .map_err(|e| self.io(e))?;
            fs::rename(&tmp_backup, self.backup_path()).map_err(|e| self.io(e))?;
        }
        let tmp = with_suffix(&self.path, &format!(".tmp.{}", std::process::id()));
        {
            let mut f = File::create(&tmp).map_err(|e| self.io(e))?;
            f.write_all(text.as_bytes()).map_err(|e| self.io(e))?;
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

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_bumps_serial_and_keeps_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(dir.path().join("s.json"));
        let lock = backend.lock("test").unwrap();
        assert!(backend.read().unwrap().is_none());
        let mut state = State::new("s");
        backend.write(&lock, &mut state).unwrap();
        assert_eq!(state.serial, 1);
        state.outputs.insert(
            "x".into(),
            super::super::OutputState {
                value: 1.into(),
                sensitive: false,
            },
        );
        backend.write(&lock, &mut state).unwrap();
        let read = backend.read().unwrap().unwrap();
        assert_eq!(read, state);
        let backup: State =
            serde_json::from_str(&fs::read_to_string(backend.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 1);
        assert!(backup.outputs.is_empty());
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(dir.path().join("s.json"));
        let first = backend.lock("apply").unwrap();
        let err = backend.lock("plan").unwrap_err();
        match err {
            StateError::Locked { holder, .. } => {
                assert_eq!(holder.operation, "apply");
                assert_eq!(holder.id, first.info.id);
            }
            other => panic!("expected a lock error, got {other}"),
        }
        drop(first);
        backend.lock("plan").expect("free after release");
    }

    #[test]
    fn damaged_state_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        fs::write(&path, "{\"version\": 1, \"lin").unwrap();
        let backend = LocalBackend::new(&path);
        let err = backend.read().unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"version\": 1, \"lin");
        fs::write(&path, "{\"version\": 99}").unwrap();
        assert!(matches!(
            backend.read().unwrap_err(),
            StateError::TooNew { found: 99, .. }
        ));
    }
}
