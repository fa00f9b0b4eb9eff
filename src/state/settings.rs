//! Where a stack's state lives and how it is sealed: the `terraform { backend ... }` and
//! `terraform { encryption { ... } }` blocks (with the `-state` flag and the environment)
//! -> [`BackendSettings`]. Backend blocks take plain values only, as in Terraform.

use super::S3Settings;
use super::crypto::{EncryptionSettings, KMS_KEY_VAR, KeyProvider};
use crate::config::{Backend as Block, Config, attr_span, block_header_span};
use crate::diag::{Diagnostic, Diagnostics, FileId, suggest};
use hcl_edit::structure::{Attribute, Body};
use std::path::{Path, PathBuf};

/// Which store holds the state.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreSettings {
    Local { path: PathBuf },
    S3(S3Settings),
}

/// A stack's backend, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSettings {
    pub store: StoreSettings,
    pub encryption: EncryptionSettings,
}

const S3_ARGS: &[&str] = &[
    "bucket",
    "key",
    "region",
    "encrypt",
    "kms_key_id",
    "endpoint",
    "use_path_style",
    "force_path_style",
    "use_lockfile",
];

const ENCRYPTION_ARGS: &[&str] = &["key_provider", "kms_key_id", "region", "plans"];

/// The default local state file: `state/<stack>.json` under the working directory.
pub fn default_local_path(stack: &str) -> PathBuf {
    PathBuf::from("state").join(format!("{stack}.json"))
}

/// Resolves the stack's backend: `-state PATH` (a local file) wins, then the backend
/// block, then `state/<stack>.json`. Encryption comes from the `encryption` block and the
/// environment. Problems are diagnostics at the offending setting.
pub fn resolve(config: &Config, state_flag: Option<&Path>) -> Result<BackendSettings, Diagnostics> {
    let mut diags = Diagnostics::default();
    let store = match (state_flag, &config.terraform.backend) {
        (Some(p), _) => StoreSettings::Local {
            path: p.to_path_buf(),
        },
        (None, Some(b)) if b.kind == "s3" => match s3(b, &mut diags) {
            Some(s) => StoreSettings::S3(s),
            None => StoreSettings::Local {
                path: default_local_path(&config.stack),
            },
        },
        (None, Some(b)) => {
            let mut path = default_local_path(&config.stack);
            for attr in attributes(&b.body) {
                match attr.key.as_str() {
                    "path" => {
                        if let Some(p) = plain_string(b.file, attr, &mut diags) {
                            path = config.dir.join(p);
                        }
                    }
                    other => {
                        diags.push(unknown(b.file, attr, other, "backend \"local\"", &["path"]))
                    }
                }
            }
            StoreSettings::Local { path }
        }
        (None, None) => StoreSettings::Local {
            path: default_local_path(&config.stack),
        },
    };
    let encryption = match &config.terraform.encryption {
        Some(block) => encryption(block, &mut diags),
        None => EncryptionSettings::from_env().map_err(Diagnostic::error),
    };
    let encryption = match encryption {
        Ok(e) => e,
        Err(d) => {
            diags.push(d);
            EncryptionSettings::default()
        }
    };
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(BackendSettings { store, encryption })
}

fn attributes(body: &Body) -> impl Iterator<Item = &Attribute> {
    body.iter().filter_map(|s| s.as_attribute())
}

fn unknown(file: FileId, attr: &Attribute, name: &str, what: &str, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(format!("unsupported argument \"{name}\" in {what}"))
        .at(attr_span(file, attr));
    match suggest(name, known.iter().copied()) {
        Some(s) => d.help(format!("did you mean {s}?")),
        None => d.help(format!("{what} takes {}", known.join(", "))),
    }
}

fn plain_string(file: FileId, attr: &Attribute, diags: &mut Diagnostics) -> Option<String> {
    match attr.value.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            diags.push(
                Diagnostic::error(format!("{} must be a plain string", attr.key.as_str()))
                    .at(attr_span(file, attr))
                    .help("backend and encryption settings are read before anything is evaluated, so variables and expressions cannot be used here (as in Terraform)"),
            );
            None
        }
    }
}

fn plain_bool(file: FileId, attr: &Attribute, diags: &mut Diagnostics) -> Option<bool> {
    match attr.value.as_bool() {
        Some(b) => Some(b),
        None => {
            diags.push(
                Diagnostic::error(format!("{} must be true or false", attr.key.as_str()))
                    .at(attr_span(file, attr)),
            );
            None
        }
    }
}

