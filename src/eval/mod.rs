//! Eval: Config + variables -> [`Desired`], the resource instances keel should manage with
//! their attribute values, some of them unknown until apply. Evaluation walks the
//! [`ResourceGraph`] in dependency order and never reads state.
//!
//! The same walk serves planning and apply through [`Hook`]: it is handed each resource's
//! evaluated configuration and decides which value later expressions see (unknown computed
//! attributes here, the planned value while planning, the real value during apply).

mod convert;
pub mod expr;
pub mod functions;
pub mod refs;
mod resource;
mod sensitive;
mod variables;

use crate::addr::{InstanceKey, ResourceAddr};
use crate::config::{Config, Resource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Node, ResourceGraph};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use convert::{Mismatch, convert};
pub use expr::Ctx;
pub use resource::{computed_value, resource_config};
pub use sensitive::{Marks, SENSITIVE, scrub};
pub use variables::{
    Given, Inputs, Origin, Raw, check_given, evaluate_variable, missing, variable_value,
};

/// Everything evaluated so far, by name.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: HashMap<String, Value>,
    pub locals: HashMap<String, Value>,
    /// `TYPE.NAME` -> the object that references see.
    pub resources: HashMap<String, Value>,
    pub path_module: String,
    pub path_cwd: String,
    /// Which of the values above are sensitive.
    pub sensitive: Marks,
}

impl Env {
    /// An empty environment for `config`, with `path.module` and `path.cwd` set.
    pub fn for_config(config: &Config) -> Env {
        let mut sensitive = Marks::default();
        for v in config.variables.iter().filter(|v| v.sensitive) {
            sensitive.mark(format!("var.{}", v.name));
        }
        Env {
            path_module: config.dir.display().to_string(),
            path_cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            sensitive,
            ..Env::default()
        }
    }

