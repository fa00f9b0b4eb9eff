//! The S3 backend: the state document is one object; the lock is a second object
//! (`KEY.lock`) created with a conditional write (`If-None-Match: *`) that holds who took
//! it, when, and for what. Every state write is conditional too (`If-Match` on the ETag
//! this store last saw), so a command whose lock was broken cannot overwrite the state
//! someone else wrote since; the version being replaced is first copied to `KEY.backup`.

use super::storage::{Locker, Storage};
use super::{LockInfo, StateError, StateLock};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::ServerSideEncryption;
use std::sync::Mutex;

/// `backend "s3" { ... }`, with Terraform's argument names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct S3Settings {
    pub bucket: String,
    pub key: String,
    /// The bucket's region; the standard AWS chain's when absent.
    pub region: Option<String>,
    /// Server-side encryption of the objects (`encrypt = true`): SSE-S3, or SSE-KMS with
    /// `kms_key_id`. Client-side encryption is the `encryption` block's business.
    pub encrypt: bool,
    pub kms_key_id: Option<String>,
    /// A custom S3 endpoint (`endpoints { s3 = ... }`); otherwise `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL`, as the SDK reads them.
    pub endpoint: Option<String>,
    /// Path-style addressing; the default when a custom endpoint is used.
    pub use_path_style: Option<bool>,
}

/// What this store last saw of the state object, which its next write must replace.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// Not read yet: a write only creates.
    Unknown,
    Absent,
    ETag(String),
}

/// A stack's state in an S3 bucket.
pub struct S3Store {
    client: Client,
    settings: S3Settings,
    region: String,
    seen: Mutex<Seen>,
}

impl S3Store {
    /// Builds the S3 client from the settings and the standard AWS chain.
    pub async fn connect(settings: S3Settings) -> S3Store {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(crate::providers::aws::retry_config());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        let loader = crate::providers::aws::plain_http_loader(loader, settings.endpoint.as_deref());
        let shared = loader.load().await;
        let region = shared
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        let path_style = settings
            .use_path_style
            .unwrap_or(shared.endpoint_url().is_some());
        let conf = aws_sdk_s3::config::Builder::from(&shared)
            .region(Region::new(region.clone()))
            .force_path_style(path_style)
            .build();
        S3Store {
            client: Client::from_conf(conf),
            settings,
            region,
            seen: Mutex::new(Seen::Unknown),
        }
    }

