//! Eval: Config + variables -> [`Desired`], the resource instances keel should manage with
//! their attribute values, some of them unknown until apply. Evaluation walks the
//! [`ResourceGraph`] in dependency order and never reads state.
//!
//! The same walk serves planning and apply through [`Hook`]: it is handed each resource's
//! evaluated configuration and decides which value later expressions see (unknown computed
//! attributes here, the planned value while planning, the real value during apply).

pub mod expr;
pub mod functions;
pub mod refs;
mod resource;

use crate::addr::ResourceAddr;
use crate::config::{Config, Resource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Node, ResourceGraph};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

pub use expr::Ctx;
pub use resource::{computed_value, resource_config};

/// Values the user passed in: `-var name=value`, `KEEL_VAR_name`, `TF_VAR_name`.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub vars: BTreeMap<String, Value>,
}

impl Inputs {
    /// Reads `KEEL_VAR_name` and `TF_VAR_name` from the environment; `-var` given on the
    /// command line wins.
    pub fn from_env_and_args(args: &[(String, String)]) -> Inputs {
        let mut vars = BTreeMap::new();
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("TF_VAR_") {
                vars.insert(name.to_string(), Value::String(v));
            }
        }
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("KEEL_VAR_") {
                vars.insert(name.to_string(), Value::String(v));
            }
        }
        for (k, v) in args {
            vars.insert(k.clone(), Value::String(v.clone()));
        }
        Inputs { vars }
    }
}

/// Everything evaluated so far, by name.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: HashMap<String, Value>,
    pub locals: HashMap<String, Value>,
    /// `TYPE.NAME` -> the object that references see.
    pub resources: HashMap<String, Value>,
    pub path_module: String,
    pub path_cwd: String,
}

/// The AWS provider's settings, evaluated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderSettings {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub s3_use_path_style: Option<bool>,
    pub default_tags: BTreeMap<String, String>,
}

/// One resource instance keel should manage.
#[derive(Debug, Clone)]
pub struct Instance {
    pub addr: ResourceAddr,
    /// Index into `Config::resources`.
    pub resource: usize,
    /// The configured attributes (settable ones only, plus `tags_all`); may hold unknowns.
    pub config: Value,
}

/// What the configuration asks for.
#[derive(Debug, Clone)]
pub struct Desired {
    pub instances: Vec<Instance>,
    pub outputs: BTreeMap<String, Value>,
    pub provider: ProviderSettings,
}

/// Decides what a resource looks like to the expressions that reference it.
pub trait Hook {
    /// Called once per resource instance, in dependency order, with its evaluated config.
    fn resource(
        &mut self,
        config: &Config,
        resource: &Resource,
        addr: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics>;
}

/// The result of a walk.
#[derive(Debug, Clone)]
pub struct Walked {
    pub env: Env,
    pub outputs: BTreeMap<String, Value>,
    pub provider: ProviderSettings,
}

/// Evaluates every node of the graph in dependency order. Errors in one node do not stop
/// the others, except those that depend on it.
pub fn walk(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    hook: &mut dyn Hook,
) -> Result<Walked, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut env = Env {
        path_module: config.dir.display().to_string(),
        path_cwd: std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        ..Env::default()
    };
    let mut outputs = BTreeMap::new();
    let mut provider = ProviderSettings::default();
    let mut failed: HashSet<Node> = HashSet::new();

