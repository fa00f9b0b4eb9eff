//! Who holds a stack's state lock, and the lock itself: held until dropped, released by
//! whatever backend took it (an OS file lock, or a lock object in S3).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Who holds a lock: written into the lock (file or object) so a second command can say.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub who: String,
    pub pid: u32,
    pub created: String,
}

impl LockInfo {
    /// A new lock record for `operation` by this process.
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: who(),
            pid: std::process::id(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }

    /// A holder whose record could not be read.
    pub fn unknown() -> LockInfo {
        LockInfo {
            id: "unknown".into(),
            operation: "unknown".into(),
            who: "another keel process".into(),
            pid: 0,
            created: "unknown".into(),
        }
    }

    /// How long ago the lock was taken, when its time can be read.
    pub fn age(&self) -> Option<Duration> {
        let created = humantime::parse_rfc3339(&self.created).ok()?;
        SystemTime::now().duration_since(created).ok()
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (keel {}, pid {}, since {}",
            self.who, self.operation, self.pid, self.created
        )?;
        if let Some(age) = self.age() {
            write!(
                f,
                ", {} ago",
                humantime::format_duration(Duration::from_secs(age.as_secs()))
            )?;
        }
        write!(f, ", lock id {})", self.id)
    }
}

type Release = Box<dyn FnOnce() + Send>;

/// The lock on a stack's state, held until dropped. Dropping it releases it: a local lock
/// goes with its file handle, an S3 lock object is deleted (only if it is still this
/// lock's object).
pub struct StateLock {
    pub info: LockInfo,
    release: Mutex<Option<Release>>,
}

impl fmt::Debug for StateLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateLock")
            .field("info", &self.info)
            .finish()
    }
}

impl StateLock {
    /// A lock that `release` gives back.
    pub fn new(info: LockInfo, release: impl FnOnce() + Send + 'static) -> StateLock {
        StateLock {
            info,
            release: Mutex::new(Some(Box::new(release))),
        }
    }

    /// Gives the lock back now.
    pub fn release(self) {}
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let release = match self.release.get_mut() {
            Ok(r) => r.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(release) = release {
            release();
        }
    }
}

/// `user@host`, for lock records.
pub fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn dropping_the_lock_releases_it_once() {
        let released = Arc::new(AtomicBool::new(false));
        let flag = released.clone();
        let lock = StateLock::new(LockInfo::new("apply"), move || {
            assert!(!flag.swap(true, Ordering::SeqCst))
        });
        assert!(!released.load(Ordering::SeqCst));
        drop(lock);
        assert!(released.load(Ordering::SeqCst));
    }

    #[test]
    fn holder_says_who_what_and_how_long_ago() {
        let mut info = LockInfo::new("apply");
        info.created =
            humantime::format_rfc3339_seconds(SystemTime::now() - Duration::from_secs(125))
                .to_string();
        let text = info.to_string();
        assert!(text.contains("keel apply"), "{text}");
        assert!(
            text.contains("2m 5s ago") || text.contains("2m 6s ago"),
            "{text}"
        );
        assert!(text.contains(&info.id), "{text}");
    }
}
