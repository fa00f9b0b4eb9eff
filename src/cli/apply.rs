//! `keel apply DIR`, `keel apply PLANFILE` and `keel destroy DIR`: resolve what an
//! unfinished apply left (finishing a pending rollback first), plan, show, ask, then
//! apply with rollback on failure, journaling every step in state. Progress is a live
//! display on a terminal, plain lines otherwise, or JSON lines with `-json`.

use super::StackArgs;
use super::plan::plan_with;
use super::stack::{Failure, Providers, Stack};
use crate::apply::{
    self, ApplyReport, DEFAULT_PARALLELISM, Interrupt, Options, Progress, Recorder,
};
use crate::drift;
use crate::guard::Guard;
use crate::plan::Plan;
use crate::refresh;
use crate::report::drift as render_drift;
use crate::report::{Redactor, human, json, progress};
use crate::state::{State, StateLock};
use crate::value::Value;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack directory, or (for apply) a plan saved with keel plan -out FILE.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Do not ask for confirmation.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Read the cloud before planning (-refresh=false plans from state alone).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Change nothing in the cloud: record what the cloud holds now (drift) into state,
    /// after showing it.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// At most this many provider calls at once; fewer while the cloud throttles.
    #[arg(long, default_value_t = DEFAULT_PARALLELISM, value_name = "N")]
    pub parallelism: usize,
    /// When a step fails, keep what was done instead of rolling it back.
    #[arg(long = "no-rollback")]
    pub no_rollback: bool,
    /// Machine-readable output: one JSON object per line (the plan, every step, the
    /// summary). Needs -auto-approve.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    fn options(&self) -> Options {
        Options {
            parallelism: self.parallelism.max(1),
            rollback: !self.no_rollback,
            interrupt: None,
        }
    }
}

/// Where progress goes: JSON lines, a live display on a terminal, or plain lines.
pub fn progress_for(json: bool) -> Box<dyn Progress> {
    if json {
        Box::new(progress::JsonLines)
    } else if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Box::new(progress::Live::new())
    } else {
        Box::new(progress::Plain)
    }
}

pub fn exec(args: Args, destroy: bool) -> Result<ExitCode, Failure> {
    if args.json && !args.auto_approve && !args.stack.dir.is_file() {
        return Err(Failure::Message(
            "-json output cannot ask for confirmation; pass -auto-approve too".into(),
        ));
    }
    if args.stack.dir.is_file() {
        if destroy {
            return Err(Failure::Message(
                "keel destroy takes a stack directory; to apply a saved destroy plan, use keel apply PLANFILE".into(),
            ));
        }
        return exec_saved(&args);
    }
    let mut stack = Stack::load(&args.stack)?;
    stack.ask_for_missing(&args.stack)?;
    let redact = stack.redactor();
    if args.refresh_only {
        if destroy {
            return Err(Failure::Message(
                "keel destroy does not take -refresh-only".into(),
            ));
        }
        return refresh_only(&stack, &redact, args.auto_approve);
    }
    let providers = stack.connect()?;
    let mut progress = progress_for(args.json);
    let opts = args.options();
    let lock = stack.lock(if destroy { "destroy" } else { "apply" })?;
    let mut state = stack
        .read_state()?
        .unwrap_or_else(|| State::new(&stack.config.stack));
    if !settle(
        &stack,
        &lock,
        &mut state,
        &providers,
        &opts,
        false,
        progress.as_mut(),
    )? {
        return Ok(ExitCode::from(1));
    }
    let (state, plan) = plan_with(
        &stack,
        state,
        destroy,
        args.refresh.then_some(&providers),
        !args.json,
    )?;
    let ask = !args.auto_approve;
    run(
        &stack, &lock, state, plan, &providers, &args, destroy, ask, progress,
    )
}

