//! Saved plans. `keel plan -out FILE` writes the plan's JSON document (`keel-plan/1`, what
//! `keel show -json` prints) and, under `keel_apply`, everything `keel apply FILE` needs to
//! execute exactly that plan without planning again, as Terraform's plan files embed the
//! configuration: the stack's source files (modules included), the values of its input
//! variables, the refreshed state the plan was made against, and the plan with its
//! schedule. `keel apply FILE` refuses when the state's lineage or serial changed since.
//!
//! When the stack encrypts its state, the whole file is sealed too, so input values and
//! recorded attributes never sit in plain text in it. Without encryption the file holds
//! them as Terraform's plan files do: keep it where the state is kept.

use super::StackArgs;
use super::stack::{Failure, Stack, runtime};
use crate::config;
use crate::eval::Inputs;
use crate::graph;
use crate::plan::Plan;
use crate::report::{Redactor, json};
use crate::state::crypto::{self, Content, Encryption, EncryptionSettings};
use crate::state::{Backend, State, settings};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of the `keel_apply` section. 2: deletes wait through joins
/// (`Step::after_joins`), which a keel reading version 1 would not honour.
pub const FORMAT: &str = "keel-saved-plan/2";

#[derive(Serialize, Deserialize)]
struct Payload {
    format: String,
    /// Where the stack was (absolute).
    stack_dir: PathBuf,
    /// The closest directory holding the stack and every module it calls.
    base: PathBuf,
    /// Every source file, by its path under `base`.
    files: BTreeMap<String, String>,
    /// Values of the stack's variables from -var, variables files, prompts and the
    /// environment, converted to their types (defaults come from the files).
    vars: BTreeMap<String, Value>,
    /// `-state PATH`, when given.
    state_flag: Option<PathBuf>,
    /// The state the plan was made against (refreshed).
    prior_state: State,
    plan: Plan,
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn common_base(paths: &[PathBuf]) -> PathBuf {
    let mut base = paths.first().cloned().unwrap_or_default();
    for p in paths.iter().skip(1) {
        while !p.starts_with(&base) {
            if !base.pop() {
                break;
            }
        }
    }
    base
}

/// Writes `plan` to `out` (sealed when the stack encrypts plans).
pub fn save(
    stack: &Stack,
    args: &StackArgs,
    prior: &State,
    plan: &Plan,
    redact: &Redactor,
    out: &Path,
) -> Result<(), Failure> {
    let stack_dir = absolute(&stack.config.dir);
    let files: Vec<(PathBuf, String)> = stack
        .config
        .sources
        .files()
        .map(|f| (absolute(&f.path), f.text.clone()))
        .collect();
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|(p, _)| p.parent().map(Path::to_path_buf))
        .collect();
    dirs.push(stack_dir.clone());
    // One level above, so the stack's directory keeps its name (the stack's name).
    let common = common_base(&dirs);
    let base = common.parent().map(Path::to_path_buf).unwrap_or(common);
    let vars =
        crate::eval::given_values(&stack.config, &stack.inputs).map_err(|d| stack.fail(d))?;
    let payload = Payload {
        format: FORMAT.into(),
        stack_dir,
        files: files
            .iter()
            .filter_map(|(p, t)| {
                Some((
                    p.strip_prefix(&base).ok()?.to_string_lossy().into_owned(),
                    t.clone(),
                ))
            })
            .collect(),
        base,
        vars,
        state_flag: args.state.as_deref().map(absolute),
        prior_state: prior.clone(),
        plan: plan.clone(),
    };
    let mut doc = json::plan(plan, redact);
    doc["keel_apply"] = serde_json::to_value(&payload)
        .map_err(|e| Failure::Message(format!("cannot encode the plan: {e}")))?;
    let text = serde_json::to_string_pretty(&doc).expect("plan JSON") + "\n";
    let crypto = stack.backend.encryption();
    let bytes = if crypto.seals_plans() {
        stack
            .runtime
            .block_on(crypto.seal(text.as_bytes(), Content::Plan))
            .map_err(|e| Failure::Message(format!("cannot encrypt the plan: {e}")))?
    } else {
        text.into_bytes()
    };
    std::fs::write(out, bytes)
        .map_err(|e| Failure::Message(format!("cannot write the plan to {}: {e}", out.display())))
}

