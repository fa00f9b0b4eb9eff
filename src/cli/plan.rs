//! `keel plan DIR`: what apply would change, without changing anything.

use super::StackArgs;
use super::stack::{Failure, Stack};
use crate::plan::Plan;
use crate::providers::aws::AwsProvider;
use crate::refresh;
use crate::report::human;
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
    /// Read the cloud before planning (-refresh=false plans from state alone).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    let connected = if args.refresh {
        Some(stack.connect()?)
    } else {
        None
    };
    let (_lock, _state, plan) = make_plan(&stack, "plan", args.destroy, connected.as_ref())?;
    print!("{}", human::plan(&plan, &stack.redactor()));
    Ok(if args.detailed_exitcode && plan.has_changes() {
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
    connected: Option<&(tokio::runtime::Runtime, AwsProvider)>,
) -> Result<(StateLock, State, Plan), Failure> {
    let lock = stack.backend.lock(operation)?;
    let mut state = stack
        .backend
        .read()?
        .unwrap_or_else(|| State::new(&stack.config.stack));
    if let Some((runtime, provider)) = connected
        && !state.resources.is_empty()
    {
        let mut progress = |line: String| println!("{line}");
        let refreshed = runtime
            .block_on(refresh::refresh(&state, provider, &mut progress))
            .map_err(|e| Failure::Message(e.to_string()))?;
        println!();
        for addr in &refreshed.gone {
            println!("Note: {addr} was deleted outside keel; the plan creates it again.");
        }
        if !refreshed.gone.is_empty() {
            println!();
        }
        state = refreshed.state;
    }
    let plan = crate::plan::plan(&stack.config, &stack.graph, &stack.inputs, &state, destroy)
        .map_err(|d| stack.fail(d))?;
    Ok((lock, state, plan))
}
