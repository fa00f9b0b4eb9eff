//! `keel output DIR [NAME]`: the output values recorded by the last apply.

use super::StackArgs;
use super::stack::{Failure, Stack};
use crate::report::human;
use crate::value::Value;
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Print only this output, unquoted if it is a string.
    #[arg(long = "name")]
    pub name: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    let Some(state) = stack.read_state()? else {
        return Err(Failure::Message(format!(
            "no state at {}: apply the stack first (keel apply {})",
            stack.backend.location(),
            args.stack.dir.display()
        )));
    };
    if let Some(name) = &args.name {
        let Some(out) = state.outputs.get(name) else {
            let known: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
            return Err(Failure::Message(format!(
                "no output named \"{name}\" in state; outputs: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        let value = Value::from_json(&out.value);
        if args.json {
            println!("{}", out.value);
        } else if let Value::String(s) = value {
            println!("{s}");
        } else {
            println!("{}", value.to_hcl());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let json: serde_json::Map<String, serde_json::Value> = state
            .outputs
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::json!({ "sensitive": v.sensitive, "value": v.value }),
                )
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
        return Ok(ExitCode::SUCCESS);
    }
    let values: BTreeMap<String, (Value, bool)> = state
        .outputs
        .iter()
        .map(|(k, v)| (k.clone(), (Value::from_json(&v.value), v.sensitive)))
        .collect();
    print!("{}", human::outputs(&values));
    Ok(ExitCode::SUCCESS)
}
