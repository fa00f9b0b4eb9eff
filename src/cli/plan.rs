//! `keel plan DIR`: what apply would change, without changing anything. A journal left
//! by an unfinished apply is resolved in memory first (objects whose create was never
//! answered are looked for), and a pending rollback is shown. `-out FILE` saves a plan
//! that `keel apply FILE` executes exactly (see [`super::saved`]).

use super::StackArgs;
use super::stack::{Failure, Providers, Stack};
use crate::guard::Guard;
use crate::plan::Plan;
use crate::refresh;
use crate::report::{human, json, markdown};
use crate::state::{State, StateLock};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Plan the deletion of everything the stack manages.
    #[arg(long)]
    pub destroy: bool,
    /// Exit 0 when there are no changes, 1 on error, 2 when there are changes.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// More stack directories to plan in the same run (for one PR comment).
    #[arg(value_name = "MORE_DIRS")]
    pub more: Vec<std::path::PathBuf>,
    /// Output format: human (default), json or markdown.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
    /// Also write the plan, as JSON, to this file (read it with keel show -json FILE).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Read the cloud before planning (-refresh=false plans from state alone).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

/// How `keel plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let format = if args.json { Format::Json } else { args.format };
    let mut dirs = vec![args.stack.dir.clone()];
    dirs.extend(args.more.iter().cloned());
    if dirs.len() > 1 && format != Format::Markdown {
        return Err(Failure::Message(
            "several stack directories are planned together only with --format markdown (one PR comment); plan them one at a time otherwise".into(),
        ));
    }
    let mut planned = Vec::new();
    for dir in dirs {
        let stack_args = StackArgs {
            dir,
            ..args.stack.clone()
        };
        let mut stack = Stack::load(&stack_args)?;
        stack.ask_for_missing(&stack_args)?;
        // Refresh progress goes to stderr when stdout carries a document.
        let connected = if args.refresh {
            Some(stack.connect()?)
        } else {
            None
        };
        let (_lock, state, plan) = make_plan(
            &stack,
            "plan",
            args.destroy,
            connected.as_ref(),
            format == Format::Human,
        )?;
        let redact = stack.redactor().with_plan(&plan);
        // A plan the guardrails stop is shown, never saved for apply.
        let blocked = plan.guard.as_ref().is_some_and(|g| g.blocked());
        if let Some(out) = args.out.as_ref().filter(|_| planned.is_empty() && !blocked) {
            super::saved::save(&stack, &stack_args, &state, &plan, &redact, out)?;
        }
        planned.push((plan, redact));
    }
    match format {
        Format::Human => print!("{}", human::plan(&planned[0].0, &planned[0].1)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json::plan(&planned[0].0, &planned[0].1))
                .expect("plan JSON")
        ),
        Format::Markdown => {
            let refs: Vec<(&Plan, &crate::report::Redactor)> =
                planned.iter().map(|(p, r)| (p, r)).collect();
            print!(
                "{}",
                markdown::comment(&refs, markdown::GITHUB_COMMENT_LIMIT)
            );
        }
    }
    let blocked: Vec<String> = planned
        .iter()
        .filter_map(|(p, _)| p.guard.as_ref().filter(|g| g.blocked()).map(|g| (p, g)))
        .map(|(p, g)| format!("{}: {}", p.stack, g.blocked_message()))
        .collect();
    if !blocked.is_empty() {
        return Err(Failure::Message(blocked.join("\n")));
    }
    let changes = planned.iter().any(|(p, _)| p.has_changes());
    Ok(if args.detailed_exitcode && changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Locks the state, reads it, refreshes it from the cloud when a provider is given, and
/// plans against it. The lock is held until it is dropped.
pub fn make_plan(
    stack: &Stack,
    operation: &str,
    destroy: bool,
    providers: Option<&Providers>,
    to_stdout: bool,
) -> Result<(StateLock, State, Plan), Failure> {
    let lock = stack.lock(operation)?;
    let mut state = stack
        .read_state()?
        .unwrap_or_else(|| State::new(&stack.config.stack));
    let say = |text: String| {
        if to_stdout {
            println!("{text}")
        } else {
            eprintln!("{text}")
        }
    };
    if let Some(j) = &state.journal {
        let pending = j.phase == crate::state::Phase::RollingBack;
        let (started, steps) = (j.started.clone(), j.to_undo());
        if let Some(providers) = providers {
            // Resolve what was in flight, in memory only: planning writes nothing.
            let mut progress = |e: &crate::apply::Event| say(crate::report::progress::line(e));
            let recovered = stack
                .runtime
                .block_on(crate::apply::recover(
                    &mut state,
                    providers,
                    false,
                    &mut progress,
                ))
                .map_err(|e| Failure::Message(e.to_string()))?;
            if !recovered.rollback_pending {
                say(format!(
                    "Note: the apply started {started} did not finish (keel was stopped); this plan starts from what it left.\n"
                ));
            }
        }
        if pending {
            say(format!(
                "Rollback pending: the apply started {started} failed and {steps} of its completed step(s) are still to be undone.\n  keel apply (or keel rollback) finishes the rollback first; this plan shows what would change after it from the state as it is now.\n"
            ));
        }
    }
    let (state, plan) = plan_with(stack, state, destroy, providers, to_stdout)?;
    Ok((lock, state, plan))
}

/// Refreshes `state` from the cloud when a provider is given, and plans against it, the
/// stack's guardrails checked (`Plan::guard`); returns the refreshed state (what the plan
/// was made against) and the plan.
pub fn plan_with(
    stack: &Stack,
    mut state: State,
    destroy: bool,
    providers: Option<&Providers>,
    to_stdout: bool,
) -> Result<(State, Plan), Failure> {
    let guard = Guard::load(&stack.config, &stack.inputs).map_err(|d| stack.fail(d))?;
    let plan_with_guard = |state: &State| -> Result<Plan, Failure> {
        let mut plan =
            crate::plan::plan(&stack.config, &stack.graph, &stack.inputs, state, destroy)
                .map_err(|d| stack.fail(d))?;
        plan.guard = Some(guard.check(&stack.config, &stack.graph, &stack.inputs, &plan));
        Ok(plan)
    };
    // The guardrails judge the plan made from state alone first: a plan they stop is not
    // worth reading the cloud for, so it makes no AWS call at all.
    let from_state = plan_with_guard(&state);
    let Some(providers) = providers.filter(|_| !state.resources.is_empty()) else {
        return Ok((state, from_state?));
    };
    if let Ok(plan) = &from_state
        && plan.guard.as_ref().is_some_and(|g| g.blocked())
    {
        let note = "\nNote: the stack's guardrails stop this plan, so keel did not read the cloud; the plan below is made from state alone.\n";
        if to_stdout {
            print!("{note}")
        } else {
            eprint!("{note}")
        }
        return Ok((state, from_state?));
    }
    // Read the cloud, then plan again against what it holds.
    {
        let mut progress = |line: String| {
            if to_stdout {
                println!("{line}")
            } else {
                eprintln!("{line}")
            }
        };
        let refreshed = stack
            .runtime
            .block_on(refresh::refresh(&state, providers, &mut progress))
            .map_err(|e| Failure::Message(e.to_string()))?;
        let mut notes = String::from("\n");
        for addr in &refreshed.gone {
            notes.push_str(&format!(
                "Note: {addr} was deleted outside keel; the plan creates it again.\n"
            ));
        }
        if !refreshed.gone.is_empty() {
            notes.push('\n');
        }
        if to_stdout {
            print!("{notes}")
        } else {
            eprint!("{notes}")
        }
        state = refreshed.state;
    }
    let plan = plan_with_guard(&state)?;
    Ok((state, plan))
}