/// A saved plan, loaded: the stack rebuilt from the plan's own copy of its files.
pub struct Loaded {
    pub stack: Stack,
    /// The state the plan was made against.
    pub prior: State,
    pub plan: Plan,
    _files: TempDir,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Reads a plan saved by `keel plan -out FILE`.
pub fn load(file: &Path, no_color: bool) -> Result<Loaded, Failure> {
    let what = file.display();
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::Message(format!("cannot read plan file {what}: {e}")))?;
    let bytes = if crypto::is_sealed(&bytes) {
        let settings = EncryptionSettings::from_env().map_err(Failure::Message)?;
        runtime()?
            .block_on(async { Encryption::new(settings).open(&bytes, Content::Plan).await })
            .map_err(|e| Failure::Message(format!("plan file {what}: {e}")))?
            .0
    } else {
        bytes
    };
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::Message(format!("{what} is not a keel plan file: {e}")))?;
    let payload = doc
        .get_mut("keel_apply")
        .map(serde_json::Value::take)
        .ok_or_else(|| {
            Failure::Message(format!(
                "{what} is a plan document without what apply needs (made by -json output, or an older keel)\n  help: save the plan with keel plan -out FILE"
            ))
        })?;
    let payload: Payload = serde_json::from_value(payload)
        .map_err(|e| Failure::Message(format!("{what}: its saved plan cannot be read: {e}")))?;
    if payload.format != FORMAT {
        return Err(Failure::Message(format!(
            "{what} has saved-plan format {}; this keel reads {FORMAT}. Make the plan again with this keel",
            payload.format
        )));
    }
    let tmp = TempDir(std::env::temp_dir().join(format!("keel-plan-{}", uuid::Uuid::new_v4())));
    for (rel, text) in &payload.files {
        let rel = Path::new(rel);
        if rel.is_absolute() || rel.components().any(|c| c.as_os_str() == "..") {
            return Err(Failure::Message(format!(
                "{what}: a saved source path ({}) leaves the plan's own directory; refusing it",
                rel.display()
            )));
        }
        let path = tmp.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::Message(format!("cannot unpack the plan: {e}")))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Failure::Message(format!("cannot unpack the plan: {e}")))?;
    }
    let rel = payload
        .stack_dir
        .strip_prefix(&payload.base)
        .unwrap_or(Path::new(""));
    let dir = tmp.0.join(rel);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::Message(format!("cannot unpack the plan: {e}")))?;
    let color = !no_color;
    let mut config = config::load(&dir)
        .map_err(|(sources, diags)| Failure::Diagnostics(Box::new(sources), diags, color))?;
    // Paths mean where the stack was: its backend's, and path.module.
    config.dir = payload.stack_dir.clone();
    config.stack = payload.plan.stack.clone();
    for m in &mut config.modules {
        if let Ok(r) = m.dir.strip_prefix(&tmp.0) {
            m.dir = payload.base.join(r);
        }
    }
    let graph = graph::build(&config)
        .map_err(|d| Failure::Diagnostics(Box::new(config.sources.clone()), d, color))?;
    let settings = settings::resolve(&config, payload.state_flag.as_deref())
        .map_err(|d| Failure::Diagnostics(Box::new(config.sources.clone()), d, color))?;
    let runtime = runtime()?;
    let backend = runtime.block_on(Backend::open(settings, &config.stack));
    let stack = Stack {
        config,
        graph,
        inputs: Inputs::from_values(payload.vars),
        backend,
        color,
        runtime,
    };
    Ok(Loaded {
        stack,
        prior: payload.prior_state,
        plan: payload.plan,
        _files: tmp,
    })
}
