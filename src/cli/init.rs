//! `keel init DIR`: check the stack's backend (the bucket exists, the state can be read
//! and decrypted), and with `-migrate-state` move the state there from where it was.

use super::StackArgs;
use super::stack::{Failure, Stack};
use crate::state::migrate::{self, Migrated};
use crate::state::settings::{BackendSettings, StoreSettings, default_local_path};
use crate::state::{Backend, S3Settings, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Move the state from where it was (-from, or the default local file) into the
    /// configured backend.
    #[arg(long = "migrate-state")]
    pub migrate_state: bool,
    /// Where the state is now: a file path or s3://bucket/key (default: state/<stack>.json
    /// when the configured backend is S3).
    #[arg(long = "from", value_name = "PATH|s3://BUCKET/KEY")]
    pub from: Option<String>,
    /// Overwrite state that the destination already holds.
    #[arg(long = "force-copy")]
    pub force_copy: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    if !args.migrate_state {
        if args.from.is_some() {
            return Err(Failure::Message("-from is used with -migrate-state".into()));
        }
        let state = {
            let _lock = stack.lock("init")?;
            stack.read_state()?
        };
        println!(
            "keel has been initialized: state is kept in {}{}, and {}.",
            stack.backend.location(),
            match stack.backend.encryption().settings().provider.as_ref() {
                Some(p) => format!(", encrypted with {p}"),
                None => String::new(),
            },
            match state {
                Some(s) => format!(
                    "records {} resource(s) at serial {}",
                    s.resources.len(),
                    s.serial
                ),
                None => "holds no state yet".to_string(),
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let source = match (&args.from, stack.backend.store()) {
        (Some(from), _) => parse_source(from, &stack)?,
        (None, Store::S3(_)) => StoreSettings::Local {
            path: default_local_path(&stack.config.stack),
        },
        (None, Store::Local(_)) => {
            return Err(Failure::Message(format!(
                "the stack keeps its state in {}; say where it is now with -from s3://BUCKET/KEY (or -from PATH)",
                stack.backend.location()
            )));
        }
    };
    let from_local = match &source {
        StoreSettings::Local { path } => Some(path.clone()),
        StoreSettings::S3(_) => None,
    };
    let settings = BackendSettings {
        store: source,
        encryption: stack.backend.encryption().settings().clone(),
    };
    let from = stack
        .runtime
        .block_on(Backend::open(settings, &stack.config.stack));
    if from.location() == stack.backend.location() {
        return Err(Failure::Message(format!(
            "the state is already in {}; there is nothing to move",
            from.location()
        )));
    }
    let done = stack
        .runtime
        .block_on(migrate::migrate(&from, &stack.backend, args.force_copy))
        .map_err(|e| Failure::Message(e.to_string()))?;
    match done {
        Migrated {
            already: true,
            resources,
        } => println!(
            "{} already holds this state ({resources} resource(s)); nothing was copied.",
            stack.backend.location()
        ),
        Migrated { resources, .. } => println!(
            "Moved the state ({resources} resource(s)) from {} to {}, and read it back to check it.",
            from.location(),
            stack.backend.location()
        ),
    }
    match from_local {
        Some(path) if path.exists() => {
            let mut kept = path.clone().into_os_string();
            kept.push(".migrated");
            let kept = PathBuf::from(kept);
            std::fs::rename(&path, &kept).map_err(|e| {
                Failure::Message(format!(
                    "the state was copied, but {} could not be renamed out of the way: {e}",
                    path.display()
                ))
            })?;
            println!(
                "The old copy is kept as {}; keel will not use it again.",
                kept.display()
            );
        }
        Some(_) => {}
        None => println!(
            "The state at {} was left in place; delete it once nothing uses it.",
            from.location()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `-from PATH` or `-from s3://BUCKET/KEY` (in the configured backend's region and
/// endpoint, when it is S3).
fn parse_source(from: &str, stack: &Stack) -> Result<StoreSettings, Failure> {
    let Some(rest) = from.strip_prefix("s3://") else {
        return Ok(StoreSettings::Local {
            path: PathBuf::from(from),
        });
    };
    let Some((bucket, key)) = rest
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
    else {
        return Err(Failure::Message(format!(
            "-from {from}: expected s3://BUCKET/KEY"
        )));
    };
    let base = match stack.backend.store() {
        Store::S3(s3) => s3.settings().clone(),
        Store::Local(_) => S3Settings::default(),
    };
    Ok(StoreSettings::S3(S3Settings {
        bucket: bucket.to_string(),
        key: key.to_string(),
        ..base
    }))
}
