//! Client-side encryption of state and saved plans: AES-256-GCM under a key derived from a
//! passphrase (Argon2id) or an AWS KMS data key. A sealed document is a small JSON
//! envelope that says everything needed to open it again except the secret: the format,
//! the cipher, the key's origin (KDF parameters and salt, or the KMS-encrypted data key),
//! the nonce and the ciphertext. All of it but the nonce and ciphertext is bound to the
//! ciphertext as associated data, so nothing in the envelope can be altered unnoticed.
//!
//! Secrets (passphrases, keys) are never printed: [`Secret`] hides itself in `Debug`, and
//! every error names the environment variable or key id, never the value.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Mutex;

/// The envelope format this keel writes and reads.
pub const FORMAT: &str = "keel-encrypted/1";
const CIPHER: &str = "AES-256-GCM";
const KDF: &str = "argon2id";
pub const PASSPHRASE_VAR: &str = "KEEL_STATE_PASSPHRASE";
pub const OLD_PASSPHRASE_VAR: &str = "KEEL_STATE_OLD_PASSPHRASE";
pub const KMS_KEY_VAR: &str = "KEEL_STATE_KMS_KEY_ID";
/// Passphrases shorter than this are refused, as OpenTofu does.
pub const MIN_PASSPHRASE: usize = 16;

/// Argon2id cost for new keys: 64 MiB, three passes, one lane (RFC 9106's second
/// recommended setting, with one lane). Recorded in each envelope, so it can change.
const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 1;

/// What a sealed document holds; a state cannot be opened as a plan, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    State,
    Plan,
}

impl Content {
    fn as_str(self) -> &'static str {
        match self {
            Content::State => "state",
            Content::Plan => "plan",
        }
    }
}

/// A passphrase: never printed.
#[derive(Clone, PartialEq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How new documents are sealed.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyProvider {
    /// A key derived from `KEEL_STATE_PASSPHRASE` with Argon2id.
    Passphrase,
    /// A data key from AWS KMS `GenerateDataKey` under this key (id, ARN or alias).
    AwsKms { key_id: String },
}

impl fmt::Display for KeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProvider::Passphrase => write!(f, "a passphrase ({PASSPHRASE_VAR})"),
            KeyProvider::AwsKms { key_id } => write!(f, "AWS KMS key {key_id}"),
        }
    }
}

/// Encryption as configured for a stack (the `encryption` block and the environment).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncryptionSettings {
    /// How new state (and plans) are sealed; `None` writes plain JSON.
    pub provider: Option<KeyProvider>,
    /// `KEEL_STATE_PASSPHRASE`: seals (with a passphrase provider) and opens.
    pub passphrase: Option<Secret>,
    /// `KEEL_STATE_OLD_PASSPHRASE`: only opens, for moving to a new key.
    pub old_passphrase: Option<Secret>,
    /// The KMS region, when not the standard chain's.
    pub kms_region: Option<String>,
    /// Seal saved plans too (the default when encryption is on).
    pub plans: bool,
}

impl EncryptionSettings {
    /// Settings from the environment alone: `KEEL_STATE_KMS_KEY_ID` turns on KMS
    /// encryption, else `KEEL_STATE_PASSPHRASE` passphrase encryption.
    pub fn from_env() -> Result<EncryptionSettings, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let passphrase = var(PASSPHRASE_VAR).map(Secret::new);
        let old_passphrase = var(OLD_PASSPHRASE_VAR).map(Secret::new);
        let provider = match var(KMS_KEY_VAR) {
            Some(key_id) => Some(KeyProvider::AwsKms { key_id }),
            None if passphrase.is_some() => Some(KeyProvider::Passphrase),
            None => None,
        };
        let settings = EncryptionSettings {
            provider,
            passphrase,
            old_passphrase,
            kms_region: None,
            plans: true,
        };
        settings.check()?;
        Ok(settings)
    }

    /// Refuses settings that could only fail later: a passphrase provider without a
    /// passphrase, or passphrases too short to be safe.
    pub fn check(&self) -> Result<(), String> {
        if self.provider == Some(KeyProvider::Passphrase) && self.passphrase.is_none() {
            return Err(format!(
                "state encryption is configured with a passphrase, but {PASSPHRASE_VAR} is not set\n  help: set {PASSPHRASE_VAR} to the team's state passphrase (at least {MIN_PASSPHRASE} characters); keel never reads it from the stack's files"
            ));
        }
        for (name, p) in [
            (PASSPHRASE_VAR, &self.passphrase),
            (OLD_PASSPHRASE_VAR, &self.old_passphrase),
        ] {
            if let Some(Secret(p)) = p
                && p.chars().count() < MIN_PASSPHRASE
            {
                return Err(format!(
                    "the passphrase in {name} is shorter than {MIN_PASSPHRASE} characters\n  help: use a longer passphrase; a short one is guessed quickly once someone has the encrypted state"
                ));
            }
        }
        Ok(())
    }
}