fn s3(b: &Block, diags: &mut Diagnostics) -> Option<S3Settings> {
    let mut s = S3Settings::default();
    let before = diags.items.len();
    let (mut bucket, mut key) = (None, None);
    for attr in attributes(&b.body) {
        let f = b.file;
        match attr.key.as_str() {
            "bucket" => bucket = plain_string(f, attr, diags),
            "key" => key = plain_string(f, attr, diags),
            "region" => s.region = plain_string(f, attr, diags),
            "encrypt" => s.encrypt = plain_bool(f, attr, diags).unwrap_or(false),
            "kms_key_id" => s.kms_key_id = plain_string(f, attr, diags),
            "endpoint" => s.endpoint = plain_string(f, attr, diags),
            "use_path_style" | "force_path_style" => s.use_path_style = plain_bool(f, attr, diags),
            "use_lockfile" => {
                if plain_bool(f, attr, diags) == Some(false) {
                    diags.push(
                        Diagnostic::error("keel always locks S3 state; use_lockfile = false cannot be honoured")
                            .at(attr_span(f, attr))
                            .help("remove use_lockfile: keel locks with a lock object created by a conditional write"),
                    );
                }
            }
            "dynamodb_table" => diags.push(
                Diagnostic::error("keel does not lock state with DynamoDB")
                    .at(attr_span(f, attr))
                    .help("remove dynamodb_table: keel locks S3 state with a conditional write of a lock object beside it, as Terraform 1.10+ does with use_lockfile = true"),
            ),
            other => diags.push(unknown(f, attr, other, "backend \"s3\"", S3_ARGS)),
        }
    }
    for block in b.body.iter().filter_map(|s| s.as_block()) {
        match block.ident.as_str() {
            "endpoints" => {
                // Only S3 is used by this backend; other services' endpoints are ignored.
                for attr in attributes(&block.body).filter(|a| a.key.as_str() == "s3") {
                    s.endpoint = plain_string(b.file, attr, diags);
                }
            }
            other => diags.push(
                Diagnostic::error(format!("unsupported block \"{other}\" in backend \"s3\""))
                    .at(block_header_span(b.file, block))
                    .help("backend \"s3\" takes an endpoints { s3 = \"...\" } block and the arguments bucket, key, region, encrypt, kms_key_id, use_path_style"),
            ),
        }
    }
    for (name, value) in [("bucket", &bucket), ("key", &key)] {
        if value.as_deref().is_none_or(str::is_empty)
            && !diags.items[before..]
                .iter()
                .any(|d| d.message.starts_with(name))
        {
            diags.push(
                Diagnostic::error(format!("backend \"s3\" needs {name}"))
                    .at(b.span.clone())
                    .help("write backend \"s3\" { bucket = \"team-state\", key = \"stacks/NAME.json\", region = \"us-east-1\" }"),
            );
        }
    }
    if let Some(k) = &key
        && (k.starts_with('/') || k.ends_with('/'))
    {
        diags.push(
            Diagnostic::error(format!(
                "the S3 state key \"{k}\" must not start or end with /"
            ))
            .at(b.span.clone()),
        );
    }
    if diags.items.len() > before {
        return None;
    }
    s.bucket = bucket?;
    s.key = key?;
    Some(s)
}

fn encryption(b: &Block, diags: &mut Diagnostics) -> Result<EncryptionSettings, Diagnostic> {
    let env =
        EncryptionSettings::from_env().map_err(|m| Diagnostic::error(m).at(b.span.clone()))?;
    let mut provider_name = None;
    let mut kms_key_id = None;
    let mut settings = EncryptionSettings {
        plans: true,
        ..env.clone()
    };
    for attr in attributes(&b.body) {
        let f = b.file;
        match attr.key.as_str() {
            "key_provider" => provider_name = plain_string(f, attr, diags).map(|p| (p, attr)),
            "kms_key_id" => kms_key_id = plain_string(f, attr, diags),
            "region" => settings.kms_region = plain_string(f, attr, diags),
            "plans" => settings.plans = plain_bool(f, attr, diags).unwrap_or(true),
            "passphrase" => diags.push(
                Diagnostic::error(
                    "a passphrase in the stack's files would be committed along with them",
                )
                .at(attr_span(f, attr))
                .help("remove it and set KEEL_STATE_PASSPHRASE in the environment instead"),
            ),
            other => diags.push(unknown(f, attr, other, "encryption", ENCRYPTION_ARGS)),
        }
    }
    settings.provider = match provider_name {
        Some((p, _)) if p == "passphrase" => Some(KeyProvider::Passphrase),
        Some((p, _)) if p == "aws_kms" => {
            match kms_key_id.or_else(|| std::env::var(KMS_KEY_VAR).ok().filter(|v| !v.is_empty())) {
                Some(key_id) => Some(KeyProvider::AwsKms { key_id }),
                None => {
                    return Err(Diagnostic::error("key_provider \"aws_kms\" needs kms_key_id")
                        .at(b.span.clone())
                        .help("add kms_key_id = \"alias/keel-state\" (a key id, ARN or alias), or set KEEL_STATE_KMS_KEY_ID"));
                }
            }
        }
        Some((p, attr)) => {
            return Err(Diagnostic::error(format!("unknown key_provider \"{p}\""))
                .at(attr_span(b.file, attr))
                .help("key_provider is \"passphrase\" (KEEL_STATE_PASSPHRASE) or \"aws_kms\" (with kms_key_id)"));
        }
        None => {
            return Err(Diagnostic::error("the encryption block needs key_provider")
                .at(b.span.clone())
                .help("key_provider is \"passphrase\" (KEEL_STATE_PASSPHRASE) or \"aws_kms\" (with kms_key_id)"));
        }
    };
    settings
        .check()
        .map_err(|m| Diagnostic::error(m).at(b.span.clone()))?;
    Ok(settings)
}
