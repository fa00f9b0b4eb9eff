//! `keel plan DIR`: what apply would change, without changing anything.

use super::StackArgs;
use super::stack::{Failure, Providers, Stack};
use crate::plan::Plan;
use crate::refresh;
use crate::report::{human, json, markdown};
use crate::state::crypto::Content;
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
        let (_lock, _state, plan) = make_plan(
            &stack,
            "plan",
            args.destroy,
            connected.as_ref(),
            format == Format::Human,
        )?;
        let redact = stack.redactor().with_plan(&plan);
        if let Some(out) = args.out.as_ref().filter(|_| planned.is_empty()) {
            save_plan(&stack, &plan, &redact, out)?;
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
    let changes = planned.iter().any(|(p, _)| p.has_changes());
    Ok(if args.detailed_exitcode && changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Locks the state, reads it, applies the stack's `moved` blocks to it, refreshes it
/// from the cloud when a provider is given, and plans against it, reading data sources
/// and the objects of `import` blocks (connecting to the cloud for them even without a
/// refresh, as Terraform's `-refresh=false` still reads data sources). The lock is held
/// until it is dropped; the state returned holds the moves, for apply to record.
pub fn make_plan(
    stack: &Stack,
    operation: &str,
    destroy: bool,
    providers: Option<&Providers>,
    to_stdout: bool,
) -> Result<(StateLock, State, Plan), Failure> {
    let say = |text: &str| {
        if to_stdout {
            print!("{text}")
        } else {
            eprint!("{text}")
        }
    };
    let lock = stack.lock(operation)?;
    let mut state = stack
        .read_state()?
        .unwrap_or_else(|| State::new(&stack.config.stack));
    let moves = if destroy {
        crate::plan::moves::Outcome::default()
    } else {
        crate::plan::moves::apply_moves(&stack.config, &mut state).map_err(|d| stack.fail(d))?
    };
    if let Some(providers) = providers
        && !state.resources.is_empty()
    {
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
    let targets = if destroy {
        Vec::new()
    } else {
        crate::plan::imports::targets(&stack.config, &stack.graph, &stack.inputs)
            .map_err(|d| stack.fail(d))?
    };
    let needs_cloud = !destroy
        && (stack.config.has_data()
            || targets
                .iter()
                .any(|t| !state.resources.contains_key(&t.addr)));
    let connected;
    let providers = match providers {
        Some(p) => Some(p),
        None if needs_cloud => {
            connected = stack.connect_with_settings()?;
            Some(&connected.0)
        }
        None => None,
    };
    let imports = match providers {
        Some(p) => preview_imports(stack, p, &state, targets)?,
        None => Vec::new(),
    };
    let mut no_reader = crate::plan::NoReader;
    let mut reader;
    let reader: &mut dyn crate::plan::DataReader = match providers {
        Some(p) => {
            reader = crate::plan::BlockingReader {
                providers: p,
                runtime: &stack.runtime,
            };
            &mut reader
        }
        None => &mut no_reader,
    };
    let prepared = crate::plan::Prepared {
        reader,
        moves,
        imports,
    };
    let plan = crate::plan::plan_with(
        &stack.config,
        &stack.graph,
        &stack.inputs,
        &state,
        destroy,
        prepared,
    )
    .map_err(|d| stack.fail(d))?;
    Ok((lock, state, plan))
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

/// Writes the plan as JSON for `keel show`, sealed when the stack encrypts plans.
fn save_plan(
    stack: &Stack,
    plan: &Plan,
    redact: &crate::report::Redactor,
    out: &std::path::Path,
) -> Result<(), Failure> {
    let doc = serde_json::to_string_pretty(&json::plan(plan, redact)).expect("plan JSON") + "\n";
    let crypto = stack.backend.encryption();
    let bytes = if crypto.seals_plans() {
        stack
            .runtime
            .block_on(crypto.seal(doc.as_bytes(), Content::Plan))
            .map_err(|e| Failure::Message(format!("cannot encrypt the plan: {e}")))?
    } else {
        doc.into_bytes()
    };
    std::fs::write(out, bytes)
        .map_err(|e| Failure::Message(format!("cannot write the plan to {}: {e}", out.display())))
}
