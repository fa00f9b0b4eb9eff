//! `keel rollback DIR`: finishes the rollback the state records as pending (one that
//! failed, or was stopped by a second Ctrl-C), or rolls back an apply that keel was killed
//! in the middle of. Objects whose create was never answered are found and adopted first,
//! so they are undone too.

use super::StackArgs;
use super::apply::{progress_for, settle};
use super::stack::{Failure, Stack};
use crate::apply::{DEFAULT_PARALLELISM, Options};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stack: StackArgs,
    /// At most this many provider calls at once; fewer while the cloud throttles.
    #[arg(long, default_value_t = DEFAULT_PARALLELISM, value_name = "N")]
    pub parallelism: usize,
    /// Progress as JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    let lock = stack.lock("rollback")?;
    let Some(mut state) = stack.read_state()? else {
        println!("Nothing to roll back: the stack has no state yet.");
        return Ok(ExitCode::SUCCESS);
    };
    if state.journal.is_none() {
        println!(
            "Nothing to roll back: the last apply finished (or was rolled back), and no rollback is pending."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let providers = stack.connect()?;
    let mut progress = progress_for(args.json);
    let opts = Options {
        parallelism: args.parallelism.max(1),
        ..Options::default()
    };
    if settle(
        &stack,
        &lock,
        &mut state,
        &providers,
        &opts,
        true,
        progress.as_mut(),
    )? {
        println!("\nRollback complete! The cloud and the state are as they were before the apply.");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}
