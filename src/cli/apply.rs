//! `keel apply DIR` and `keel destroy DIR`: plan, show, ask, then apply, recording every
//! operation in state as it completes.

use super::StackArgs;
use super::plan::make_plan;
use super::stack::{Failure, Stack};
use crate::apply::{self, Recorder};
use crate::report::human;
use crate::value::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Do not ask for confirmation.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Read the cloud before planning (-refresh=false plans from state alone).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

pub fn exec(args: Args, destroy: bool) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    let redact = stack.redactor();
    let connected = stack.connect()?;
    let (lock, mut state, plan) = make_plan(
        &stack,
        if destroy { "destroy" } else { "apply" },
        destroy,
        args.refresh.then_some(&connected),
        true,
    )?;
    let (runtime, provider) = connected;
    let outputs_change = !destroy && !plan.output_changes.is_empty();

    print!("{}", human::plan(&plan, &redact));
    if !plan.has_changes() && !outputs_change {
        print!(
            "{}",
            human::apply_summary(&apply::ApplyReport::default(), destroy)
        );
        return Ok(ExitCode::SUCCESS);
    }
    if plan.has_changes() && !args.auto_approve && !confirm(destroy)? {
        println!("\n{} cancelled.", if destroy { "Destroy" } else { "Apply" });
        return Ok(ExitCode::from(1));
    }
    println!();

    let report = runtime.block_on(async {
        let mut rec = Recorder {
            backend: &stack.backend,
            lock: &lock,
            state: &mut state,
        };
        let mut progress = |line: String| {
            println!("{line}");
            let _ = std::io::stdout().flush();
        };
        apply::apply(
            &stack.config,
            &stack.graph,
            &stack.inputs,
            &plan,
            &provider,
            &mut rec,
            &mut progress,
        )
        .await
    });
    let report = report.map_err(|e| Failure::Message(e.to_string()))?;
    if let Some(diags) = report.diagnostics {
        return Err(stack.fail(diags));
    }
    print!("{}", human::apply_summary(&report, destroy));
    if report.failure.is_some() {
        return Ok(ExitCode::from(1));
    }
    if !destroy && !state.outputs.is_empty() {
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
