//! Everything evaluated so far, for every module instance: one [`Env`] per instance of each
//! scope, created as module calls expand, and the one place node values are stored, with
//! their sensitivity marks (each module instance's [`Env::sensitive`]).

use super::{
    Env, Expansion, InstanceValue, ModuleValue, NodeValue, ProviderSettings, Repetition, Shape,
};
use crate::addr::{InstanceKey, ModuleStep, ProviderAddr, ResourceAddr};
use crate::config::{Config, ScopeId};
use crate::graph::{Kind, Node};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One instance of a module: the root, or `module.net["a"]`.
#[derive(Debug, Clone)]
pub struct ModuleEnv {
    pub scope: ScopeId,
    /// `module.net["a"]` as steps; empty for the root.
    pub path: Vec<ModuleStep>,
    /// The instance of the calling module.
    pub parent: Option<usize>,
    /// `count.index` / `each.*` of this instance, seen by its call's arguments.
    pub repetition: Option<Repetition>,
    pub env: Env,
}

/// The module instances of one walk, and what was evaluated in each.
#[derive(Debug, Clone)]
pub struct Envs {
    /// Every module instance; `modules[0]` is the root.
    pub modules: Vec<ModuleEnv>,
    /// Scope -> its instances, in creation order (indices into `modules`).
    by_scope: Vec<Vec<usize>>,
    /// Every provider configuration evaluated so far; the default `aws` from the start.
    pub providers: BTreeMap<ProviderAddr, ProviderSettings>,
    /// The root module's outputs.
    pub outputs: BTreeMap<String, Value>,
    /// The sensitive attributes of every resource instance that has any, by its full
    /// address (`module.db.aws_db_instance.main`): what reports hide.
    pub sensitive_attrs: BTreeMap<ResourceAddr, BTreeSet<String>>,
    /// The sensitive strings those attributes' configurations read or computed.
    pub secrets: BTreeSet<String>,
}

impl Envs {
    /// Only the root instance, before anything is evaluated.
    pub fn new(config: &Config) -> Envs {
        let mut by_scope = vec![Vec::new(); config.scopes.len()];
        by_scope[0].push(0);
        Envs {
            modules: vec![ModuleEnv {
                scope: ScopeId::ROOT,
                path: Vec::new(),
                parent: None,
                repetition: None,
                env: Env::for_config(config),
            }],
            by_scope,
            providers: BTreeMap::from([(ProviderAddr::default(), ProviderSettings::default())]),
            outputs: BTreeMap::new(),
            sensitive_attrs: BTreeMap::new(),
            secrets: BTreeSet::new(),
        }
    }

    /// The instances of `scope` created so far (all of them once its call was stored).
    pub fn instances(&self, scope: ScopeId) -> &[usize] {
        &self.by_scope[scope.index()]
    }

    pub fn env(&self, module: usize) -> &Env {
        &self.modules[module].env
    }

    /// The settings of a provider configuration; empty ones for a configuration that has
    /// no block (the implicit default).
    pub fn provider(&self, addr: &ProviderAddr) -> &ProviderSettings {
        static NONE: std::sync::OnceLock<ProviderSettings> = std::sync::OnceLock::new();
        self.providers
            .get(addr)
            .unwrap_or_else(|| NONE.get_or_init(ProviderSettings::default))
    }

