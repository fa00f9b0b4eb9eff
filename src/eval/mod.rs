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
//!
//! Values carry sensitivity beside them ([`Marks`], one set per module instance): a
//! sensitive variable, whatever is computed from it, a resource attribute configured from
//! it and a module output declared sensitive are marked wherever they are read, across
//! module boundaries; [`Desired::sensitive_attrs`] names the attributes reports hide.

mod convert;
mod data;
mod dynamic;
mod envs;
pub mod expr;
pub mod functions;
mod modules;
pub mod refs;
mod repeat;
mod resource;
mod sensitive;
mod variables;

use crate::addr::{DataAddr, ProviderAddr, ResourceAddr};
use crate::config::{Config, ScopeId};
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Kind, Node, ResourceGraph};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use convert::{Mismatch, convert};
pub use data::{data_config_marked, unread as unread_data, unsupported as unsupported_data};
pub use dynamic::dynamic_iterator;
pub use envs::{Envs, ModuleEnv};
pub use expr::Ctx;
pub use modules::Expansion;
pub use repeat::{Repetition, Shape, assemble};
pub use resource::{
    TAG_ADDRESS, TAG_STACK, computed_value, resource_config, unsupported as unsupported_resource,
};
pub use sensitive::{Marks, SENSITIVE, scrub};
pub use variables::{
    Given, Inputs, Origin, Raw, check_given, evaluate_variable, given_values, missing,
    variable_value,
};

/// Everything evaluated so far in one module instance, by name.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: HashMap<String, Value>,
    pub locals: HashMap<String, Value>,
    /// `TYPE.NAME` -> the object that references see.
    pub resources: HashMap<String, Value>,
    /// `TYPE.NAME` of `data.TYPE.NAME` -> what the data source read (or its unknowns).
    pub data: HashMap<String, Value>,
    /// Call name -> what `module.NAME` is: an object of the child's outputs, or a list (with
    /// count) or map (with for_each) of them.
    pub modules: HashMap<String, Value>,
    pub path_module: String,
    pub path_root: String,
    pub path_cwd: String,
    /// Which of the values above are sensitive: `var.NAME`, `local.NAME`, attributes of
    /// `TYPE.NAME` and `data.TYPE.NAME`, and outputs of `module.NAME`, all of this module
    /// instance.
    pub sensitive: Marks,
}

impl Env {
    /// An empty environment for the root module of `config`, with `path.*` set and the
    /// stack's sensitive variables marked.
    pub fn for_config(config: &Config) -> Env {
        let root = config.dir.display().to_string();
        let mut sensitive = Marks::default();
        for v in config.root().variables.iter().filter(|v| v.sensitive) {
            sensitive.mark(format!("var.{}", v.name));
        }
        Env {
            path_module: root.clone(),
            path_root: root,
            path_cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            sensitive,
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
    /// Attributes configured from sensitive values, by full instance address.
    pub sensitive_attrs: BTreeMap<ResourceAddr, BTreeSet<String>>,
    /// The sensitive strings the resources' configurations read or computed (values of
    /// sensitive variables, what functions made of them, marked attributes and outputs
    /// they read): the backstop that keeps them out of free text (progress lines, cloud
    /// errors) where no mark reaches.
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

    /// Called once per data source instance, in dependency order, with its evaluated
    /// arguments; returns what references to it see. The default reads nothing: every
    /// result is unknown (what `keel validate` shows).
    fn data(
        &mut self,
        config: &Config,
        node: Node,
        addr: &DataAddr,
        args: Value,
    ) -> Result<Value, Diagnostics> {
        let (data, _) = node.data_in(config).expect("a data node");
        let _ = addr;
        Ok(data::unread(&data.type_, &args))
    }
}

/// One instance's evaluated configuration, before the hook has seen it.
#[derive(Debug, Clone)]
pub struct InstanceValue {
    pub addr: ResourceAddr,
    /// The module instance it belongs to (an index into [`Envs::modules`]).
    pub module: usize,
    pub value: Value,
    /// Top-level attributes configured from sensitive values.
    pub sensitive: BTreeSet<String>,
    /// The sensitive strings its configuration read or computed (see [`Desired::secrets`]).
    pub secrets: BTreeSet<String>,
}

/// The value of a variable, local or output in one module instance.
#[derive(Debug, Clone)]
pub struct ModuleValue {
    /// The module instance (an index into [`Envs::modules`]).
    pub module: usize,
    pub value: Value,
    /// Computed from a sensitive value, or declared sensitive.
    pub sensitive: bool,
}

/// The result of a walk.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The root module's outputs.
    pub outputs: BTreeMap<String, Value>,
    pub providers: BTreeMap<ProviderAddr, ProviderSettings>,
    pub sensitive_attrs: BTreeMap<ResourceAddr, BTreeSet<String>>,
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
    let envs = walk_in(config, graph, inputs, hook, None)?;
    Ok(Walked {
        outputs: envs.outputs,
        providers: envs.providers,
        sensitive_attrs: envs.sensitive_attrs,
        secrets: envs.secrets.into_iter().collect(),
    })
}

/// Evaluates only `targets` and what they depend on, reading no data source (their
/// results are unknown): what must be known before planning starts, such as the
/// provider configurations' settings and the ids of `import` blocks.
pub fn evaluate_for(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    targets: &[Node],
) -> Result<Envs, Diagnostics> {
    let mut wanted: HashSet<Node> = HashSet::new();
    let mut stack: Vec<Node> = targets.to_vec();
    while let Some(n) = stack.pop() {
        if wanted.insert(n) {
            stack.extend(graph.dependencies(n));
        }
    }
    let mut hook = Unplanned {
        instances: Vec::new(),
    };
    walk_in(config, graph, inputs, &mut hook, Some(&wanted))
}

fn walk_in(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    hook: &mut dyn Hook,
    wanted: Option<&HashSet<Node>>,
) -> Result<Envs, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut envs = Envs::new(config);
    let mut failed: HashSet<Node> = HashSet::new();
    // An unsupported type is named once, however many blocks use it, at its first use.
    let mut unsupported: HashMap<String, usize> = HashMap::new();

