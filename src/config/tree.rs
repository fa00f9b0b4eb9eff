//! The module tree: one [`Scope`] per static call path, with each call's arguments checked
//! against the child's variables and each resource's provider configuration resolved
//! (`provider = aws.west`, inherited defaults, `providers = { ... }` on calls).

use super::*;
use crate::diag::{Diagnostic, Diagnostics, suggest};
use std::collections::{BTreeMap, HashSet};

/// Provider names visible in one scope: `aws`, `aws.west` -> the root configuration.
type Namespace = BTreeMap<String, ProviderAddr>;

struct Builder<'a> {
    modules: &'a [Module],
    scopes: Vec<Scope>,
    diags: &'a mut Diagnostics,
    /// (module, call) pairs whose arguments were checked: a module called from several
    /// scopes is reported once.
    checked_calls: HashSet<(ModuleId, usize)>,
    checked_passes: HashSet<(ModuleId, usize)>,
    checked_resources: HashSet<(ModuleId, usize)>,
    checked_data: HashSet<(ModuleId, usize)>,
}

/// Builds the tree from the root module down. Every call's module must be loaded.
pub(super) fn build(modules: &[Module], diags: &mut Diagnostics) -> Vec<Scope> {
    let mut root_ns = Namespace::new();
    for p in &modules[0].providers {
        root_ns.insert(p.addr().to_string(), p.addr());
    }
    let mut b = Builder {
        modules,
        scopes: Vec::new(),
        diags,
        checked_calls: HashSet::new(),
        checked_passes: HashSet::new(),
        checked_resources: HashSet::new(),
        checked_data: HashSet::new(),
    };
    b.add(
        ModuleId(0),
        Vec::new(),
        None,
        &root_ns,
        &mut vec![ModuleId(0)],
    );
    b.scopes
}