    /// A store over a client built elsewhere (tests point one at their endpoint).
    pub fn with_client(client: Client, settings: S3Settings) -> S3Store {
        let region = settings
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_string());
        S3Store {
            client,
            settings,
            region,
            seen: Mutex::new(Seen::Unknown),
        }
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.settings.key)
    }

    fn backup_key(&self) -> String {
        format!("{}.backup", self.settings.key)
    }

    fn seen(&self) -> Seen {
        match self.seen.lock() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set_seen(&self, seen: Seen) {
        match self.seen.lock() {
            Ok(mut s) => *s = seen,
            Err(p) => *p.into_inner() = seen,
        }
    }

    fn sse(&self) -> Option<ServerSideEncryption> {
        match (self.settings.encrypt, &self.settings.kms_key_id) {
            (_, Some(_)) => Some(ServerSideEncryption::AwsKms),
            (true, None) => Some(ServerSideEncryption::Aes256),
            (false, None) => None,
        }
    }

    fn fail<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
        &self,
        operation: &str,
        err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> StateError {
        if err.code() == Some("NoSuchBucket") {
            return StateError::NoBucket {
                bucket: self.settings.bucket.clone(),
                region: self.region.clone(),
                location: self.location(),
            };
        }
        let message = match (err.code(), err.message()) {
            (Some(code), Some(m)) => format!("{code}: {m}"),
            (Some(code), None) => code.to_string(),
            _ => aws_sdk_s3::error::DisplayErrorContext(&err).to_string(),
        };
        StateError::Remote {
            location: self.location(),
            operation: operation.to_string(),
            message,
        }
    }

    /// An object's bytes and ETag; `None` when it does not exist.
    async fn fetch(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(self.fail("GetObject", e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StateError::Remote {
                location: self.location(),
                operation: "GetObject".into(),
                message: format!("reading the body: {e}"),
            })?
            .into_bytes()
            .to_vec();
        Ok(Some((bytes, etag)))
    }

    /// Copies the state object, exactly at `etag`, to the backup object.
    async fn back_up(&self, etag: &str) -> Result<(), StateError> {
        let source = format!(
            "{}/{}",
            self.settings.bucket,
            encode_key(&self.settings.key)
        );
        let mut req = self
            .client
            .copy_object()
            .bucket(&self.settings.bucket)
            .key(self.backup_key())
            .copy_source(source)
            .copy_source_if_match(etag);
        if let Some(sse) = self.sse() {
            req = req
                .server_side_encryption(sse)
                .set_ssekms_key_id(self.settings.kms_key_id.clone());
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_precondition(&e) => Err(StateError::Conflict {
                location: self.location(),
                saved: None,
            }),
            Err(e) => Err(self.fail("CopyObject", e)),
        }
    }

    /// The holder of the lock object, with its ETag; `None` when there is no lock.
    async fn holder(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        Ok(self.fetch(&self.lock_key()).await?.map(|(bytes, etag)| {
            let info = serde_json::from_slice(&bytes).unwrap_or_else(|_| LockInfo::unknown());
            (info, etag)
        }))
    }
}

impl Storage for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.settings.bucket, self.settings.key)
    }

    fn backup_location(&self) -> String {
        format!("s3://{}/{}", self.settings.bucket, self.backup_key())
    }

    async fn get(&self) -> Result<Option<Vec<u8>>, StateError> {
        match self.fetch(&self.settings.key).await? {
            Some((bytes, etag)) => {
                self.set_seen(Seen::ETag(etag));
                Ok(Some(bytes))
            }
            None => {
                self.set_seen(Seen::Absent);
                Ok(None)
            }
        }
    }

    async fn put(&self, bytes: &[u8]) -> Result<(), StateError> {
        let seen = self.seen();
        let mut req = self
            .client
            .put_object()
            .bucket(&self.settings.bucket)
            .key(&self.settings.key)
            .content_type("application/json")
            .body(bytes.to_vec().into());
        match &seen {
            Seen::ETag(etag) => {
                self.back_up(etag).await?;
                req = req.if_match(etag);
            }
            Seen::Absent | Seen::Unknown => req = req.if_none_match("*"),
        }
        if let Some(sse) = self.sse() {
            req = req
                .server_side_encryption(sse)
                .set_ssekms_key_id(self.settings.kms_key_id.clone());
        }
        match req.send().await {
            Ok(out) => {
                self.set_seen(Seen::ETag(out.e_tag().unwrap_or_default().to_string()));
                Ok(())
            }
            Err(e) if is_precondition(&e) => {
                // A retried PUT whose first attempt landed finds its own bytes there.
                if let Some((now, etag)) = self.fetch(&self.settings.key).await?
                    && now == bytes
                {
                    self.set_seen(Seen::ETag(etag));
                    return Ok(());
                }
                Err(StateError::Conflict {
                    location: self.location(),
                    saved: None,
                })
            }
            Err(e) => Err(self.fail("PutObject", e)),
        }
    }
}