    for &node in graph.order() {
        if wanted.is_some_and(|w| !w.contains(&node)) {
            continue;
        }
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
                NodeValue::Data(shape, instances) => {
                    let mut seen = Vec::with_capacity(instances.len());
                    for mut i in instances {
                        let addr = DataAddr(i.addr.clone());
                        i.value = hook.data(config, node, &addr, i.value)?;
                        seen.push(i);
                    }
                    NodeValue::Data(shape, seen)
                }
                other => other,
            };
            envs.store(config, node, value);
            Ok(())
        });
        if let Err(d) = result {
            for item in d.items {
                if item.message.starts_with("keel does not support ") {
                    let key = |d: &Diagnostic| d.span.as_ref().map(|s| (s.file, s.range.start));
                    if let Some(&i) = unsupported.get(&item.message) {
                        if key(&item) < key(&diags.items[i]) {
                            diags.items[i] = item;
                        }
                        continue;
                    }
                    unsupported.insert(item.message.clone(), diags.items.len());
                }
                diags.push(item);
            }
            failed.insert(node);
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(envs)
}

/// What evaluating one node produced, for every instance of its module.
#[derive(Debug, Clone)]
pub enum NodeValue {
    /// One value per module instance.
    Var(Vec<ModuleValue>),
    Local(Vec<ModuleValue>),
    Provider(ProviderAddr, ProviderSettings),
    /// Each instance's configured attributes (see [`resource_config`]), grouped by module
    /// instance in the order of [`Envs::instances`], then in key order. Give the values
    /// references should see (the hook's) to [`Envs::store`].
    Resource(Shape, Vec<InstanceValue>),
    /// Each data source instance's evaluated arguments (`addr` holds its type and name),
    /// in the same order; give what was read (or [`unread_data`]) to [`Envs::store`].
    Data(Shape, Vec<InstanceValue>),
    Output(Vec<ModuleValue>),
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
    let validating = inputs.unknown_when_missing;
    // One instance's errors are usually every instance's: stop at the first.
    let each = |f: &dyn Fn(usize) -> Result<(Value, bool), Diagnostics>| -> Result<Vec<ModuleValue>, Diagnostics> {
        ids.iter()
            .map(|&id| {
                f(id).map(|(value, sensitive)| ModuleValue {
                    module: id,
                    value,
                    sensitive,
                })
            })
            .collect()
    };
    Ok(match node.kind {
        Kind::Var(i) if node.scope == ScopeId::ROOT => {
            let sensitive = module.variables[i].sensitive;
            NodeValue::Var(each(&|id| {
                Ok((
                    evaluate_variable(config, i, inputs, envs.env(id))?,
                    sensitive,
                ))
            })?)
        }
        Kind::Var(i) => {
            NodeValue::Var(each(&|id| modules::input(config, node.scope, i, envs, id))?)
        }
        Kind::Local(i) => {
            let local = &module.locals[i];
            NodeValue::Local(each(&|id| {
                Ok(Ctx::new(envs.env(id), local.expr.file).eval_marked(&local.expr.expr)?)
            })?)
        }
        Kind::Provider(i) => {
            let p = &module.providers[i];
            NodeValue::Provider(
                p.addr(),
                resource::provider_settings(p, envs.env(0), validating)?,
            )
        }
        Kind::Resource(i) => {
            let res = &module.resources[i];
            let scope = config.scope(node.scope);
            let what = format!("{}{}", scope.prefix(), res.key());
            let provider = envs.provider(&scope.resource_providers[i]);
            let mut instances = Vec::new();
            for &id in ids {
                let env = envs.env(id);
                let reps = repeat::repetitions(
                    &what,
                    res.count.as_ref(),
                    res.for_each.as_ref(),
                    env,
                    validating,
                )?;
                instances.reserve(reps.len());
                for rep in &reps {
                    let addr = ResourceAddr {
                        module: envs.modules[id].path.clone(),
                        type_: res.type_.clone(),
                        name: res.name.clone(),
                        key: rep.as_ref().map(Repetition::key),
                    };
                    let (value, found) = resource::resource_config_marked(
                        config,
                        res,
                        &addr,
                        env,
                        provider,
                        rep.as_ref(),
                    )?;
                    instances.push(InstanceValue {
                        addr,
                        module: id,
                        value,
                        sensitive: found.attrs,
                        secrets: found.secrets,
                    });
                }
            }
            NodeValue::Resource(
                Shape::of(res.count.is_some(), res.for_each.is_some()),
                instances,
            )
        }
        Kind::Data(i) => {
            let data = &module.data[i];
            let scope = config.scope(node.scope);
            let what = format!("{}data.{}", scope.prefix(), data.key());
            let mut instances = Vec::new();
            for &id in ids {
                let env = envs.env(id);
                let reps = repeat::repetitions(
                    &what,
                    data.count.as_ref(),
                    data.for_each.as_ref(),
                    env,
                    validating,
                )?;
                for rep in &reps {
                    let addr = ResourceAddr {
                        module: envs.modules[id].path.clone(),
                        type_: data.type_.clone(),
                        name: data.name.clone(),
                        key: rep.as_ref().map(Repetition::key),
                    };
                    let (value, found) =
                        data::data_config_marked(data, &DataAddr(addr.clone()), env, rep.as_ref())?;
                    instances.push(InstanceValue {
                        addr,
                        module: id,
                        value,
                        sensitive: found.attrs,
                        secrets: found.secrets,
                    });
                }
            }
            NodeValue::Data(
                Shape::of(data.count.is_some(), data.for_each.is_some()),
                instances,
            )
        }
        Kind::Output(i) => {
            let out = &module.outputs[i];
            let whose = match config.scope(node.scope).display() {
                root if root.is_empty() => String::new(),
                path => format!(" of {path}"),
            };
            NodeValue::Output(each(&|id| {
                let (v, derived) =
                    Ctx::new(envs.env(id), out.value.file).eval_marked(&out.value.expr)?;
                if derived && !out.sensitive {
                    return Err(Diagnostic::error(format!(
                        "output \"{}\"{whose} refers to sensitive values",
                        out.name
                    ))
                    .at(out.span.clone())
                    .label("derived from a sensitive value")
                    .help("an output holding sensitive data must say so, to confirm the intent: add sensitive = true to the output block (it is then shown as (sensitive value))")
                    .into());
                }
                Ok((v, out.sensitive))
            })?)
        }
        Kind::Call(c) => NodeValue::Call(modules::expand(config, node.scope, c, envs, validating)?),
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

/// `keel validate`: evaluates everything that can be known without state, a cloud or
/// variable values (a variable with no value is unknown), in every module, and returns
/// every problem: syntax aside, unsupported types and arguments, type mismatches (of the
/// stack's variables and of module call arguments), bad references, failed validation
/// rules of the values that are known.
pub fn validate(config: &Config, graph: &ResourceGraph, inputs: &Inputs) -> Diagnostics {
    let inputs = Inputs {
        unknown_when_missing: true,
        ..inputs.clone()
    };
    match evaluate(config, graph, &inputs) {
        Ok(_) => Diagnostics::default(),
        Err(d) => d,
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
        sensitive_attrs: walked.sensitive_attrs,
        secrets: walked.secrets,
    })
}

#[cfg(test)]
mod module_lang_tests;
#[cfg(test)]
mod module_tests;
