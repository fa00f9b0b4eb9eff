//! Apply: Plan + providers -> State'. Apply executes the plan's schedule
//! ([`crate::plan::Step`]) in the graph's order of evaluation and re-derives nothing; a
//! failure rolls it back, as CloudFormation does, and a keel killed at any instant loses
//! no resource.
//!
//! # Executing ([`forward`])
//! One coordinating task owns the state, the evaluation environments and a
//! dependency-counting ready queue (cargo's `DependencyQueue`): a graph node is evaluated
//! (through [`eval::eval_node`]) once every node it depends on is done, so values unknown
//! at plan time are filled in as their producers finish; each of its planned instances
//! then becomes a step, and a step starts once the steps it waits for are done, up to
//! `--parallelism` provider calls at once. Provider calls run concurrently; everything
//! else happens on the coordinating task. The bound adapts ([`limit`]): it halves when
//! the cloud throttles and grows back when calm. Evaluation is per block, so an instance
//! waits for every instance of the blocks it refers to, as in Terraform's graph (the
//! schedule lists no such waits per step; see [`crate::plan::Step::after`]).
//!
//! Deletes close the apply: they run after every create and update succeeded, dependents
//! first (a block's deletes wait for its dependents' through one join, not one wait per
//! pair). Delete-first replacements (irreversible, flagged in the plan) wait for every
//! create and update that does not depend on them.
//!
//! # Durability: the journal
//! Every step is recorded in the state's journal ([`crate::state::Journal`]) before its
//! call goes out and again when its answer is back. Two rules are never bent: no call is
//! made before its intent is durable, and no dependent starts before its producer's
//! result is durable. Both are met by one state write per wake-up of the coordinator: the
//! answers that came back and the intents of the steps they release are written
//! together, then those steps' calls go out. A create's token (EC2's ClientToken) is in
//! its intent, so a retried create reuses it.
//!
//! # Rollback ([`undo`])
//! On the first failure (or the first Ctrl-C) nothing new starts; running calls finish;
//! then the completed steps are undone in reverse order of completion, restricted to
//! dependencies (what depends on a step is undone before it, independent undos run in
//! parallel): a create is undone by deleting its object, an update by updating the object
//! back to the attributes recorded before it, a create-first replacement by deleting the
//! new object and making the old one current again. The create of a delete-first
//! replacement cannot be undone (its old object is gone) and is kept. Every undo is
//! journaled like a step. If an undo fails, the journal stays in the state in phase
//! `rolling_back`: `keel plan` shows the rollback pending, and the next `keel apply` or
//! `keel rollback` resumes it. A failure among the closing deletes does not roll back
//! (the creates and updates all succeeded; what is deleted cannot come back): the failed
//! delete stays in state and the next apply tries again, as CloudFormation's cleanup does.
//! `--no-rollback` keeps partial progress instead. (Objects `import` blocks brought in
//! before the apply are let go by the CLI once a rollback completes:
//! `cli::import::undo_planned_imports`.)
//!
//! # Recovery ([`recover`])
//! A journal left by a killed keel is resolved before anything else: each create that was
//! in flight is looked for through [`Provider::find`] (by the ownership tags
//! `keel:stack` / `keel:address`, its unique name or its token) and adopted into state if
//! it exists, so nothing is created twice and nothing is orphaned; updates and deletes in
//! flight are read back. A killed apply then simply plans again from the truth; a killed
//! rollback resumes.
//!
//! # Ctrl-C
//! The first stops scheduling and rolls back; the second stops starting anything (undos
//! included) and exits once the calls in flight return, leaving the rollback pending.

mod data;
mod events;
mod forward;
mod gate;
mod limit;
mod recover;
mod undo;

pub use events::{Event, Progress, Verb};
pub use recover::{Recovered, recover};
pub use undo::RollbackReport;

use crate::addr::ResourceAddr;
use crate::config::Config;
use crate::diag::Diagnostics;
use crate::eval::Inputs;
use crate::graph::ResourceGraph;
use crate::plan::Plan;
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::state::{Backend, Journal, OutputState, Phase, State, StateError, StateLock};
use crate::value::Value;
use std::collections::BTreeMap;

/// How many provider calls run at once unless `--parallelism` says otherwise (Terraform's
/// is 10; AWS's per-account API limits sit far above this for an apply's calls).
pub const DEFAULT_PARALLELISM: usize = 32;

/// Ctrl-C presses so far, as a watch channel the CLI feeds.
pub type Interrupt = tokio::sync::watch::Receiver<u32>;

/// How to run.
#[derive(Clone)]
pub struct Options {
    /// At most this many provider calls at once.
    pub parallelism: usize,
    /// Undo completed steps when one fails (`--no-rollback` turns it off).
    pub rollback: bool,
    pub interrupt: Option<Interrupt>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: DEFAULT_PARALLELISM,
            rollback: true,
            interrupt: None,
        }
    }
}

/// Why apply stopped before it began, or could not record what it did.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "the plan was made against state serial {planned} (lineage {lineage}), but the state is now at serial {found} (lineage {found_lineage})\n  help: something changed the state since the plan was made; run keel plan again"
    )]
    StalePlan {
        lineage: String,
        planned: u64,
        found: u64,
        found_lineage: String,
    },
    #[error(
        "the state holds the journal of an unfinished apply (started {started})\n  help: run keel apply or keel rollback, which resolve it first"
    )]
    Unresolved { started: String },
    #[error("{0}")]
    Eval(String),
    #[error(transparent)]
    State(#[from] StateError),
}

