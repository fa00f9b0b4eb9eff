//! What every command does first: load the stack, build its graph, find its state.

use super::{InputArg, StackArgs};
use crate::config::{self, Config};
use crate::diag::{Diagnostics, SourceMap};
use crate::eval::{self, Env, Inputs};
use crate::graph::{self, ResourceGraph};
use crate::providers::aws::AwsProvider;
use crate::report::Redactor;
use crate::state::{LocalBackend, StateError};
use crate::value::Value;
use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Why a command failed, ready to print.
pub enum Failure {
    /// Problems in the configuration, with the sources to underline.
    Diagnostics(Box<SourceMap>, Diagnostics, bool),
    /// Anything else, as a sentence.
    Message(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Diagnostics(sources, diags, color) => {
                write!(f, "{}", diags.render(sources, *color))?;
                let n = diags.items.len();
                writeln!(
                    f,
                    "keel found {n} problem{} in the stack; nothing was changed.",
                    if n == 1 { "" } else { "s" }
                )
            }
            Failure::Message(m) => writeln!(f, "Error: {m}"),
        }
    }
}

impl From<StateError> for Failure {
    fn from(e: StateError) -> Failure {
        Failure::Message(e.to_string())
    }
}

/// A loaded stack, ready to plan.
pub struct Stack {
    pub config: Config,
    pub graph: ResourceGraph,
    pub inputs: Inputs,
    pub backend: LocalBackend,
    pub color: bool,
}

impl Stack {
    pub fn load(args: &StackArgs) -> Result<Stack, Failure> {
        let color = !args.no_color
            && std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none();
        let mut config = config::load(&args.dir)
            .map_err(|(sources, diags)| Failure::Diagnostics(Box::new(sources), diags, color))?;
        let inputs = read_inputs(&mut config, args).map_err(|diags| {
            Failure::Diagnostics(Box::new(config.sources.clone()), diags, color)
        })?;
        let graph = match graph::build(&config) {
            Ok(g) => g,
            Err(diags) => {
                return Err(Failure::Diagnostics(
                    Box::new(config.sources.clone()),
                    diags,
                    color,
                ));
            }
        };
        let backend = LocalBackend::new(state_path(&config, args)?);
        Ok(Stack {
            config,
            graph,
            inputs,
            backend,
            color,
        })
    }

    /// Asks on the terminal for required variables that have no value, as Terraform does;
    /// without a terminal (or with -input=false) evaluation reports them instead.
    pub fn ask_for_missing(&mut self, args: &StackArgs) -> Result<(), Failure> {
        if !args.input || !std::io::stdin().is_terminal() {
            return Ok(());
        }
        let missing: Vec<(String, Option<String>, bool)> =
            eval::missing(&self.config, &self.inputs)
                .into_iter()
                .map(|v| (v.name.clone(), v.description.clone(), v.sensitive))
                .collect();
        for (name, description, sensitive) in missing {
            let answer =
                super::prompt::ask(&name, description.as_deref(), sensitive).map_err(|e| {
                    Failure::Message(format!("cannot read a value for var.{name}: {e}"))
                })?;
            self.inputs.add_prompted(&name, answer);
        }
        Ok(())
    }

    /// The AWS provider, configured from the stack's provider block, and a runtime to
    /// drive it. The provider's settings are evaluated without state.
    pub fn connect(&self) -> Result<(tokio::runtime::Runtime, AwsProvider), Failure> {
        let desired =
            eval::evaluate(&self.config, &self.graph, &self.inputs).map_err(|d| self.fail(d))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Message(format!("cannot start the async runtime: {e}")))?;
        let provider = runtime.block_on(AwsProvider::new(&desired.provider));
        Ok((runtime, provider))
    }

    /// The problems, ready to print, with any sensitive variable value scrubbed from them.
    pub fn fail(&self, mut diags: Diagnostics) -> Failure {
        let redact = self.redactor();
        for d in &mut diags.items {
            d.message = redact.text(&d.message);
            d.help = d.help.as_deref().map(|h| redact.text(h));
            d.label = d.label.as_deref().map(|l| redact.text(l));
        }
        Failure::Diagnostics(Box::new(self.config.sources.clone()), diags, self.color)
    }

    /// Hides the values of variables declared `sensitive = true`.
    pub fn redactor(&self) -> Redactor {
        let env = Env::default();
        let secrets = self
            .config
            .variables
            .iter()
            .filter(|v| v.sensitive)
            .filter_map(|v| {
                let i = self
                    .config
                    .variables
                    .iter()
                    .position(|x| std::ptr::eq(x, v))?;
                let value =
                    crate::eval::variable_value(&self.config, i, &self.inputs, &env).ok()?;
                match value {
                    Value::String(s) => Some(s),
                    Value::Null | Value::Unknown => None,
                    other => Some(other.to_hcl()),
                }
            });
        Redactor::new(secrets.collect::<Vec<_>>())
    }
}

/// The environment's values, then `-var` and `-var-file` in command-line order; a `-var`
/// for a variable the stack does not declare is an error.
fn read_inputs(config: &mut Config, args: &StackArgs) -> Result<Inputs, Diagnostics> {
    let mut inputs = Inputs::from_env();
    let mut diags = Diagnostics::default();
    for arg in args.inputs_in_order() {
        match arg {
            InputArg::Var(i) => {
                let (name, value) = &args.vars[i];
                inputs.add_var(name, value);
            }
            InputArg::File(i) => {
                inputs.add_var_file(&args.var_files[i], &mut config.sources, &mut diags)
            }
        }
    }
    diags.extend(eval::check_given(config, &inputs));
    diags.into_result().map(|()| inputs)
}

/// `-state PATH`, else the local backend's `path` (relative to the stack), else
/// `state/<stack>.json` under the working directory.
fn state_path(config: &Config, args: &StackArgs) -> Result<PathBuf, Failure> {
    if let Some(p) = &args.state {
        return Ok(p.clone());
    }
    if let Some(b) = &config.terraform.backend
        && let Some(attr) = b.body.get_attribute("path")
    {
        return match attr.value.as_str() {
            Some(p) => Ok(config.dir.join(p)),
            None => Err(Failure::Message(format!(
                "the local backend's path in {} must be a plain string",
                config.sources.file(b.file).display
            ))),
        };
    }
    Ok(PathBuf::from("state").join(format!("{}.json", config.stack)))
}
