//! `keel show -json PLANFILE`: a plan saved with `keel plan -out PLANFILE`, checked for a
//! format this keel understands. An encrypted plan is opened with the keys in the
//! environment (`KEEL_STATE_PASSPHRASE`, or AWS KMS for a KMS-sealed plan).

use super::stack::Failure;
use crate::report::json::FORMAT_VERSION;
use crate::state::crypto::{self, Content, Encryption, EncryptionSettings};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The saved plan.
    pub file: std::path::PathBuf,
    /// Print as JSON (the saved form).
    #[arg(long)]
    pub json: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let bytes = std::fs::read(&args.file).map_err(|e| {
        Failure::Message(format!(
            "cannot read plan file {}: {e}",
            args.file.display()
        ))
    })?;
    let bytes = if crypto::is_sealed(&bytes) {
        let settings = EncryptionSettings::from_env().map_err(Failure::Message)?;
        let opened = super::stack::runtime()?
            .block_on(async { Encryption::new(settings).open(&bytes, Content::Plan).await });
        opened
            .map_err(|e| Failure::Message(format!("plan file {}: {e}", args.file.display())))?
            .0
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::Message(format!(
            "{} is not a keel plan file: {e}",
            args.file.display()
        ))
    })?;
    match doc.get("format_version").and_then(|v| v.as_str()) {
        Some(FORMAT_VERSION) => {}
        Some(other) => {
            return Err(Failure::Message(format!(
                "{} has plan format {other}; this keel reads {FORMAT_VERSION}. Make the plan again with this keel",
                args.file.display()
            )));
        }
        None => {
            return Err(Failure::Message(format!(
                "{} is not a keel plan file (no format_version)",
                args.file.display()
            )));
        }
    }
    if !args.json {
        return Err(Failure::Message(
            "saved plans are shown as JSON for now: pass -json".into(),
        ));
    }
    // What keel apply PLANFILE needs (sources, inputs, prior state) is not the plan.
    if let Some(m) = doc.as_object_mut() {
        m.remove("keel_apply");
    }
    println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    Ok(ExitCode::SUCCESS)
}