    /// Records what evaluating `node` produced, so its dependents can see it. For a
    /// resource, the instances carry the values references should see (the hook's).
    pub fn store(&mut self, config: &Config, node: Node, value: NodeValue) {
        let module = config.module(node.scope);
        match (node.kind, value) {
            (Kind::Var(i), NodeValue::Var(values)) => {
                let name = &module.variables[i].name;
                for ModuleValue {
                    module: id,
                    value,
                    sensitive,
                } in values
                {
                    let env = &mut self.modules[id].env;
                    if sensitive {
                        env.sensitive.mark(format!("var.{name}"));
                    }
                    env.vars.insert(name.clone(), value);
                }
            }
            (Kind::Local(i), NodeValue::Local(values)) => {
                let name = &module.locals[i].name;
                for ModuleValue {
                    module: id,
                    value,
                    sensitive,
                } in values
                {
                    let env = &mut self.modules[id].env;
                    if sensitive {
                        env.sensitive.mark(format!("local.{name}"));
                    }
                    env.locals.insert(name.clone(), value);
                }
            }
            (Kind::Provider(_), NodeValue::Provider(addr, settings)) => {
                self.providers.insert(addr, settings);
            }
            (Kind::Resource(i), NodeValue::Resource(shape, instances)) => {
                let key = module.resources[i].key();
                let mut it = instances.into_iter().peekable();
                for &id in &self.by_scope[node.scope.index()] {
                    let mut seen = Vec::new();
                    let env = &mut self.modules[id].env;
                    while let Some(InstanceValue {
                        addr,
                        value,
                        sensitive,
                        secrets,
                        ..
                    }) = it.next_if(|i| i.module == id)
                    {
                        self.secrets.extend(secrets);
                        if !sensitive.is_empty() {
                            // References to them in this module instance are sensitive.
                            env.sensitive.mark_attrs(&key, sensitive.iter().cloned());
                            self.sensitive_attrs.insert(addr.clone(), sensitive);
                        }
                        seen.push((addr, value));
                    }
                    env.resources
                        .insert(key.clone(), super::assemble(shape, seen));
                }
            }
            (Kind::Data(i), NodeValue::Data(shape, instances)) => {
                let data = &module.data[i];
                let key = data.key();
                let marks = format!("data.{key}");
                let mut it = instances.into_iter().peekable();
                for &id in &self.by_scope[node.scope.index()] {
                    let mut seen = Vec::new();
                    let env = &mut self.modules[id].env;
                    while let Some(InstanceValue {
                        addr,
                        value,
                        sensitive,
                        secrets,
                        ..
                    }) = it.next_if(|i| i.module == id)
                    {
                        self.secrets.extend(secrets);
                        // Arguments set from sensitive values stay sensitive when read back.
                        env.sensitive.mark_attrs(&marks, sensitive);
                        seen.push((addr, value));
                    }
                    env.data.insert(key.clone(), super::assemble(shape, seen));
                }
            }
            (Kind::Output(i), NodeValue::Output(values)) => {
                let name = &module.outputs[i].name;
                for ModuleValue {
                    module: id,
                    value,
                    sensitive,
                } in values
                {
                    self.set_output(id, name, value, sensitive);
                }
            }
            (Kind::Call(c), NodeValue::Call(expansions)) => {
                let child = config.scope(node.scope).children[c];
                let call = &module.calls[c];
                let dir = config.module(child).dir.display().to_string();
                for e in expansions {
                    self.expand(child, &call.name, &dir, e);
                }
            }
            (kind, value) => unreachable!("{kind:?} cannot hold {value:?}"),
        }
    }

    /// Creates the child instances of one expansion, and the empty `module.NAME` value
    /// their outputs fill in.
    fn expand(&mut self, child: ScopeId, name: &str, dir: &str, e: Expansion) {
        let Expansion {
            parent,
            shape,
            repetitions,
        } = e;
        let mut skeleton_list = Vec::new();
        let mut skeleton_map = BTreeMap::new();
        for rep in repetitions {
            let key = rep.as_ref().map(Repetition::key);
            match &key {
                Some(InstanceKey::Int(_)) => skeleton_list.push(Value::Map(BTreeMap::new())),
                Some(InstanceKey::Str(k)) => {
                    skeleton_map.insert(k.clone(), Value::Map(BTreeMap::new()));
                }
                None => {}
            }
            let mut path = self.modules[parent].path.clone();
            path.push(ModuleStep {
                name: name.to_string(),
                key,
            });
            let parent_env = &self.modules[parent].env;
            let env = Env {
                path_module: dir.to_string(),
                path_root: parent_env.path_root.clone(),
                path_cwd: parent_env.path_cwd.clone(),
                ..Env::default()
            };
            let id = self.modules.len();
            self.modules.push(ModuleEnv {
                scope: child,
                path,
                parent: Some(parent),
                repetition: rep,
                env,
            });
            self.by_scope[child.index()].push(id);
        }
        let skeleton = match shape {
            Shape::One => Value::Map(BTreeMap::new()),
            Shape::List => Value::List(skeleton_list),
            Shape::Map => Value::Map(skeleton_map),
        };
        self.modules[parent]
            .env
            .modules
            .insert(name.to_string(), skeleton);
    }

    /// Puts output `name` of module instance `id` where its caller reads it:
    /// `module.CALL.name`, `module.CALL[i].name` or `module.CALL["k"].name`; a sensitive
    /// one marks what the caller reads as sensitive.
    fn set_output(&mut self, id: usize, name: &str, v: Value, sensitive: bool) {
        let me = &self.modules[id];
        let (Some(parent), Some(step)) = (me.parent, me.path.last()) else {
            self.outputs.insert(name.to_string(), v);
            return;
        };
        let (call, key) = (step.name.clone(), step.key.clone());
        let caller = &mut self.modules[parent].env;
        if sensitive {
            caller
                .sensitive
                .mark_attrs(&format!("module.{call}"), [name.to_string()]);
        }
        let Some(slot) = caller.modules.get_mut(&call) else {
            return;
        };
        let object = match (slot, key) {
            (Value::Map(m), None) => Some(m),
            (Value::List(items), Some(InstanceKey::Int(i))) => match items.get_mut(i as usize) {
                Some(Value::Map(m)) => Some(m),
                _ => None,
            },
            (Value::Map(m), Some(InstanceKey::Str(k))) => match m.get_mut(&k) {
                Some(Value::Map(m)) => Some(m),
                _ => None,
            },
            _ => None,
        };
        if let Some(object) = object {
            object.insert(name.to_string(), v);
        }
    }
}
