//! What every command does first: load the stack, build its graph, find its state.

use super::StackArgs;
use crate::config::{self, Config};
use crate::diag::{Diagnostics, SourceMap};
use crate::eval::{self, Env, Inputs};
use crate::graph::{self, ResourceGraph};
use crate::providers::ProviderSet;
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

/// One AWS provider per provider configuration of a stack.
pub type Providers = ProviderSet<AwsProvider>;

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
        let config = config::load(&args.dir)
            .map_err(|(sources, diags)| Failure::Diagnostics(Box::new(sources), diags, color))?;
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
        let inputs = Inputs::from_env_and_args(&args.vars);
        let backend = LocalBackend::new(state_path(&config, args)?);
        Ok(Stack {
            config,
            graph,
            inputs,
            backend,
            color,
        })
    }

    /// The AWS provider, once per provider configuration of the stack (`aws`, `aws.west`),
    /// and a runtime to drive them. The providers' settings are evaluated without state.
    pub fn connect(&self) -> Result<(tokio::runtime::Runtime, Providers), Failure> {
        let desired =
            eval::evaluate(&self.config, &self.graph, &self.inputs).map_err(|d| self.fail(d))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Message(format!("cannot start the async runtime: {e}")))?;
        let mut providers = ProviderSet::new();
        for (addr, settings) in &desired.providers {
            providers.insert(addr.clone(), runtime.block_on(AwsProvider::new(settings)));
        }
        Ok((runtime, providers))
    }

    pub fn fail(&self, diags: Diagnostics) -> Failure {
        Failure::Diagnostics(Box::new(self.config.sources.clone()), diags, self.color)
    }

    /// Hides the values of variables declared `sensitive = true`, and the known values of
    /// modules' sensitive variables and outputs (a plan adds those known only then: see
    /// [`Redactor::with`]).
    pub fn redactor(&self) -> Redactor {
        let env = Env::default();
        let secrets = self
            .config
            .root()
            .variables
            .iter()
            .enumerate()
            .filter(|(_, v)| v.sensitive)
            .filter_map(|(i, _)| {
                let value =
                    crate::eval::variable_value(&self.config, i, &self.inputs, &env).ok()?;
                match value {
                    Value::String(s) => Some(s),
                    Value::Null | Value::Unknown => None,
                    other => Some(other.to_hcl()),
                }
            });
        let redactor = Redactor::new(secrets.collect::<Vec<_>>());
        // Modules' secrets need the whole configuration evaluated: only when there are any.
        let modules_have_secrets = self.config.modules.iter().skip(1).any(|m| {
            m.variables.iter().any(|v| v.sensitive) || m.outputs.iter().any(|o| o.sensitive)
        });
        if !modules_have_secrets {
            return redactor;
        }
        match eval::evaluate(&self.config, &self.graph, &self.inputs) {
            Ok(desired) => redactor.with(desired.secrets),
            Err(_) => redactor,
        }
    }
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
