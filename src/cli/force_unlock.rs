//! `keel force-unlock LOCK_ID DIR`: break a state lock left behind by a command that died.
//! Only on purpose: the lock id must be given, and the answer must be "yes" (or -force).

use super::StackArgs;
use super::stack::{Failure, Stack};
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lock id, as the "locked by" error showed it.
    pub id: String,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    if !args.force {
        print!(
            "Do you really want to force-unlock?\n  keel will remove lock {} on state {}.\n  Only do this if the keel that took it has died: two keels writing one state lose track of resources.\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
            args.id,
            stack.backend.location()
        );
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::Message(format!("cannot read the answer: {e}")))?;
        if n == 0 {
            return Err(Failure::Message(
                "no answer on standard input; to unlock without asking, pass -force".into(),
            ));
        }
        if line.trim() != "yes" {
            println!("\nforce-unlock cancelled.");
            return Ok(ExitCode::from(1));
        }
    }
    let holder = stack
        .runtime
        .block_on(stack.backend.force_unlock(&args.id))?;
    println!(
        "keel state has been successfully unlocked! The lock held by {holder} was removed from {}.",
        stack.backend.location()
    );
    Ok(ExitCode::SUCCESS)
}
