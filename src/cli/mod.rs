//! The `keel` command: one file per command, each a thin wrapper over the engine's stages.
//! Terraform's single-dash long flags (`-auto-approve`, `-var`) are accepted as well as
//! the double-dash ones.

mod apply;
mod drift;
mod force_unlock;
mod import;
mod init;
mod output;
mod plan;
mod rollback;
mod saved;
mod show;
mod stack;
mod state;

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
    /// Set a variable: -var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// The state file to use instead of the stack's default.
    #[arg(long = "state", value_name = "PATH")]
    pub state: Option<std::path::PathBuf>,
    /// Plain output without colour.
    #[arg(long = "no-color")]
    pub no_color: bool,
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