/// What apply did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// The first step that failed, with the cloud's error.
    pub failure: Option<(ResourceAddr, ProviderError)>,
    /// Every step that failed.
    pub failures: Vec<(ResourceAddr, ProviderError)>,
    /// A closing delete failed: the creates and updates stand, the object stays in state.
    pub cleanup_failed: bool,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Expressions that could not be evaluated once their inputs were known.
    pub diagnostics: Option<Diagnostics>,
    /// What rollback undid, when the apply was rolled back.
    pub rollback: Option<RollbackReport>,
    /// A rollback is left pending in the state (it failed, or a second Ctrl-C stopped it).
    pub rollback_pending: bool,
    pub outputs: BTreeMap<String, Value>,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none() && self.diagnostics.is_none() && !self.interrupted
    }

    fn fail(&mut self, addr: &ResourceAddr, e: ProviderError) {
        if self.failure.is_none() {
            self.failure = Some((addr.clone(), e.clone()));
        }
        self.failures.push((addr.clone(), e));
    }
}

/// Where apply records what it does.
pub struct Recorder<'a> {
    pub backend: &'a Backend,
    pub lock: &'a StateLock,
    pub state: &'a mut State,
    /// Changes made since the last write.
    pub dirty: bool,
    /// State writes so far (for benchmarks: one per coordinator wake-up, not per step).
    pub writes: usize,
}

impl<'a> Recorder<'a> {
    pub fn new(backend: &'a Backend, lock: &'a StateLock, state: &'a mut State) -> Self {
        Recorder {
            backend,
            lock,
            state,
            dirty: false,
            writes: 0,
        }
    }

    async fn save(&mut self) -> Result<(), StateError> {
        self.backend.write(self.lock, self.state).await?;
        self.dirty = false;
        self.writes += 1;
        Ok(())
    }

    /// Writes if anything changed since the last write.
    async fn flush(&mut self) -> Result<(), StateError> {
        if self.dirty {
            self.save().await?;
        }
        Ok(())
    }

    fn journal(&mut self) -> &mut Journal {
        self.state.journal.get_or_insert_with(Journal::new)
    }
}

/// Executes `plan`, each resource through its own provider configuration, journaling
/// every step in state; rolls back on failure unless told not to (see the module docs).
#[allow(clippy::too_many_arguments)]
pub async fn apply<P: Provider>(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    plan: &Plan,
    providers: &ProviderSet<P>,
    rec: &mut Recorder<'_>,
    opts: &Options,
    progress: &mut dyn Progress,
) -> Result<ApplyReport, ApplyError> {
    if rec.state.lineage != plan.lineage || rec.state.serial != plan.serial {
        return Err(ApplyError::StalePlan {
            lineage: plan.lineage.clone(),
            planned: plan.serial,
            found: rec.state.serial,
            found_lineage: rec.state.lineage.clone(),
        });
    }
    if let Some(j) = &rec.state.journal {
        return Err(ApplyError::Unresolved {
            started: j.started.clone(),
        });
    }
    let mut opts = opts.clone();
    let run = forward::Forward::new(config, graph, inputs, plan, providers);
    let (mut report, outcome) = run.run(rec, &mut opts, progress).await?;

    match outcome {
        forward::Outcome::Completed => {
            rec.state.outputs = report
                .outputs
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        OutputState {
                            value: v.to_json(),
                            // An output built from a sensitive value must be declared so, or
                            // evaluation refuses it.
                            sensitive: plan.sensitive_outputs.contains(k),
                        },
                    )
                })
                .collect();
            rec.state.journal = None;
            rec.save().await?;
        }
        forward::Outcome::Stopped { aborted } => {
            let reason = match (&report.failure, report.interrupted) {
                (Some((addr, e)), _) => format!("{addr} failed: {e}"),
                (None, true) => "interrupted (Ctrl-C)".to_string(),
                (None, false) => "an expression could not be evaluated".to_string(),
            };
            if !opts.rollback {
                // Partial progress is kept: state records everything that exists.
                rec.state.journal = None;
                rec.save().await?;
            } else {
                let j = rec.journal();
                j.phase = Phase::RollingBack;
                j.reason = Some(reason.clone());
                rec.save().await?;
                if aborted {
                    report.rollback_pending = true;
                } else {
                    let rb =
                        undo::rollback(providers, rec, &mut opts, progress, Some(reason)).await?;
                    report.rollback_pending = !rb.complete;
                    report.rollback = Some(rb);
                }
            }
        }
    }
    Ok(report)
}

/// Resumes (or runs) the rollback the state's journal records. Resolve the journal with
/// [`recover`] first.
pub async fn rollback<P: Provider>(
    providers: &ProviderSet<P>,
    rec: &mut Recorder<'_>,
    opts: &Options,
    progress: &mut dyn Progress,
) -> Result<RollbackReport, ApplyError> {
    let mut opts = opts.clone();
    undo::rollback(providers, rec, &mut opts, progress, None).await
}

/// The first path where a value known at plan time differs from the one apply evaluated.
fn inconsistent(planned: &Value, now: &Value) -> Option<String> {
    match (planned, now) {
        (Value::Unknown, _) => None,
        (Value::Map(a), Value::Map(b)) => a.iter().find_map(|(k, v)| {
            inconsistent(v, b.get(k).unwrap_or(&Value::Null)).map(|p| {
                if p.is_empty() {
                    k.clone()
                } else {
                    format!("{k}.{p}")
                }
            })
        }),
        (Value::List(a), Value::List(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| inconsistent(x, y).map(|p| format!("[{i}]{p}"))),
        (a, b) if a == b => None,
        _ => Some(String::new()),
    }
}

#[cfg(test)]
mod tests;
