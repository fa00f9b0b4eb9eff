//! `keel graph [DIR]`: the resource graph in Graphviz's DOT language (each resource
//! pointing at what it depends on), or rendered to SVG by Graphviz's `dot`.

use super::stack::Failure;
use crate::{config, graph};
use std::io::{IsTerminal, Write};
use std::process::{Command, ExitCode, Stdio};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack directory.
    #[arg(default_value = ".")]
    pub dir: std::path::PathBuf,
    /// dot (default) or svg (needs Graphviz's `dot` command).
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    pub format: Format,
    /// Plain output without colour.
    #[arg(long = "no-color")]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Dot,
    Svg,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let color =
        !args.no_color && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let config = config::load(&args.dir)
        .map_err(|(sources, diags)| Failure::Diagnostics(Box::new(sources), diags, color))?;
    let graph = graph::build(&config)
        .map_err(|diags| Failure::Diagnostics(Box::new(config.sources.clone()), diags, color))?;
    let dot = graph.to_dot(&config);
    match args.format {
        Format::Dot => print!("{dot}"),
        Format::Svg => print!("{}", svg(&dot)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Pipes DOT through `dot -Tsvg`.
fn svg(dot: &str) -> Result<String, Failure> {
    let spawned = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Message(
                "--format svg needs Graphviz's dot command, which is not installed (apt install graphviz, brew install graphviz); `keel graph DIR | dot -Tsvg` works wherever it is, and plain `keel graph` prints DOT".into(),
            ));
        }
        Err(e) => return Err(Failure::Message(format!("cannot run dot: {e}"))),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| Failure::Message(format!("cannot send the graph to dot: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Failure::Message(format!("dot failed: {e}")))?;
    if !out.status.success() {
        return Err(Failure::Message(format!(
            "dot failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
