//! `keel validate [DIR]`: is the stack valid, without state, a cloud or variable values?
//! Exit 0 with "Success! The configuration is valid.", or 1 with every problem; `-json`
//! prints them in the shape of `terraform validate -json`.

use super::stack::Failure;
use crate::config;
use crate::diag::{Diagnostics, SourceMap};
use crate::eval::{self, Inputs};
use crate::graph;
use crate::report::diagnostics;
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack directory.
    #[arg(default_value = ".")]
    pub dir: std::path::PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Plain output without colour.
    #[arg(long = "no-color")]
    pub no_color: bool,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let (sources, diags) = check(&args.dir);
    if args.json {
        let doc = diagnostics::json(&diags, &sources);
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    } else if diags.has_errors() {
        let color = !args.no_color
            && std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none();
        eprint!("{}", diags.render(&sources, color));
        let n = diags.items.len();
        eprintln!(
            "The configuration is not valid: {n} problem{}.",
            if n == 1 { "" } else { "s" }
        );
    } else {
        println!("Success! The configuration is valid.");
    }
    Ok(if diags.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads, builds the graph, and evaluates with variables unknown where nothing sets them.
fn check(dir: &std::path::Path) -> (SourceMap, Diagnostics) {
    let config = match config::load(dir) {
        Ok(c) => c,
        Err((sources, diags)) => return (sources, diags),
    };
    let diags = match graph::build(&config) {
        Ok(graph) => eval::validate(&config, &graph, &Inputs::default()),
        Err(diags) => diags,
    };
    (config.sources, diags)
}