/// `keel apply PLANFILE`: executes exactly the saved plan, if the state is still the one it
/// was made against.
fn exec_saved(args: &Args) -> Result<ExitCode, Failure> {
    let mut loaded = super::saved::load(&args.stack.dir, args.stack.no_color)?;
    let stack = &loaded.stack;
    // The guardrails hold a saved plan to the stack's rules as it was saved (its files
    // travel with the plan): a plan they stop is never applied.
    let guard = Guard::load(&stack.config, &stack.inputs).map_err(|d| stack.fail(d))?;
    let verdict = guard.check(&stack.config, &stack.graph, &stack.inputs, &loaded.plan);
    loaded.plan.guard = Some(verdict);
    let stack = &loaded.stack;
    let providers = stack.connect()?;
    let lock = stack.lock("apply")?;
    let current = stack.read_state()?;
    let (lineage, serial) = current
        .as_ref()
        .map(|s| (s.lineage.clone(), s.serial))
        .unwrap_or_default();
    if current.is_some() && (lineage != loaded.plan.lineage || serial != loaded.plan.serial)
        || current.is_none() && loaded.plan.serial != 0
    {
        return Err(Failure::Message(format!(
            "the saved plan {} was made against state serial {} (lineage {}), but the state is now at serial {serial} (lineage {lineage})\n  help: the state changed since the plan was made; make a new plan with keel plan -out FILE",
            args.stack.dir.display(),
            loaded.plan.serial,
            loaded.plan.lineage
        )));
    }
    let mut prior = loaded.prior.clone();
    if current.is_none() {
        // A plan for a stack with no state yet: the state starts with the plan's lineage.
        prior.serial = 0;
    }
    let progress = progress_for(args.json);
    let destroy = loaded.plan.destroy;
    // The plan was reviewed when it was saved: applying it does not ask again (as
    // Terraform's apply PLANFILE).
    run(
        stack,
        &lock,
        prior,
        loaded.plan,
        &providers,
        args,
        destroy,
        false,
        progress,
    )
}

/// Resolves a journal an unfinished apply left in the state (adopting objects whose create
/// was never answered), writes the result, and finishes a pending rollback. False when the
/// rollback could not be finished.
pub fn settle(
    stack: &Stack,
    lock: &StateLock,
    state: &mut State,
    providers: &Providers,
    opts: &Options,
    roll_back: bool,
    progress: &mut dyn Progress,
) -> Result<bool, Failure> {
    if state.journal.is_none() {
        return Ok(true);
    }
    let redact = stack.redactor();
    let progress = &mut progress::Redacting::new(progress, &redact);
    let recovered = stack
        .runtime
        .block_on(apply::recover(state, providers, roll_back, progress))
        .map_err(|e| Failure::Message(e.to_string()))?;
    stack.write_state(lock, state)?;
    if !recovered.rollback_pending {
        return Ok(true);
    }
    let mut opts = opts.clone();
    opts.interrupt = Some(interrupts(stack));
    let report = stack.runtime.block_on(async {
        let mut rec = Recorder::new(&stack.backend, lock, state);
        apply::rollback(providers, &mut rec, &opts, progress).await
    });
    let report = report.map_err(|e| Failure::Message(e.to_string()))?;
    if !report.complete {
        let summary = ApplyReport {
            rollback: Some(report),
            interrupted: true,
            ..Default::default()
        };
        eprint!("{}", redact.text(&human::apply_summary(&summary, false)));
        return Ok(false);
    }
    Ok(true)
}

/// Counts Ctrl-C presses from now on (the first makes apply roll back, the second stops it).
pub fn interrupts(stack: &Stack) -> Interrupt {
    let (tx, rx) = tokio::sync::watch::channel(0u32);
    stack.runtime.spawn(async move {
        let mut n = 0;
        while tokio::signal::ctrl_c().await.is_ok() {
            n += 1;
            if tx.send(n).is_err() {
                break;
            }
        }
    });
    rx
}

