//! Eval: Config + variables -> [`Desired`], the resource instances keel should manage with
//! their attribute values, some of them unknown until apply. Evaluation walks the
//! [`ResourceGraph`] in dependency order and never reads state.
//!
//! Each graph node is evaluated once per instance of its module ([`Envs`] holds one
//! [`Env`] per module instance); a module call node expands the child's instances from its
//! `count` / `for_each` as the walk reaches it.
//!
//! The same walk serves planning and apply through [`Hook`]: it is handed each resource's
//! evaluated configuration and decides which value later expressions see (unknown computed
//! attributes here, the planned value while planning, the real value during apply). A
//! scheduler of its own (apply's) drives [`eval_node`] and [`Envs::store`] instead.

mod envs;
pub mod expr;
pub mod functions;
mod modules;
pub mod refs;
mod repeat;
mod resource;

use crate::addr::{ProviderAddr, ResourceAddr};
use crate::config::{Config, ScopeId};
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Kind, Node, ResourceGraph};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

pub use envs::{Envs, ModuleEnv};
pub use expr::Ctx;
pub use modules::Expansion;
pub use repeat::{Repetition, Shape, assemble};
pub use resource::{TAG_ADDRESS, TAG_STACK, computed_value, resource_config};

/// Values the user passed in. `-var name=value` wins over the stack's `terraform.tfvars`
/// and `*.auto.tfvars` files, which win over `KEEL_VAR_name` / `TF_VAR_name`, as in Terraform.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// From the command line.
    pub vars: BTreeMap<String, Value>,
    /// From the environment.
    pub env: BTreeMap<String, Value>,
}

impl Inputs {
    /// Reads `KEEL_VAR_name` and `TF_VAR_name` (KEEL_ wins) from the environment, and
    /// `-var` arguments.
    pub fn from_env_and_args(args: &[(String, String)]) -> Inputs {
        let mut env = BTreeMap::new();
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("TF_VAR_") {
                env.insert(name.to_string(), Value::String(v));
            }
        }
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("KEEL_VAR_") {
                env.insert(name.to_string(), Value::String(v));
            }
        }
        let vars = args
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        Inputs { vars, env }
    }
}

/// The value of variable `i`: `-var`, then the last tfvars file that sets it, then the
/// environment, then its default.
pub fn variable_value(
    config: &Config,
    i: usize,
    inputs: &Inputs,
    env: &Env,
) -> Result<Value, Diagnostics> {
    let var = &config.root().variables[i];
    if let Some(v) = inputs.vars.get(&var.name) {
        return Ok(v.clone());
    }
    if let Some(a) = config.tfvars.iter().rev().find(|a| a.name == var.name) {
        return Ok(Ctx::new(&Env::default(), a.expr.file).eval(&a.expr.expr)?);
    }
    if let Some(v) = inputs.env.get(&var.name) {
        return Ok(v.clone());
    }
    match &var.default {
        Some(d) => Ok(Ctx::new(env, d.file).eval(&d.expr)?),
        None => Err(Diagnostic::error(format!(
            "no value for required variable \"{}\"",
            var.name
        ))
        .at(var.span.clone())
        .help(format!(
            "pass -var {0}=VALUE, set it in terraform.tfvars, set KEEL_VAR_{0}, or give the variable a default",
            var.name
        ))
        .into()),
    }
}

/// Everything evaluated so far in one module instance, by name.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: HashMap<String, Value>,
    pub locals: HashMap<String, Value>,
    /// `TYPE.NAME` -> the object that references see.
    pub resources: HashMap<String, Value>,
    /// Call name -> what `module.NAME` is: an object of the child's outputs, or a list (with
    /// count) or map (with for_each) of them.
    pub modules: HashMap<String, Value>,
    pub path_module: String,
    pub path_root: String,
    pub path_cwd: String,
}

impl Env {
    /// An empty environment for the root module of `config`, with `path.*` set.
    pub fn for_config(config: &Config) -> Env {
        let root = config.dir.display().to_string();
        Env {
            path_module: root.clone(),
            path_root: root,
            path_cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            ..Env::default()
        }
    }
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
    /// The resource block's node.
    pub node: Node,
    /// The provider configuration that manages it.
    pub provider: ProviderAddr,
    /// The configured attributes (settable ones only, plus `tags_all`); may hold unknowns.
    pub config: Value,
}

/// What the configuration asks for.
#[derive(Debug, Clone)]
pub struct Desired {
    pub instances: Vec<Instance>,
    pub outputs: BTreeMap<String, Value>,
    /// Every provider configuration, evaluated; the default `aws` is always there.
    pub providers: BTreeMap<ProviderAddr, ProviderSettings>,
    /// Known values of sensitive module variables and outputs, for redaction.
    pub secrets: Vec<String>,
}