    /// Records a resource block's instances' sensitive attributes, so references to them
    /// are sensitive too.
    pub fn mark_resource(&mut self, key: &str, instances: &[InstanceValue]) {
        for i in instances {
            self.sensitive.mark_attrs(key, i.sensitive.iter().cloned());
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

/// What `count.index` and `each.key` / `each.value` are for one instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Repetition {
    Count(u64),
    Each { key: String, value: Value },
}

impl Repetition {
    pub fn key(&self) -> InstanceKey {
        match self {
            Repetition::Count(i) => InstanceKey::Int(*i),
            Repetition::Each { key, .. } => InstanceKey::Str(key.clone()),
        }
    }
}

/// One instance's evaluated configuration, before the hook has seen it.
#[derive(Debug, Clone)]
pub struct InstanceValue {
    pub addr: ResourceAddr,
    pub value: Value,
    /// Top-level attributes configured from sensitive values.
    pub sensitive: BTreeSet<String>,
}

/// How a resource block's instances look to references: one object (`TYPE.NAME.id`), a
/// list (`TYPE.NAME[0].id` with count) or a map (`TYPE.NAME["k"].id` with for_each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    One,
    List,
    Map,
}

/// Puts the values the hook returned for each instance together into what references to
/// the block see.
pub fn assemble(shape: Shape, seen: Vec<(ResourceAddr, Value)>) -> Value {
    match shape {
        Shape::One => seen.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
        Shape::List => Value::List(seen.into_iter().map(|(_, v)| v).collect()),
        Shape::Map => Value::Map(
            seen.into_iter()
                .map(|(a, v)| {
                    let k = match a.key {
                        Some(InstanceKey::Str(s)) => s,
                        Some(InstanceKey::Int(i)) => i.to_string(),
                        None => String::new(),
                    };
                    (k, v)
                })
                .collect(),
        ),
    }
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
    let mut env = Env::for_config(config);
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
                NodeValue::Resource(shape, instances) => {
                    let res = &config.resources[match node {
                        Node::Resource(i) => i,
                        _ => unreachable!("resource values come from resource nodes"),
                    }];
                    env.mark_resource(&res.key(), &instances);
                    let mut seen = Vec::with_capacity(instances.len());
                    for i in instances {
                        let v = hook.resource(config, res, &i.addr, i.value)?;
                        seen.push((i.addr, v));
                    }
                    env.resources.insert(res.key(), assemble(shape, seen));
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
    /// A local value, and whether it is sensitive.
    Local(String, Value, bool),
    Provider(ProviderSettings),
    /// Each instance's configured attributes (see [`resource_config`]), in key order.
    Resource(Shape, Vec<InstanceValue>),
    Output(String, Value),
}

/// Records a variable, local or provider value in the environment.
pub fn store(env: &mut Env, provider: &mut ProviderSettings, value: NodeValue) {
    match value {
        NodeValue::Var(n, v) => {
            env.vars.insert(n, v);
        }
        NodeValue::Local(n, v, sensitive) => {
            if sensitive {
                env.sensitive.mark(format!("local.{n}"));
            }
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
        Node::Var(i) => NodeValue::Var(
            config.variables[i].name.clone(),
            evaluate_variable(config, i, inputs, env)?,
        ),
        Node::Local(i) => {
            let local = &config.locals[i];
            let (v, sensitive) = Ctx::new(env, local.expr.file).eval_marked(&local.expr.expr)?;
            NodeValue::Local(local.name.clone(), v, sensitive)
        }
        Node::Provider(i) => NodeValue::Provider(resource::provider_settings(
            &config.providers[i],
            env,
            inputs.unknown_when_missing,
        )?),
        Node::Resource(i) => {
            let res = &config.resources[i];
            let (shape, reps) = repetitions(res, env, inputs.unknown_when_missing)?;
            let mut diags = Diagnostics::default();
            let mut instances = Vec::with_capacity(reps.len());
            for rep in &reps {
                let mut addr = ResourceAddr::new(&res.type_, &res.name);
                addr.key = rep.as_ref().map(Repetition::key);
                match resource::resource_config_marked(
                    config,
                    res,
                    &addr,
                    env,
                    provider,
                    rep.as_ref(),
                ) {
                    Ok((value, sensitive)) => instances.push(InstanceValue {
                        addr,
                        value,
                        sensitive,
                    }),
                    Err(d) => diags.extend(d),
                }
                // One instance's errors are usually every instance's: report them once.
                if diags.has_errors() {
                    return Err(diags);
                }
            }
            NodeValue::Resource(shape, instances)
        }
        Node::Output(i) => {
            let out = &config.outputs[i];
            let (v, sensitive) = Ctx::new(env, out.value.file).eval_marked(&out.value.expr)?;
            if sensitive && !out.sensitive {
                return Err(Diagnostic::error(format!(
                    "output \"{}\" refers to sensitive values",
                    out.name
                ))
                .at(out.span.clone())
                .label("derived from a sensitive value")
                .help("an output holding sensitive data must say so, to confirm the intent: add sensitive = true to the output block (it is then shown as (sensitive value))")
                .into());
            }
            NodeValue::Output(out.name.clone(), v)
        }
    })
}

/// Evaluates `count` / `for_each`: which instances a resource block has.
/// `validating` (keel validate, where variables may be unknown): a count or for_each that
/// is unknown gives one stand-in instance, so its body is still checked.
fn repetitions(
    res: &Resource,
    env: &Env,
    validating: bool,
) -> Result<(Shape, Vec<Option<Repetition>>), Diagnostics> {
    let unknown = |what: &str, e: &crate::config::Expr| -> Diagnostics {
        let names: Vec<String> = refs::references(e)
            .into_iter()
            .filter(|r| !matches!(r.subject, refs::Subject::Builtin))
            .map(|r| r.text)
            .collect();
        let from = if names.is_empty() {
            String::new()
        } else {
            format!(" (it depends on {})", names.join(", "))
        };
        Diagnostic::error(format!(
            "the {what} of {} is not known until apply{from}",
            res.key()
        ))
        .at(e.span())
        .label("known only after apply")
        .help(format!(
            "keel must know how many instances to plan: compute {what} from variables, locals or literal values, not from attributes AWS assigns"
        ))
        .into()
    };
    if let Some(e) = &res.count {
        let mut ctx = Ctx::new(env, e.file);
        let v = ctx.eval(&e.expr)?;
        let n = match v {
            Value::Unknown if validating => 1,
            Value::Unknown => return Err(unknown("count", e)),
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => n as u64,
            other => {
                return Err(Diagnostic::error(format!(
                    "count of {} must be a whole number of zero or more, got {}",
                    res.key(),
                    ctx.scrub(&other.to_hcl())
                ))
                .at(e.span())
                .into());
            }
        };
        return Ok((
            Shape::List,
            (0..n).map(|i| Some(Repetition::Count(i))).collect(),
        ));
    }
    if let Some(e) = &res.for_each {
        let (v, sensitive) = Ctx::new(env, e.file).eval_marked(&e.expr)?;
        if sensitive {
            // Instance keys appear in every address, plan and log line.
            return Err(Diagnostic::error(format!(
                "the for_each of {} is derived from a sensitive value",
                res.key()
            ))
            .at(e.span())
            .help("instance keys are shown in every plan and address, so they cannot be secret; use nonsensitive keys (for_each over names, look secrets up inside)")
            .into());
        }
        // A map's keys are always known; its values may be unknown until apply.
        let unknown_keys = match &v {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            _ => false,
        };
        if unknown_keys && validating {
            let each = Repetition::Each {
                key: String::new(),
                value: Value::Unknown,
            };
            return Ok((Shape::Map, vec![Some(each)]));
        }
        if unknown_keys {
            return Err(unknown("for_each", e));
        }
        let bad = |why: &str| -> Diagnostics {
            Diagnostic::error(format!("for_each of {} {why}", res.key()))
                .at(e.span())
                .help("for_each takes a map, or a set of strings such as toset([\"a\", \"b\"])")
                .into()
        };
        let reps: Vec<Option<Repetition>> = match v {
            Value::Map(m) => m
                .into_iter()
                .map(|(key, value)| Some(Repetition::Each { key, value }))
                .collect(),
            Value::List(items) => {
                let mut keys = std::collections::BTreeSet::new();
                for item in items {
                    match item {
                        Value::String(s) => {
                            keys.insert(s);
                        }
                        Value::Null => return Err(bad("contains null")),
                        other => {
                            return Err(bad(&format!(
                                "must hold strings, but holds {}",
                                other.to_hcl()
                            )));
                        }
                    }
                }
                keys.into_iter()
                    .map(|k| {
                        Some(Repetition::Each {
                            key: k.clone(),
                            value: Value::String(k),
                        })
                    })
                    .collect()
            }
            Value::Null => return Err(bad("is null")),
            other => return Err(bad(&format!("is {}, not a map or set", other.to_hcl()))),
        };
        return Ok((Shape::Map, reps));
    }
    Ok((Shape::One, vec![None]))
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

/// `keel validate`: evaluates everything that can be known without state, a cloud or
/// variable values (a variable with no value is unknown), and returns every problem:
/// syntax aside, unsupported types and arguments, type mismatches, bad references,
/// failed validation rules of the values that are known.
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
        provider: walked.provider,
    })
}
