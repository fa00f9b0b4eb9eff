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
    // The process ends here: freeing a large plan value by value would only add time.
    std::mem::forget(planned);
    Ok(if args.detailed_exitcode && changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Locks the state, reads it, resolves in memory what an unfinished apply left in it,
/// and plans against it ([`plan_with`]). The lock is held until it is dropped; the state
/// returned holds the moves, for apply to record.
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

/// Plans against `state`: applies the stack's `moved` blocks to it, refreshes it from the
/// cloud when a provider is given, reads data sources and the objects of `import` blocks
/// (connecting to the cloud for them even without a refresh, as Terraform's
/// `-refresh=false` still reads data sources), and checks the stack's guardrails
/// (`Plan::guard`). Returns the state the plan was made against (holding the moves, for
/// apply to record) and the plan.
pub fn plan_with(
    stack: &Stack,
    mut state: State,
    destroy: bool,
    providers: Option<&Providers>,
    to_stdout: bool,
) -> Result<(State, Plan), Failure> {
    let say = |text: &str| {
        if to_stdout {
            print!("{text}")
        } else {
            eprint!("{text}")
        }
    };
    let guard = Guard::load(&stack.config, &stack.inputs).map_err(|d| stack.fail(d))?;
    let moves = if destroy {
        crate::plan::moves::Outcome::default()
    } else {
        crate::plan::moves::apply_moves(&stack.config, &mut state).map_err(|d| stack.fail(d))?
    };
    let targets = if destroy {
        Vec::new()
    } else {
        crate::plan::imports::targets(&stack.config, &stack.graph, &stack.inputs)
            .map_err(|d| stack.fail(d))?
    };
    let checked = |state: &State, prepared: crate::plan::Prepared| -> Result<Plan, Failure> {
        let mut plan = crate::plan::plan_with(
            &stack.config,
            &stack.graph,
            &stack.inputs,
            state,
            destroy,
            prepared,
        )
        .map_err(|d| stack.fail(d))?;
        plan.guard = Some(guard.check(&stack.config, &stack.graph, &stack.inputs, &plan));
        Ok(plan)
    };
    let needs_cloud = !destroy
        && (stack.config.has_data()
            || targets
                .iter()
                .any(|t| !state.resources.contains_key(&t.addr)));
    let refresh = providers.is_some() && !state.resources.is_empty();

    // The guardrails judge the plan made from state alone first: a plan they stop is not
    // worth reading the cloud for, so it makes no AWS call at all. (A stack whose plan
    // needs a data source's values cannot be judged before reading them.)
    let from_state = checked(
        &state,
        crate::plan::Prepared {
            reader: &mut crate::plan::NoReader,
            moves: moves.clone(),
            imports: Vec::new(),
        },
    );
    if !refresh && !needs_cloud {
        return Ok((state, from_state?));
    }
    if let Ok(plan) = &from_state
        && plan.guard.as_ref().is_some_and(|g| g.blocked())
    {
        say(
            "\nNote: the stack's guardrails stop this plan, so keel did not read the cloud; the plan below is made from state alone.\n",
        );
        return Ok((state, from_state?));
    }

    // Read the cloud, then plan again against what it holds.
    let connected;
    let providers = match providers {
        Some(p) => p,
        None => {
            connected = stack.connect_with_settings()?;
            &connected.0
        }
    };
    if refresh {
        let mut progress = |line: String| say(&format!("{line}\n"));
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
        say(&notes);
        state = refreshed.state;
    }
    let imports = preview_imports(stack, providers, &state, targets)?;
    let mut reader = crate::plan::BlockingReader {
        providers,
        runtime: &stack.runtime,
    };
    let plan = checked(
        &state,
        crate::plan::Prepared {
            reader: &mut reader,
            moves,
            imports,
        },
    )?;
    Ok((state, plan))
}

/// Reads each object an `import` block names (that state does not hold yet) through its
/// provider, without changing it: what importing it would record.
fn preview_imports(
    stack: &Stack,
    providers: &Providers,
    state: &State,
    targets: Vec<crate::plan::ImportTarget>,
) -> Result<Vec<(crate::plan::ImportTarget, crate::state::ResourceState)>, Failure> {
    let mut out = Vec::new();
    for t in targets {
        if state.resources.contains_key(&t.addr) {
            continue;
        }
        let provider = providers
            .get(&t.provider)
            .map_err(|e| Failure::Message(e.to_string()))?;
        let cx = import_context(stack, &t.provider)?;
        let entry = stack
            .runtime
            .block_on(crate::import::preview_import(provider, &t.addr, &t.id, &cx))
            .map_err(|e| Failure::Message(e.to_string()))?;
        out.push((t, entry));
    }
    Ok(out)
}

/// What import needs to know about the stack and a provider configuration.
pub fn import_context(
    stack: &Stack,
    provider: &crate::addr::ProviderAddr,
) -> Result<crate::import::ImportContext, Failure> {
    let blocks: Vec<crate::graph::Node> = stack
        .config
        .root()
        .providers
        .iter()
        .enumerate()
        .filter(|(_, p)| &p.addr() == provider)
        .map(|(i, _)| crate::graph::Node::root(crate::graph::Kind::Provider(i)))
        .collect();
    let envs = crate::eval::evaluate_for(&stack.config, &stack.graph, &stack.inputs, &blocks)
        .map_err(|d| stack.fail(d))?;
    Ok(crate::import::ImportContext {
        stack: stack.config.stack.clone(),
        default_tags: envs.provider(provider).default_tags.clone(),
        provider: provider.clone(),
    })
}