/// Decides what a resource looks like to the expressions that reference it.
pub trait Hook {
    /// Called once per resource instance, in dependency order, with its evaluated config.
    /// `node` is the resource block's node (see [`Node::resource_in`]).
    fn resource(
        &mut self,
        config: &Config,
        node: Node,
        addr: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics>;
}

/// One instance's evaluated configuration, before the hook has seen it.
#[derive(Debug, Clone)]
pub struct InstanceValue {
    pub addr: ResourceAddr,
    /// The module instance it belongs to (an index into [`Envs::modules`]).
    pub module: usize,
    pub value: Value,
}

/// The result of a walk.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The root module's outputs.
    pub outputs: BTreeMap<String, Value>,
    pub providers: BTreeMap<ProviderAddr, ProviderSettings>,
    pub secrets: Vec<String>,
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
    let mut envs = Envs::new(config);
    let mut failed: HashSet<Node> = HashSet::new();

    for &node in graph.order() {
        if graph.dependencies(node).any(|d| failed.contains(&d)) {
            failed.insert(node);
            continue;
        }
        let result = eval_node(config, node, inputs, &envs).and_then(|value| {
            let value = match value {
                NodeValue::Resource(shape, instances) => {
                    let mut seen = Vec::with_capacity(instances.len());
                    for mut i in instances {
                        i.value = hook.resource(config, node, &i.addr, i.value)?;
                        seen.push(i);
                    }
                    NodeValue::Resource(shape, seen)
                }
                other => other,
            };
            envs.store(config, node, value);
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
        outputs: envs.outputs,
        providers: envs.providers,
        secrets: envs.secrets,
    })
}

/// What evaluating one node produced, for every instance of its module.
#[derive(Debug, Clone)]
pub enum NodeValue {
    /// (module instance, value) pairs.
    Var(Vec<(usize, Value)>),
    Local(Vec<(usize, Value)>),
    Provider(ProviderAddr, ProviderSettings),
    /// Each instance's configured attributes (see [`resource_config`]), grouped by module
    /// instance in the order of [`Envs::instances`], then in key order. Give the values
    /// references should see (the hook's) to [`Envs::store`].
    Resource(Shape, Vec<InstanceValue>),
    Output(Vec<(usize, Value)>),
    /// The child instances a module call has in each instance of the calling module.
    Call(Vec<Expansion>),
}

/// Evaluates one node, for every instance of its module, against the values of everything
/// it depends on. Any scheduler (the walk here, apply's executor) can drive this in
/// dependency order, storing each result with [`Envs::store`] before dependents run.
pub fn eval_node(
    config: &Config,
    node: Node,
    inputs: &Inputs,
    envs: &Envs,
) -> Result<NodeValue, Diagnostics> {
    let module = config.module(node.scope);
    let ids = envs.instances(node.scope);
    // One instance's errors are usually every instance's: stop at the first.
    let each = |f: &dyn Fn(usize) -> Result<Value, Diagnostics>| -> Result<Vec<(usize, Value)>, Diagnostics> {
        ids.iter().map(|&id| f(id).map(|v| (id, v))).collect()
    };
    Ok(match node.kind {
        Kind::Var(i) if node.scope == ScopeId::ROOT => {
            NodeValue::Var(each(&|id| variable_value(config, i, inputs, envs.env(id)))?)
        }
        Kind::Var(i) => {
            NodeValue::Var(each(&|id| modules::input(config, node.scope, i, envs, id))?)
        }
        Kind::Local(i) => {
            let local = &module.locals[i];
            NodeValue::Local(each(&|id| {
                Ok(Ctx::new(envs.env(id), local.expr.file).eval(&local.expr.expr)?)
            })?)
        }
        Kind::Provider(i) => {
            let p = &module.providers[i];
            NodeValue::Provider(p.addr(), resource::provider_settings(p, envs.env(0))?)
        }
        Kind::Resource(i) => {
            let res = &module.resources[i];
            let scope = config.scope(node.scope);
            let what = format!("{}{}", scope.prefix(), res.key());
            let provider = envs.provider(&scope.resource_providers[i]);
            let mut instances = Vec::new();
            for &id in ids {
                let env = envs.env(id);
                let reps =
                    repeat::repetitions(&what, res.count.as_ref(), res.for_each.as_ref(), env)?;
                instances.reserve(reps.len());
                for rep in &reps {
                    let addr = ResourceAddr {
                        module: envs.modules[id].path.clone(),
                        type_: res.type_.clone(),
                        name: res.name.clone(),
                        key: rep.as_ref().map(Repetition::key),
                    };
                    let value = resource_config(config, res, &addr, env, provider, rep.as_ref())?;
                    instances.push(InstanceValue {
                        addr,
                        module: id,
                        value,
                    });
                }
            }
            NodeValue::Resource(
                Shape::of(res.count.is_some(), res.for_each.is_some()),
                instances,
            )
        }
        Kind::Output(i) => {
            let out = &module.outputs[i];
            NodeValue::Output(each(&|id| {
                Ok(Ctx::new(envs.env(id), out.value.file).eval(&out.value.expr)?)
            })?)
        }
        Kind::Call(c) => NodeValue::Call(modules::expand(config, node.scope, c, envs)?),
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
        node: Node,
        addr: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics> {
        let (resource, provider) = node.resource_in(config).expect("a resource node");
        self.instances.push(Instance {
            addr: addr.clone(),
            node,
            provider: provider.clone(),
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
        providers: walked.providers,
        secrets: walked.secrets,
    })
}

#[cfg(test)]
mod module_tests;
