//! What every command does first: load the stack, build its graph, find its state (and
//! start the async runtime that the state backend and the provider share).

use super::{InputArg, StackArgs};
use crate::addr::ProviderAddr;
use crate::config::{self, Config};
use crate::diag::{Diagnostics, SourceMap};
use crate::eval::{self, Env, Inputs, ProviderSettings};
use crate::graph::{self, ResourceGraph};
use crate::providers::ProviderSet;
use crate::providers::aws::AwsProvider;
use crate::report::Redactor;
use crate::state::settings;
use crate::state::{Backend, State, StateError, StateLock, Store};
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;

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
    pub backend: Backend,
    pub color: bool,
    /// Drives the state backend and the provider; lives as long as the stack, so a lock
    /// taken on it can be released when dropped.
    pub runtime: tokio::runtime::Runtime,
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
        let settings = settings::resolve(&config, args.state.as_deref()).map_err(|diags| {
            Failure::Diagnostics(Box::new(config.sources.clone()), diags, color)
        })?;
        let runtime = runtime()?;
        let backend = runtime.block_on(Backend::open(settings, &config.stack));
        Ok(Stack {
            config,
            graph,
            inputs,
            backend,
            color,
            runtime,
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

    /// The AWS provider, once per provider configuration of the stack (`aws`, `aws.west`).
    /// The providers' settings are evaluated without state.
    pub fn connect(&self) -> Result<Providers, Failure> {
        Ok(self.connect_with_settings()?.0)
    }

    /// The providers and the settings each was built from (default tags, region). Only
    /// the provider blocks and what they refer to are evaluated, so connecting needs
    /// nothing that only a data source or the cloud can tell.
    pub fn connect_with_settings(
        &self,
    ) -> Result<(Providers, BTreeMap<ProviderAddr, ProviderSettings>), Failure> {
        let blocks: Vec<crate::graph::Node> = (0..self.config.root().providers.len())
            .map(|i| crate::graph::Node::root(crate::graph::Kind::Provider(i)))
            .collect();
        let envs = eval::evaluate_for(&self.config, &self.graph, &self.inputs, &blocks)
            .map_err(|d| self.fail(d))?;
        let mut providers = ProviderSet::new();
        for (addr, settings) in &envs.providers {
            providers.insert(
                addr.clone(),
                self.runtime.block_on(AwsProvider::new(settings)),
            );
        }
        Ok((providers, envs.providers))
    }

    /// Takes the state lock for `operation`.
    pub fn lock(&self, operation: &str) -> Result<StateLock, Failure> {
        Ok(self.runtime.block_on(self.backend.lock(operation))?)
    }

    /// Reads the state. A stack whose S3 backend is still empty while its local state
    /// file has content is an error: that state has to be migrated, not started afresh.
    pub fn read_state(&self) -> Result<Option<State>, Failure> {
        let state = self.runtime.block_on(self.backend.read())?;
        if state.is_none()
            && let Store::S3(_) = self.backend.store()
        {
            let local = settings::default_local_path(&self.config.stack);
            if local.exists() {
                return Err(Failure::Message(format!(
                    "the stack's backend {} holds no state yet, but {} does
  help: move it there with keel init -migrate-state {}; keel will not start a second, empty state beside it",
                    self.backend.location(),
                    local.display(),
                    self.config.dir.display()
                )));
            }
        }
        Ok(state)
    }

    /// Writes the state (serial bumped) under `lock`.
    pub fn write_state(&self, lock: &StateLock, state: &mut State) -> Result<(), Failure> {
        Ok(self.runtime.block_on(self.backend.write(lock, state))?)
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

    /// Hides the values of the stack's variables declared `sensitive = true`: the backstop
    /// for free text that no mark reaches (errors, progress lines, cloud messages). A plan
    /// adds the secrets its evaluation found ([`Redactor::with_plan`]); reports of state
    /// (drift, `state show`) hide what state records in `sensitive_attributes`.
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
        Redactor::new(secrets.collect::<Vec<_>>())
    }
}

/// A runtime for the backend and the provider.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Message(format!("cannot start the async runtime: {e}")))
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