/// Where a sealed document's key came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum KeyHeader {
    Passphrase {
        kdf: String,
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
        salt: String,
    },
    AwsKms {
        key_id: String,
        encrypted_key: String,
    },
}

impl fmt::Display for KeyHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyHeader::Passphrase { .. } => f.write_str("a passphrase"),
            KeyHeader::AwsKms { key_id, .. } => write!(f, "AWS KMS key {key_id}"),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    encryption: String,
    content: String,
    cipher: String,
    key: KeyHeader,
    nonce: String,
    ciphertext: String,
}

/// The part of the envelope bound to the ciphertext.
#[derive(Serialize)]
struct Bound<'a> {
    encryption: &'a str,
    content: &'a str,
    cipher: &'a str,
    key: &'a KeyHeader,
}

#[derive(Deserialize)]
struct Probe {
    encryption: Option<serde::de::IgnoredAny>,
}

/// Is this a sealed document (as opposed to plain JSON, or something damaged)?
pub fn is_sealed(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.encryption.is_some())
}

/// A 256-bit key; wiped when dropped (by the cipher's own zeroize).
type KeyBytes = [u8; 32];

/// Seals and opens documents for one stack, caching derived and data keys so a command
/// pays for Argon2 or a KMS call once, not once per write.
pub struct Encryption {
    settings: EncryptionSettings,
    kms: tokio::sync::OnceCell<aws_sdk_kms::Client>,
    /// Keys derived from passphrases: (which passphrase, header) -> key.
    derived: Mutex<Vec<(usize, KeyHeader, KeyBytes)>>,
    /// Data keys KMS decrypted: header -> key.
    data_keys: Mutex<Vec<(KeyHeader, KeyBytes)>>,
    /// The key new documents are sealed with, once chosen.
    write_key: tokio::sync::Mutex<Option<(KeyHeader, KeyBytes)>>,
}