impl Locker for S3Store {
    async fn lock(&self, info: LockInfo) -> Result<StateLock, StateError> {
        let body = serde_json::to_vec_pretty(&info).expect("lock info serialises");
        for _ in 0..3 {
            let mut req = self
                .client
                .put_object()
                .bucket(&self.settings.bucket)
                .key(self.lock_key())
                .content_type("application/json")
                .if_none_match("*")
                .body(body.clone().into());
            if let Some(sse) = self.sse() {
                req = req
                    .server_side_encryption(sse)
                    .set_ssekms_key_id(self.settings.kms_key_id.clone());
            }
            let taken = match req.send().await {
                Ok(out) => Some(out.e_tag().unwrap_or_default().to_string()),
                Err(e) if is_precondition(&e) => None,
                Err(e) => return Err(self.fail("PutObject (lock)", e)),
            };
            let etag = match taken {
                Some(etag) => etag,
                None => match self.holder().await? {
                    // A retried PUT whose first attempt took the lock for us.
                    Some((holder, etag)) if holder.id == info.id => etag,
                    Some((holder, _)) => {
                        return Err(StateError::Locked {
                            location: self.location(),
                            holder: Box::new(holder),
                            remote: true,
                        });
                    }
                    // Released between our PUT and our GET: try again.
                    None => continue,
                },
            };
            return Ok(self.held(info, etag));
        }
        Err(StateError::Locked {
            location: self.location(),
            holder: Box::new(LockInfo::unknown()),
            remote: true,
        })
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let Some((holder, etag)) = self.holder().await? else {
            return Err(StateError::NotLocked {
                location: self.location(),
            });
        };
        if holder.id != id {
            return Err(StateError::LockMismatch {
                location: self.location(),
                id: id.to_string(),
                holder: Box::new(holder),
            });
        }
        match self
            .client
            .delete_object()
            .bucket(&self.settings.bucket)
            .key(self.lock_key())
            .if_match(&etag)
            .send()
            .await
        {
            Ok(_) => Ok(holder),
            Err(e) if is_precondition(&e) => Err(StateError::Remote {
                location: self.location(),
                operation: "DeleteObject (lock)".into(),
                message: "the lock changed while it was being broken; nothing was unlocked".into(),
            }),
            Err(e) => Err(self.fail("DeleteObject (lock)", e)),
        }
    }
}

impl S3Store {
    /// The lock, released by deleting the lock object only while it is still this one.
    fn held(&self, info: LockInfo, etag: String) -> StateLock {
        let client = self.client.clone();
        let bucket = self.settings.bucket.clone();
        let key = self.lock_key();
        let location = self.location();
        let id = info.id.clone();
        let handle = tokio::runtime::Handle::current();
        StateLock::new(info, move || {
            // Released from Drop, which cannot await: run the delete to completion on a
            // thread of its own, driven by the runtime the lock was taken on.
            let release = move || {
                let result = handle.block_on(async {
                    client
                        .delete_object()
                        .bucket(bucket)
                        .key(key)
                        .if_match(etag)
                        .send()
                        .await
                });
                match result {
                    Ok(_) => Released::Yes,
                    Err(e) if is_precondition(&e) => Released::Broken,
                    Err(_) => Released::Failed,
                }
            };
            match std::thread::spawn(release).join() {
                Ok(Released::Yes) => {}
                // Not this lock's object any more: it was broken while this command ran.
                Ok(Released::Broken) => eprintln!(
                    "Warning: this command's lock on state {location} (id {id}) was broken with keel force-unlock while it ran"
                ),
                _ => eprintln!(
                    "Warning: keel could not release its lock on state {location}. Once no keel is using the state, break it with: keel force-unlock {id} <stack dir>"
                ),
            }
        })
    }
}

/// How releasing a lock went.
enum Released {
    Yes,
    /// Someone broke it first.
    Broken,
    Failed,
}

fn is_precondition<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: HasStatus,
{
    matches!(
        err.code(),
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    ) || err
        .raw_response()
        .is_some_and(|r| matches!(r.status_code(), 409 | 412))
}

trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Percent-encodes an object key for `x-amz-copy-source`, keeping `/`.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_keys_are_percent_encoded() {
        assert_eq!(encode_key("stacks/gpu/state.json"), "stacks/gpu/state.json");
        assert_eq!(encode_key("a b+c"), "a%20b%2Bc");
    }
}
