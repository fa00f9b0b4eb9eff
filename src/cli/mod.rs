//! The `keel` command: one file per command, each a thin wrapper over the engine's stages.
//! Terraform's single-dash long flags (`-auto-approve`, `-var`) are accepted as well as
//! the double-dash ones.

mod apply;
mod drift;
mod fmt;
mod force_unlock;
mod graph;
mod import;
mod init;
mod output;
mod plan;
mod prompt;
mod rollback;
mod saved;
mod show;
mod stack;
mod state;
mod validate;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

pub use stack::Failure;

#[derive(Debug, Parser)]
#[command(
    name = "keel",
    version,
    about = "Infrastructure as code for AI workloads on AWS: plan, apply, roll back",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command that evaluates a stack takes.
#[derive(Debug, Clone, clap::Args)]
pub struct StackArgs {
    /// The stack directory (its *.hcl / *.tf files).
    #[arg(default_value = ".")]
    pub dir: std::path::PathBuf,
    /// Set a variable: -var name=value (repeatable; later ones win).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Read variable values from a .tfvars or .tfvars.json file (repeatable; -var and
    /// -var-file apply in the order given, later ones winning).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<std::path::PathBuf>,
    /// Ask for required variables that have no value when standard input is a terminal
    /// (-input=false never asks).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
    /// The order -var and -var-file were given in (filled in by [`parse`]).
    #[arg(skip)]
    pub order: Vec<InputArg>,
    /// The state file to use instead of the stack's default.
    #[arg(long = "state", value_name = "PATH")]
    pub state: Option<std::path::PathBuf>,
    /// Plain output without colour.
    #[arg(long = "no-color")]
    pub no_color: bool,
}

/// One `-var` or `-var-file`, by its index in [`StackArgs::vars`] / [`StackArgs::var_files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputArg {
    Var(usize),
    File(usize),
}

impl StackArgs {
    /// `-var` and `-var-file` in command-line order; when the order is unknown (arguments
    /// built in code), files first, then `-var`s.
    pub fn inputs_in_order(&self) -> Vec<InputArg> {
        if self.order.len() == self.vars.len() + self.var_files.len() {
            return self.order.clone();
        }
        (0..self.var_files.len())
            .map(InputArg::File)
            .chain((0..self.vars.len()).map(InputArg::Var))
            .collect()
    }
}

/// Parses the command line, recording the order of `-var` and `-var-file` (clap keeps
/// each list in order, but not their order relative to each other).
pub fn parse(args: Vec<OsString>) -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches_from(args);
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `keel state list ...` holds its arguments one subcommand further down.
    let sub = matches
        .subcommand()
        .map(|(name, sub)| match sub.subcommand() {
            Some((_, inner)) if name == "state" => inner,
            _ => sub,
        });
    if let (Some(sub), Some(stack)) = (sub, cli.command.stack_args_mut()) {
        let mut order: Vec<(usize, InputArg)> = Vec::new();
        if let Some(ix) = sub.indices_of("vars") {
            order.extend(ix.enumerate().map(|(i, at)| (at, InputArg::Var(i))));
        }
        if let Some(ix) = sub.indices_of("var_files") {
            order.extend(ix.enumerate().map(|(i, at)| (at, InputArg::File(i))));
        }
        order.sort_by_key(|(at, _)| *at);
        stack.order = order.into_iter().map(|(_, a)| a).collect();
    }
    cli
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got \"{s}\"")),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change.
    Plan(plan::Args),
    /// Make the changes a plan shows, after asking (unless -auto-approve).
    Apply(apply::Args),
    /// Delete everything the stack manages, after asking (unless -auto-approve).
    Destroy(apply::Args),
    /// Finish a pending rollback, or roll back an apply keel was killed in.
    Rollback(rollback::Args),
    /// Show the stack's output values from state.
    Output(output::Args),
    /// Report what changed in the cloud behind the stack's back (exit 2 on drift).
    Drift(drift::Args),
    /// Show a plan saved with keel plan -out FILE.
    Show(show::Args),
    /// Check the stack's state backend; -migrate-state moves state into it.
    Init(init::Args),
    /// Look at or change recorded state (list, show, rm, mv, rekey, import-terraform).
    #[command(subcommand)]
    State(state::Command),
    /// Bring an existing cloud object under keel: keel import ADDR ID [DIR].
    Import(import::Args),
    /// Break a state lock left behind by a keel that died: keel force-unlock LOCK_ID [DIR].
    ForceUnlock(force_unlock::Args),
    /// Check the stack without state, a cloud or variable values.
    Validate(validate::Args),
    /// Print the resource graph as Graphviz DOT (or SVG with --format svg).
    Graph(graph::Args),
    /// Rewrite .hcl, .tf and .tfvars files in the canonical layout (as terraform fmt).
    Fmt(fmt::Args),
}

impl Command {
    fn stack_args_mut(&mut self) -> Option<&mut StackArgs> {
        match self {
            Command::Plan(a) => Some(&mut a.stack),
            Command::Apply(a) | Command::Destroy(a) => Some(&mut a.stack),
            Command::Output(a) => Some(&mut a.stack),
            Command::Drift(a) => Some(&mut a.stack),
            Command::Init(a) => Some(&mut a.stack),
            Command::Import(a) => Some(&mut a.stack),
            Command::ForceUnlock(a) => Some(&mut a.stack),
            Command::Rollback(a) => Some(&mut a.stack),
            Command::State(c) => Some(c.stack_args_mut()),
            Command::Show(_) | Command::Validate(_) | Command::Graph(_) | Command::Fmt(_) => None,
        }
    }
}

/// Accepts `-auto-approve` for `--auto-approve`: Terraform users type single dashes.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    args.into_iter()
        .map(|a| match a.to_str() {
            Some(s)
                if s.len() > 2
                    && s.starts_with('-')
                    && !s.starts_with("--")
                    && s.as_bytes()[1].is_ascii_alphabetic()
                    && s[1..]
                        .chars()
                        .nth(1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '-') =>
            {
                OsString::from(format!("-{s}"))
            }
            _ => a,
        })
        .collect()
}

/// Runs a parsed command; the exit code follows keel's convention (0 ok, 1 error, 2
/// changes present when asked for a detailed exit code).
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Plan(args) => plan::exec(args),
        Command::Apply(args) => apply::exec(args, false),
        Command::Destroy(args) => apply::exec(args, true),
        Command::Rollback(args) => rollback::exec(args),
        Command::Output(args) => output::exec(args),
        Command::Show(args) => show::exec(args),
        Command::Drift(args) => drift::exec(args),
        Command::Init(args) => init::exec(args),
        Command::State(command) => state::exec(command),
        Command::Import(args) => import::exec(args),
        Command::ForceUnlock(args) => force_unlock::exec(args),
        Command::Validate(args) => validate::exec(args),
        Command::Graph(args) => graph::exec(args),
        Command::Fmt(args) => fmt::exec(args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprint!("{failure}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_long_flags_become_double_dash() {
        let args = normalize_args(
            [
                "keel",
                "apply",
                "-auto-approve",
                "-var",
                "a=b",
                "-h",
                "--state",
                "x",
            ]
            .map(OsString::from),
        );
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "keel",
                "apply",
                "--auto-approve",
                "--var",
                "a=b",
                "-h",
                "--state",
                "x"
            ]
        );
    }
}
