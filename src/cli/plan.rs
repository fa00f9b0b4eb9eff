//! `keel plan DIR`: what apply would change, without changing anything.

use super::StackArgs;
use super::stack::{Failure, Stack};
use crate::plan::Plan;
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
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    let (_lock, state, plan) = make_plan(&stack, "plan", args.destroy)?;
    let _ = state;
    print!("{}", human::plan(&plan, &stack.redactor()));
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Locks the state, reads it and plans against it. The lock is held until it is dropped.
pub fn make_plan(
    stack: &Stack,
    operation: &str,
    destroy: bool,
) -> Result<(StateLock, State, Plan), Failure> {
    let lock = stack.backend.lock(operation)?;
    let state = stack
        .backend
        .read()?
        .unwrap_or_else(|| State::new(&stack.config.stack));
    let plan = crate::plan::plan(&stack.config, &stack.graph, &stack.inputs, &state, destroy)
        .map_err(|d| stack.fail(d))?;
    Ok((lock, state, plan))
}