impl fmt::Debug for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryption")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Encryption {
    pub fn new(settings: EncryptionSettings) -> Encryption {
        Encryption {
            settings,
            kms: tokio::sync::OnceCell::new(),
            derived: Mutex::new(Vec::new()),
            data_keys: Mutex::new(Vec::new()),
            write_key: tokio::sync::Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &EncryptionSettings {
        &self.settings
    }

    /// Is new state sealed?
    pub fn enabled(&self) -> bool {
        self.settings.provider.is_some()
    }

    /// Are saved plans sealed?
    pub fn seals_plans(&self) -> bool {
        self.enabled() && self.settings.plans
    }

    /// Seals `plain` with the configured key. Errors are sentences without secrets.
    pub async fn seal(&self, plain: &[u8], content: Content) -> Result<Vec<u8>, String> {
        let (header, key) = self.write_key().await?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let bound = bound(content, &header);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: &bound,
                },
            )
            .map_err(|_| "encryption failed".to_string())?;
        let envelope = Envelope {
            encryption: FORMAT.into(),
            content: content.as_str().into(),
            cipher: CIPHER.into(),
            key: header,
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        };
        let mut out = serde_json::to_vec_pretty(&envelope).expect("envelope serialises");
        out.push(b'\n');
        Ok(out)
    }

    /// Opens a sealed document, returning its plain bytes and where its key came from.
    /// Errors say what to do, e.g. which variable to set.
    pub async fn open(
        &self,
        sealed: &[u8],
        content: Content,
    ) -> Result<(Vec<u8>, KeyHeader), String> {
        let envelope: Envelope = serde_json::from_slice(sealed).map_err(|e| {
            match serde_json::from_slice::<serde_json::Value>(sealed)
                .ok()
                .and_then(|v| v.get("encryption")?.as_str().map(str::to_string))
            {
                Some(f) if f != FORMAT => format!(
                    "it is encrypted in format {f}, which this keel does not know (it reads {FORMAT})\n  help: upgrade keel"
                ),
                _ => format!(
                    "its encryption envelope is damaged ({e})\n  help: keel has not changed it; restore the backup"
                ),
            }
        })?;
        if envelope.encryption != FORMAT {
            return Err(format!(
                "it is encrypted in format {}, which this keel does not know (it reads {FORMAT})\n  help: upgrade keel",
                envelope.encryption
            ));
        }
        if envelope.cipher != CIPHER {
            return Err(format!(
                "it is encrypted with {}, which this keel does not know",
                envelope.cipher
            ));
        }
        if envelope.content != content.as_str() {
            return Err(format!(
                "it holds an encrypted {}, not {}",
                envelope.content,
                content.as_str()
            ));
        }
        let damaged = |what: &str| {
            format!(
                "its encryption envelope is damaged ({what} is not base64)\n  help: keel has not changed it; restore the backup"
            )
        };
        let nonce = B64.decode(&envelope.nonce).map_err(|_| damaged("nonce"))?;
        if nonce.len() != 12 {
            return Err("its encryption envelope is damaged (the nonce is not 96 bits)".into());
        }
        let ciphertext = B64
            .decode(&envelope.ciphertext)
            .map_err(|_| damaged("ciphertext"))?;
        let bound = bound(content, &envelope.key);
        let try_key = |key: &KeyBytes| {
            Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
                .decrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &bound,
                    },
                )
                .ok()
        };
        match &envelope.key {
            KeyHeader::Passphrase { .. } => {
                let candidates = [
                    (0, PASSPHRASE_VAR, &self.settings.passphrase),
                    (1, OLD_PASSPHRASE_VAR, &self.settings.old_passphrase),
                ];
                let mut tried = Vec::new();
                for (which, var, secret) in candidates {
                    let Some(secret) = secret else { continue };
                    tried.push(var);
                    let key = self.derive(which, secret, &envelope.key)?;
                    if let Some(plain) = try_key(&key) {
                        if which == 0 {
                            // Keep writing under the key the state already has.
                            let mut w = self.write_key.lock().await;
                            if w.is_none()
                                && self.settings.provider == Some(KeyProvider::Passphrase)
                            {
                                *w = Some((envelope.key.clone(), key));
                            }
                        }
                        return Ok((plain, envelope.key));
                    }
                }
                if tried.is_empty() {
                    Err(format!(
                        "it is encrypted with a passphrase, and {PASSPHRASE_VAR} is not set\n  help: set {PASSPHRASE_VAR} to the passphrase the state was written with"
                    ))
                } else {
                    Err(format!(
                        "it cannot be decrypted with the passphrase in {}: the passphrase is wrong, or the file was altered\n  help: keel has not changed it. Set {PASSPHRASE_VAR} to the passphrase it was written with (when changing passphrases, put the old one in {OLD_PASSPHRASE_VAR})",
                        tried.join(" or ")
                    ))
                }
            }
            KeyHeader::AwsKms { key_id, .. } => {
                let key = self.data_key(&envelope.key).await?;
                try_key(&key).map(|plain| (plain, envelope.key.clone())).ok_or_else(|| {
                    format!("it cannot be decrypted with its data key from AWS KMS key {key_id}: the file was altered\n  help: keel has not changed it; restore the backup")
                })
            }
        }
    }

    /// The key for a passphrase envelope, derived once per passphrase and salt.
    fn derive(
        &self,
        which: usize,
        secret: &Secret,
        header: &KeyHeader,
    ) -> Result<KeyBytes, String> {
        let mut cache = self.derived.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, key)) = cache.iter().find(|(w, h, _)| *w == which && h == header) {
            return Ok(*key);
        }
        let KeyHeader::Passphrase {
            kdf,
            m_cost_kib,
            t_cost,
            p_cost,
            salt,
        } = header
        else {
            unreachable!("derive is only called for passphrase envelopes")
        };
        if kdf != KDF {
            return Err(format!(
                "its key was derived with {kdf}, which this keel does not know"
            ));
        }
        // A crafted file must not make keel allocate or spin without bound.
        if *m_cost_kib > 4 * 1024 * 1024 || *t_cost > 64 || *p_cost > 16 {
            return Err("its key derivation asks for more than 4 GiB, 64 passes or 16 lanes; keel refuses to run it".into());
        }
        let salt = B64.decode(salt).map_err(|_| {
            "its encryption envelope is damaged (the salt is not base64)".to_string()
        })?;
        let key = argon2id(&secret.0, &salt, *m_cost_kib, *t_cost, *p_cost)?;
        cache.push((which, header.clone(), key));
        Ok(key)
    }

    /// The plain data key of a KMS envelope, decrypted once.
    async fn data_key(&self, header: &KeyHeader) -> Result<KeyBytes, String> {
        if let Some((_, key)) = self
            .data_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(h, _)| h == header)
        {
            return Ok(*key);
        }
        let KeyHeader::AwsKms {
            key_id,
            encrypted_key,
        } = header
        else {
            unreachable!("data_key is only called for KMS envelopes")
        };
        let blob = B64.decode(encrypted_key).map_err(|_| {
            "its encryption envelope is damaged (the data key is not base64)".to_string()
        })?;
        let kms = self.kms().await;
        let out = kms
            .decrypt()
            .key_id(key_id)
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "its data key could not be decrypted with AWS KMS key {key_id}: {}\n  help: check that your credentials may use kms:Decrypt on that key, in its region",
                    kms_error(&e)
                )
            })?;
        let key = to_key(out.plaintext().map(|b| b.as_ref())).ok_or_else(|| {
            format!("AWS KMS key {key_id} returned a data key that is not 256 bits")
        })?;
        self.data_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((header.clone(), key));
        Ok(key)
    }

    /// The key new documents are sealed with: chosen once, on first use.
    async fn write_key(&self) -> Result<(KeyHeader, KeyBytes), String> {
        let mut slot = self.write_key.lock().await;
        if let Some(k) = slot.as_ref() {
            return Ok(k.clone());
        }
        let chosen = match &self.settings.provider {
            None => return Err("encryption is not configured".into()),
            Some(KeyProvider::Passphrase) => {
                let Some(secret) = &self.settings.passphrase else {
                    return Err(format!("{PASSPHRASE_VAR} is not set"));
                };
                let mut salt = [0u8; 16];
                OsRng.fill_bytes(&mut salt);
                let header = KeyHeader::Passphrase {
                    kdf: KDF.into(),
                    m_cost_kib: M_COST_KIB,
                    t_cost: T_COST,
                    p_cost: P_COST,
                    salt: B64.encode(salt),
                };
                let key = self.derive(0, secret, &header)?;
                (header, key)
            }
            Some(KeyProvider::AwsKms { key_id }) => {
                let kms = self.kms().await;
                let out = kms
                    .generate_data_key()
                    .key_id(key_id)
                    .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "AWS KMS could not generate a data key under {key_id}: {}\n  help: check the key id and that your credentials may use kms:GenerateDataKey on it",
                            kms_error(&e)
                        )
                    })?;
                let key = to_key(out.plaintext().map(|b| b.as_ref())).ok_or_else(|| {
                    format!("AWS KMS key {key_id} returned a data key that is not 256 bits")
                })?;
                let blob = out.ciphertext_blob().ok_or_else(|| {
                    format!("AWS KMS key {key_id} returned no encrypted data key")
                })?;
                let header = KeyHeader::AwsKms {
                    key_id: out.key_id().unwrap_or(key_id).to_string(),
                    encrypted_key: B64.encode(blob.as_ref()),
                };
                self.data_keys
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((header.clone(), key));
                (header, key)
            }
        };
        *slot = Some(chosen.clone());
        Ok(chosen)
    }

    async fn kms(&self) -> &aws_sdk_kms::Client {
        self.kms
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .retry_config(crate::providers::aws::retry_config());
                if let Some(region) = &self.settings.kms_region {
                    loader = loader.region(aws_config::Region::new(region.clone()));
                }
                let shared = loader.load().await;
                let shared = if shared.region().is_none() {
                    shared
                        .into_builder()
                        .region(aws_config::Region::new("us-east-1"))
                        .build()
                } else {
                    shared
                };
                aws_sdk_kms::Client::new(&shared)
            })
            .await
    }
}

