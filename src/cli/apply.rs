//! `keel apply DIR` and `keel destroy DIR`: plan, show, ask, then apply, recording every
//! operation in state as it completes.

use super::StackArgs;
use super::plan::make_plan;
use super::stack::{Failure, Stack};
use crate::apply::{self, Recorder};
use crate::drift;
use crate::refresh;
use crate::report::drift as render_drift;
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
    /// Change nothing in the cloud: record what the cloud holds now (drift) into state,
    /// after showing it.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
}

pub fn exec(args: Args, destroy: bool) -> Result<ExitCode, Failure> {
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
    let (lock, mut state, mut plan) = make_plan(
        &stack,
        if destroy { "destroy" } else { "apply" },
        destroy,
        args.refresh.then_some(&providers),
        true,
    )?;
    let redact = redact.with_plan(&plan);
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
    super::import::apply_planned_imports(
        &stack,
        &providers,
        &lock,
        &mut state,
        &mut plan,
        &mut |line| println!("{}", redact.text(&line)),
    )?;

    let report = stack.runtime.block_on(async {
        let mut rec = Recorder {
            backend: &stack.backend,
            lock: &lock,
            state: &mut state,
        };
        let mut progress = |line: String| {
            // Cloud errors can echo what was sent; no secret reaches the terminal or a log.
            println!("{}", redact.text(&line));
            let _ = std::io::stdout().flush();
        };
        apply::apply(
            &stack.config,
            &stack.graph,
            &stack.inputs,
            &plan,
            &providers,
            &mut rec,
            &mut progress,
        )
        .await
    });
    let report = report.map_err(|e| Failure::Message(e.to_string()))?;
    if let Some(diags) = report.diagnostics {
        return Err(stack.fail(diags));
    }
    print!("{}", redact.text(&human::apply_summary(&report, destroy)));
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

/// `keel apply -refresh-only`: shows what changed outside keel and, once approved, writes
/// the cloud's values into state. Nothing in the cloud changes.
fn refresh_only(
    stack: &Stack,
    redact: &crate::report::Redactor,
    auto_approve: bool,
) -> Result<ExitCode, Failure> {
    let lock = stack.lock("apply -refresh-only")?;
    let Some(state) = stack.read_state()? else {
        return Err(Failure::Message(format!(
            "no state at {}: there is nothing to refresh yet",
            stack.backend.location()
        )));
    };
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