impl Builder<'_> {
    fn add(
        &mut self,
        module: ModuleId,
        path: Vec<String>,
        parent: Option<(ScopeId, usize)>,
        ns: &Namespace,
        ancestors: &mut Vec<ModuleId>,
    ) -> ScopeId {
        let id = ScopeId(self.scopes.len() as u32);
        let m = &self.modules[module.0 as usize];
        let resource_providers = m
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| self.resource_provider(module, i, r, ns, parent.is_none(), false))
            .collect();
        let data_providers = m
            .data
            .iter()
            .enumerate()
            .map(|(i, r)| self.resource_provider(module, i, r, ns, parent.is_none(), true))
            .collect();
        self.scopes.push(Scope {
            module,
            path: path.clone(),
            parent,
            children: Vec::new(),
            resource_providers,
            data_providers,
        });
        for (c, call) in m.calls.iter().enumerate() {
            let Some(child) = call.module else { continue };
            let what = format!("module.{}", call.name);
            if ancestors.contains(&child) {
                self.diags.push(
                    Diagnostic::error(format!(
                        "{what} calls a module that is already being called on this path ({}), which would never end",
                        self.modules[child.0 as usize].dir.display()
                    ))
                    .at(call.source_span.clone())
                    .help("a module cannot call itself, directly or through other modules"),
                );
                continue;
            }
            if self.checked_calls.insert((module, c)) {
                self.check_arguments(call, &self.modules[child.0 as usize]);
            }
            let child_ns = self.child_namespace(call, ns, module, c);
            let mut child_path = path.clone();
            child_path.push(call.name.clone());
            ancestors.push(child);
            let child_id = self.add(child, child_path, Some((id, c)), &child_ns, ancestors);
            ancestors.pop();
            self.scopes[id.index()].children.push(child_id);
        }
        id
    }

    /// Arguments must be variables of the child; variables without a default must be set.
    fn check_arguments(&mut self, call: &ModuleCall, child: &Module) {
        let what = format!("module.{}", call.name);
        for arg in &call.args {
            if child.variable(&arg.name).is_some() {
                continue;
            }
            let names = || child.variables.iter().map(|v| v.name.as_str());
            let mut d = Diagnostic::error(format!("{what} has no input variable \"{}\"", arg.name))
                .at(arg.span.clone())
                .label("not a variable of the module");
            d = match suggest(&arg.name, names()) {
                Some(s) => d.help(format!("did you mean \"{s}\"?")),
                None if child.variables.is_empty() => d.help(format!(
                    "the module in {} declares no variables",
                    child.dir.display()
                )),
                None => d.help(format!(
                    "its variables: {}",
                    names().collect::<Vec<_>>().join(", ")
                )),
            };
            self.diags.push(d);
        }
        for v in &child.variables {
            if v.default.is_none() && call.arg(&v.name).is_none() {
                let mut d = Diagnostic::error(format!(
                    "{what} is missing the required input \"{}\"",
                    v.name
                ))
                .at(call.span.clone())
                .label("set the input here");
                let unknown: Vec<&str> = call
                    .args
                    .iter()
                    .filter(|a| child.variable(&a.name).is_none())
                    .map(|a| a.name.as_str())
                    .collect();
                d = match suggest(&v.name, unknown) {
                    Some(s) => d.help(format!("did you mean to write {} instead of {s}?", v.name)),
                    None => d.help(format!(
                        "add {} = VALUE to the module block, or give variable \"{}\" a default",
                        v.name, v.name
                    )),
                };
                self.diags.push(d);
            }
        }
    }

    /// What the child sees: the caller's defaults, overridden and extended by `providers`.
    fn child_namespace(
        &mut self,
        call: &ModuleCall,
        ns: &Namespace,
        module: ModuleId,
        c: usize,
    ) -> Namespace {
        let mut child: Namespace = ns
            .iter()
            .filter(|(k, _)| !k.contains('.'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for pass in &call.providers {
            match resolve(ns, &pass.parent) {
                Some(addr) => {
                    child.insert(pass.child.clone(), addr);
                }
                None => {
                    if self.checked_passes.insert((module, c)) {
                        self.diags.push(unknown_provider(
                            &pass.parent,
                            ns,
                            pass.span.clone(),
                            None,
                        ));
                    }
                }
            }
        }
        child
    }

    fn resource_provider(
        &mut self,
        module: ModuleId,
        i: usize,
        r: &Resource,
        ns: &Namespace,
        root: bool,
        data: bool,
    ) -> ProviderAddr {
        let Some(p) = &r.provider else {
            return resolve(ns, r.provider_name()).unwrap_or_default();
        };
        if let Some(addr) = resolve(ns, &p.name) {
            return addr;
        }
        let checked = if data {
            &mut self.checked_data
        } else {
            &mut self.checked_resources
        };
        if checked.insert((module, i)) {
            let hint = (!root).then(|| {
                format!(
                    "the module gets only the default configuration unless its call passes more: providers = {{ {0} = {0} }}",
                    p.name
                )
            });
            self.diags
                .push(unknown_provider(&p.name, ns, p.span.clone(), hint));
        }
        ProviderAddr::default()
    }
}

/// A name in a namespace; a default (`aws`) that nobody configured is the implicit one.
fn resolve(ns: &Namespace, name: &str) -> Option<ProviderAddr> {
    if let Some(addr) = ns.get(name) {
        return Some(addr.clone());
    }
    let addr: ProviderAddr = name.parse().ok()?;
    addr.is_default().then_some(addr)
}

fn unknown_provider(
    name: &str,
    ns: &Namespace,
    span: Option<Span>,
    hint: Option<String>,
) -> Diagnostic {
    let mut d = Diagnostic::error(format!("provider configuration {name} is not declared"))
        .at(span)
        .label("no such provider configuration");
    let alias = name.split_once('.').map(|(_, a)| a).unwrap_or(name);
    d = match (suggest(name, ns.keys().map(String::as_str)), hint) {
        (Some(s), _) => d.help(format!("did you mean {s}?")),
        (None, Some(h)) => d.help(h),
        (None, None) => d.help(format!(
            "declare it in the stack: provider \"aws\" {{ alias = \"{alias}\" ... }}"
        )),
    };
    d
}