fn bound(content: Content, key: &KeyHeader) -> Vec<u8> {
    serde_json::to_vec(&Bound {
        encryption: FORMAT,
        content: content.as_str(),
        cipher: CIPHER,
        key,
    })
    .expect("header serialises")
}

fn to_key(bytes: Option<&[u8]>) -> Option<KeyBytes> {
    bytes.and_then(|b| <KeyBytes>::try_from(b).ok())
}

fn argon2id(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<KeyBytes, String> {
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(m, t, p, Some(32))
        .map_err(|e| format!("its key derivation parameters are invalid ({e})"))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| format!("the key could not be derived ({e})"))?;
    Ok(key)
}

fn kms_error<E, R>(err: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_kms::error::ProvideErrorMetadata;
    match (err.code(), err.message()) {
        (Some(code), Some(m)) => format!("{code}: {m}"),
        (Some(code), None) => code.to_string(),
        _ => aws_sdk_kms::error::DisplayErrorContext(err).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn with(pass: Option<&str>, old: Option<&str>) -> Encryption {
        Encryption::new(EncryptionSettings {
            provider: pass.map(|_| KeyProvider::Passphrase),
            passphrase: pass.map(Secret::new),
            old_passphrase: old.map(Secret::new),
            kms_region: None,
            plans: true,
        })
    }

    const P1: &str = "correct horse battery staple";
    const P2: &str = "a different long passphrase";

    #[test]
    fn seals_and_opens_with_the_same_passphrase() {
        block_on(async {
            let sealed = with(Some(P1), None)
                .seal(b"{\"version\":1}", Content::State)
                .await
                .unwrap();
            assert!(is_sealed(&sealed));
            let text = String::from_utf8(sealed.clone()).unwrap();
            assert!(!text.contains("version"), "{text}");
            assert!(!text.contains(P1));
            // A fresh process (no cached key) opens it.
            let (plain, header) = with(Some(P1), None)
                .open(&sealed, Content::State)
                .await
                .unwrap();
            assert_eq!(plain, b"{\"version\":1}");
            assert!(matches!(header, KeyHeader::Passphrase { .. }));
        });
    }

    #[test]
    fn wrong_or_missing_passphrase_is_a_clear_error() {
        block_on(async {
            let sealed = with(Some(P1), None)
                .seal(b"x", Content::State)
                .await
                .unwrap();
            let wrong = with(Some(P2), None)
                .open(&sealed, Content::State)
                .await
                .unwrap_err();
            assert!(wrong.contains("passphrase is wrong"), "{wrong}");
            assert!(!wrong.contains(P2));
            let missing = with(None, None)
                .open(&sealed, Content::State)
                .await
                .unwrap_err();
            assert!(
                missing.contains("KEEL_STATE_PASSPHRASE is not set"),
                "{missing}"
            );
            // The old passphrase opens it while a new one is configured.
            let (plain, _) = with(Some(P2), Some(P1))
                .open(&sealed, Content::State)
                .await
                .unwrap();
            assert_eq!(plain, b"x");
        });
    }

    #[test]
    fn altering_the_envelope_is_detected() {
        block_on(async {
            let enc = with(Some(P1), None);
            let sealed = enc.seal(b"secret", Content::State).await.unwrap();
            let as_plan = enc.open(&sealed, Content::Plan).await.unwrap_err();
            assert!(as_plan.contains("not plan"), "{as_plan}");
            // Swap the content label: the bound header no longer matches.
            let relabelled = String::from_utf8(sealed.clone())
                .unwrap()
                .replace("\"content\": \"state\"", "\"content\": \"plan\"");
            assert!(
                enc.open(relabelled.as_bytes(), Content::Plan)
                    .await
                    .is_err()
            );
            // Flip a ciphertext byte.
            let mut env: serde_json::Value = serde_json::from_slice(&sealed).unwrap();
            let mut ct = B64.decode(env["ciphertext"].as_str().unwrap()).unwrap();
            ct[0] ^= 1;
            env["ciphertext"] = B64.encode(ct).into();
            let err = enc
                .open(&serde_json::to_vec(&env).unwrap(), Content::State)
                .await
                .unwrap_err();
            assert!(err.contains("altered"), "{err}");
            let cut = &sealed[..sealed.len() / 2];
            assert!(
                enc.open(cut, Content::State)
                    .await
                    .unwrap_err()
                    .contains("damaged")
            );
        });
    }

    #[test]
    fn a_read_key_is_reused_for_writes_and_nonces_differ() {
        block_on(async {
            let first = with(Some(P1), None)
                .seal(b"a", Content::State)
                .await
                .unwrap();
            let enc = with(Some(P1), None);
            enc.open(&first, Content::State).await.unwrap();
            let second = enc.seal(b"a", Content::State).await.unwrap();
            let a: serde_json::Value = serde_json::from_slice(&first).unwrap();
            let b: serde_json::Value = serde_json::from_slice(&second).unwrap();
            assert_eq!(a["key"], b["key"], "same salt: no second Argon2 run");
            assert_ne!(a["nonce"], b["nonce"]);
        });
    }

    #[test]
    fn settings_refuse_short_or_missing_passphrases() {
        let mut s = EncryptionSettings {
            provider: Some(KeyProvider::Passphrase),
            ..Default::default()
        };
        assert!(
            s.check()
                .unwrap_err()
                .contains("KEEL_STATE_PASSPHRASE is not set")
        );
        s.passphrase = Some(Secret::new("short"));
        let err = s.check().unwrap_err();
        assert!(err.contains("shorter than 16"), "{err}");
        assert!(!err.contains("short\""));
        assert_eq!(
            format!("{:?}", Secret::new("hunter2hunter2hunter2")),
            "Secret(***)"
        );
    }
}