/// Shows the plan, asks, executes it and prints the summary.
#[allow(clippy::too_many_arguments)]
fn run(
    stack: &Stack,
    lock: &StateLock,
    mut state: State,
    mut plan: Plan,
    providers: &Providers,
    args: &Args,
    destroy: bool,
    ask: bool,
    mut progress: Box<dyn Progress>,
) -> Result<ExitCode, Failure> {
    let redact = stack.redactor().with_plan(&plan);
    let outputs_change = !destroy && !plan.output_changes.is_empty();
    if args.json {
        println!(
            "{}",
            json!({ "type": "plan", "plan": json::plan(&plan, &redact) })
        );
    } else {
        print!("{}", human::plan(&plan, &redact));
    }
    if let Some(g) = plan.guard.as_ref().filter(|g| g.blocked()) {
        return Err(Failure::Message(g.blocked_message()));
    }
    if !plan.has_changes() && !outputs_change {
        let report = ApplyReport::default();
        summary(&report, destroy, args.json, &redact);
        return Ok(ExitCode::SUCCESS);
    }
    if plan.has_changes() && ask && !confirm(destroy)? {
        println!("\n{} cancelled.", if destroy { "Destroy" } else { "Apply" });
        return Ok(ExitCode::from(1));
    }
    if !args.json {
        println!();
    }
    let mut opts = args.options();
    opts.interrupt = Some(interrupts(stack));
    // Cloud errors can echo what was sent; no secret reaches the terminal or a log.
    let mut progress = progress::Redacting::new(progress.as_mut(), &redact);
    let imported = super::import::apply_planned_imports(
        stack,
        providers,
        lock,
        &mut state,
        &mut plan,
        &mut progress,
    )?;
    let report = stack.runtime.block_on(async {
        let mut rec = Recorder::new(&stack.backend, lock, &mut state);
        apply::apply(
            &stack.config,
            &stack.graph,
            &stack.inputs,
            &plan,
            providers,
            &mut rec,
            &opts,
            &mut progress,
        )
        .await
    });
    let report = report.map_err(|e| Failure::Message(e.to_string()))?;
    // Everything the apply did was rolled back: its imports are undone too. With
    // -no-rollback, or a rollback left pending, they stay recorded with the rest.
    let rolled_back = report.rollback.as_ref().is_some_and(|r| r.complete);
    if !report.succeeded() && rolled_back && !imported.is_empty() {
        super::import::undo_planned_imports(
            stack,
            providers,
            lock,
            &mut state,
            &imported,
            &mut progress,
        )?;
    }
    if let Some(diags) = report.diagnostics {
        return Err(stack.fail(diags));
    }
    summary(&report, destroy, args.json, &redact);
    if !report.succeeded() {
        return Ok(ExitCode::from(1));
    }
    if !destroy && !state.outputs.is_empty() && !args.json {
        println!("\nOutputs:\n");
        let values: BTreeMap<String, (Value, bool)> = state
            .outputs
            .iter()
            .map(|(k, v)| (k.clone(), (Value::from_json(&v.value), v.sensitive)))
            .collect();
        print!("{}", human::outputs(&values));
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(report: &ApplyReport, destroy: bool, as_json: bool, redact: &Redactor) {
    if !as_json {
        print!("{}", redact.text(&human::apply_summary(report, destroy)));
        return;
    }
    let failures: Vec<serde_json::Value> = report
        .failures
        .iter()
        .map(|(a, e)| json!({ "address": a.to_string(), "code": e.code, "message": redact.text(&e.message) }))
        .collect();
    let rb = report.rollback.as_ref();
    println!(
        "{}",
        json!({
            "type": "summary",
            "succeeded": report.succeeded(),
            "added": report.added,
            "changed": report.changed,
            "destroyed": report.destroyed,
            "failures": failures,
            "interrupted": report.interrupted,
            "rolled_back": rb.is_some_and(|r| r.complete),
            "undone": rb.map(|r| r.undone.iter().map(|(a, v)| json!({"address": a.to_string(), "action": v.name()})).collect::<Vec<_>>()).unwrap_or_default(),
            "kept": rb.map(|r| r.kept.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
            "rollback_pending": report.rollback_pending,
        })
    );
}

/// `keel apply -refresh-only`: shows what changed outside keel and, once approved, writes
/// the cloud's values into state. Nothing in the cloud changes.
fn refresh_only(stack: &Stack, redact: &Redactor, auto_approve: bool) -> Result<ExitCode, Failure> {
    let lock = stack.lock("apply -refresh-only")?;
    let Some(state) = stack.read_state()? else {
        return Err(Failure::Message(format!(
            "no state at {}: there is nothing to refresh yet",
            stack.backend.location()
        )));
    };
    if let Some(j) = &state.journal {
        return Err(Failure::Message(format!(
            "the state holds the journal of an unfinished apply (started {})\n  help: run keel apply or keel rollback first, which resolve it",
            j.started
        )));
    }
    let providers = stack.connect()?;
    let mut progress = |line: String| println!("{}", redact.text(&line));
    let mut refreshed = stack
        .runtime
        .block_on(refresh::refresh(&state, &providers, &mut progress))
        .map_err(|e| Failure::Message(e.to_string()))?;
    let report = drift::compare(&state, &refreshed, &[], &BTreeMap::new());
    println!();
    if report.is_empty() {
        println!("No changes. The cloud matches what state recorded; nothing to record.");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render_drift::human(&report, redact));
    println!(
        "\nThis records the values above in state. It changes nothing in the cloud; resources listed as deleted are forgotten."
    );
    if !auto_approve && !confirm(false)? {
        println!("\nApply cancelled.");
        return Ok(ExitCode::from(1));
    }
    stack.write_state(&lock, &mut refreshed.state)?;
    println!(
        "\nApply complete! keel recorded {} changed and forgot {} deleted resource(s); nothing in the cloud was changed.",
        report.changed.len(),
        report.missing.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; only "yes" approves.
fn confirm(destroy: bool) -> Result<bool, Failure> {
    if destroy {
        print!(
            "\nDo you really want to destroy all resources?\n  keel will destroy all of the stack's managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: "
        );
    } else {
        print!(
            "\nDo you want to perform these actions?\n  keel will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
        );
    }
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Message(format!("cannot read the answer: {e}")))?;
    if n == 0 {
        return Err(Failure::Message(
            "no answer on standard input; to apply without asking, pass -auto-approve".into(),
        ));
    }
    Ok(line.trim() == "yes")
}