    for &node in graph.order() {
        if graph.dependencies(node).any(|d| failed.contains(&d)) {
            failed.insert(node);
            continue;
        }
        let result = eval_node(config, node, inputs, &env, &provider).and_then(|value| {
            match value {
                NodeValue::Resource(addr, value) => {
                    let res = &config.resources[match node {
                        Node::Resource(i) => i,
                        _ => unreachable!("resource values come from resource nodes"),
                    }];
                    let seen = hook.resource(config, res, &addr, value)?;
                    env.resources.insert(res.key(), seen);
                }
                NodeValue::Output(name, v) => {
                    outputs.insert(name, v);
                }
                other => store(&mut env, &mut provider, other),
            }
            Ok(())
        });
        if let Err(d) = result {
            diags.extend(d);
            failed.insert(node);
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Walked {
        env,
        outputs,
        provider,
    })
}

/// What evaluating one node produced.
#[derive(Debug, Clone)]
pub enum NodeValue {
    Var(String, Value),
    Local(String, Value),
    Provider(ProviderSettings),
    /// A resource's configured attributes (see [`resource_config`]).
    Resource(ResourceAddr, Value),
    Output(String, Value),
}

/// Records a variable, local or provider value in the environment.
pub fn store(env: &mut Env, provider: &mut ProviderSettings, value: NodeValue) {
    match value {
        NodeValue::Var(n, v) => {
            env.vars.insert(n, v);
        }
        NodeValue::Local(n, v) => {
            env.locals.insert(n, v);
        }
        NodeValue::Provider(p) => *provider = p,
        NodeValue::Resource(..) | NodeValue::Output(..) => {}
    }
}

/// Evaluates one node against the values of everything it depends on. Any scheduler (the
/// walk here, apply's executor) can drive this in dependency order.
pub fn eval_node(
    config: &Config,
    node: Node,
    inputs: &Inputs,
    env: &Env,
    provider: &ProviderSettings,
) -> Result<NodeValue, Diagnostics> {
    Ok(match node {
        Node::Var(i) => {
            let var = &config.variables[i];
            let value = match inputs.vars.get(&var.name) {
                Some(v) => v.clone(),
                None => match &var.default {
                    Some(d) => Ctx::new(env, d.file).eval(&d.expr)?,
                    None => {
                        return Err(Diagnostic::error(format!(
                            "no value for required variable \"{}\"",
                            var.name
                        ))
                        .at(var.span.clone())
                        .help(format!(
                            "pass -var {0}=VALUE, set KEEL_VAR_{0}, or give the variable a default",
                            var.name
                        ))
                        .into());
                    }
                },
            };
            NodeValue::Var(var.name.clone(), value)
        }
        Node::Local(i) => {
            let local = &config.locals[i];
            let v = Ctx::new(env, local.expr.file).eval(&local.expr.expr)?;
            NodeValue::Local(local.name.clone(), v)
        }
        Node::Provider(i) => {
            NodeValue::Provider(resource::provider_settings(&config.providers[i], env)?)
        }
        Node::Resource(i) => {
            let res = &config.resources[i];
            let addr = ResourceAddr::new(&res.type_, &res.name);
            let value = resource_config(config, res, &addr, env, provider)?;
            NodeValue::Resource(addr, value)
        }
        Node::Output(i) => {
            let out = &config.outputs[i];
            let v = Ctx::new(env, out.value.file).eval(&out.value.expr)?;
            NodeValue::Output(out.name.clone(), v)
        }
    })
}

/// The hook for evaluation without state: computed attributes are unknown.
struct Unplanned {
    instances: Vec<Instance>,
}

impl Hook for Unplanned {
    fn resource(
        &mut self,
        config: &Config,
        resource: &Resource,
        addr: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics> {
        let index = config
            .resources
            .iter()
            .position(|r| std::ptr::eq(r, resource))
            .expect("resource belongs to config");
        self.instances.push(Instance {
            addr: addr.clone(),
            resource: index,
            config: value.clone(),
        });
        Ok(computed_value(&resource.type_, &value, None))
    }
}

/// Config + variables -> Desired, reading no state and calling no cloud.
pub fn evaluate(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
) -> Result<Desired, Diagnostics> {
    let mut hook = Unplanned {
        instances: Vec::new(),
    };
    let walked = walk(config, graph, inputs, &mut hook)?;
    Ok(Desired {
        instances: hook.instances,
        outputs: walked.outputs,
        provider: walked.provider,
    })
}
