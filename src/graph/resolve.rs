//! Resolving a reference written in one scope to the graph nodes it depends on, with a
//! did-you-mean hint for every name that does not resolve.

use super::{Kind, Node};
use crate::config::{Config, Expr, Module, ScopeId};
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::eval::refs::{Reference, Subject, references};
use std::collections::HashMap;

/// Name lookups for one module's blocks.
struct Names<'a> {
    vars: HashMap<&'a str, usize>,
    locals: HashMap<&'a str, usize>,
    calls: HashMap<&'a str, usize>,
}

impl<'a> Names<'a> {
    fn new(m: &'a Module) -> Names<'a> {
        let index = |it: &mut dyn Iterator<Item = &'a str>| -> HashMap<&'a str, usize> {
            it.enumerate().map(|(i, n)| (n, i)).collect()
        };
        Names {
            vars: index(&mut m.variables.iter().map(|v| v.name.as_str())),
            locals: index(&mut m.locals.iter().map(|l| l.name.as_str())),
            calls: index(&mut m.calls.iter().map(|c| c.name.as_str())),
        }
    }
}

pub(super) struct Resolver<'a> {
    config: &'a Config,
    names: Vec<Names<'a>>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(config: &'a Config) -> Resolver<'a> {
        Resolver {
            config,
            names: config.modules.iter().map(Names::new).collect(),
        }
    }

    fn names(&self, scope: ScopeId) -> &Names<'a> {
        &self.names[self.config.scope(scope).module.0 as usize]
    }

    /// The nodes `r`, written in `scope`, depends on; an unresolvable name is reported.
    pub(super) fn resolve(
        &self,
        scope: ScopeId,
        r: &Reference,
        diags: &mut Diagnostics,
    ) -> Vec<Node> {
        let names = self.names(scope);
        let module = self.config.module(scope);
        let here = if scope == ScopeId::ROOT {
            "not declared in this stack"
        } else {
            "not declared in this module"
        };
        let node = |kind| vec![Node::new(scope, kind)];
        match &r.subject {
            Subject::Var(n) => match names.vars.get(n.as_str()) {
                Some(&i) => node(Kind::Var(i)),
                None => {
                    let mut d =
                        Diagnostic::error(format!("reference to undeclared variable var.{n}"))
                            .at(r.span.clone())
                            .label(here);
                    d = match suggest(n, names.vars.keys().copied()) {
                        Some(s) => d.help(format!("did you mean var.{s}?")),
                        None => d.help(format!("declare it: variable \"{n}\" {{}}")),
                    };
                    diags.push(d);
                    vec![]
                }
            },
            Subject::Local(n) => match names.locals.get(n.as_str()) {
                Some(&i) => node(Kind::Local(i)),
                None => {
                    let mut d =
                        Diagnostic::error(format!("reference to undeclared local value local.{n}"))
                            .at(r.span.clone())
                            .label(here);
                    d = match suggest(n, names.locals.keys().copied()) {
                        Some(s) => d.help(format!("did you mean local.{s}?")),
                        None => d.help(format!("declare it in a locals {{ {n} = ... }} block")),
                    };
                    diags.push(d);
                    vec![]
                }
            },
            Subject::Resource { type_, name } => match module.resource(type_, name) {
                Some(i) => node(Kind::Resource(i)),
                None => {
                    let key = format!("{type_}.{name}");
                    let mut d =
                        Diagnostic::error(format!("reference to undeclared resource {key}"))
                            .at(r.span.clone())
                            .label(here);
                    let keys: Vec<String> = module.resources.iter().map(|r| r.key()).collect();
                    d = match suggest(&key, keys.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean {s}?")),
                        None => d.help(format!(
                            "declare it with resource \"{type_}\" \"{name}\" {{ ... }}"
                        )),
                    };
                    diags.push(d);
                    vec![]
                }
            },
            Subject::Data { type_, name } => match module.data_source(type_, name) {
                Some(i) => node(Kind::Data(i)),
                None => {
                    let key = format!("{type_}.{name}");
                    let mut d = Diagnostic::error(format!(
                        "reference to undeclared data source data.{key}"
                    ))
                    .at(r.span.clone())
                    .label(here);
                    let keys: Vec<String> = module.data.iter().map(|r| r.key()).collect();
                    d = match suggest(&key, keys.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean data.{s}?")),
                        None => d.help(format!(
                            "declare it with data \"{type_}\" \"{name}\" {{ ... }}"
                        )),
                    };
                    diags.push(d);
                    vec![]
                }
            },
            Subject::Module { name, output } => {
                let Some(&c) = names.calls.get(name.as_str()) else {
                    let mut d =
                        Diagnostic::error(format!("reference to undeclared module module.{name}"))
                            .at(r.span.clone())
                            .label(here);
                    d = match suggest(name, names.calls.keys().copied()) {
                        Some(s) => d.help(format!("did you mean module.{s}?")),
                        None => d.help(format!(
                            "declare it with module \"{name}\" {{ source = \"./modules/...\" }}"
                        )),
                    };
                    diags.push(d);
                    return vec![];
                };
                let child = self.config.scope(scope).children[c];
                let cm = self.config.module(child);
                match output {
                    Some(o) => match cm.output(o) {
                        Some(j) => vec![Node::new(child, Kind::Output(j))],
                        None => {
                            let mut d =
                                Diagnostic::error(format!("module.{name} has no output \"{o}\""))
                                    .at(r.span.clone())
                                    .label("not an output of the module");
                            let outs = || cm.outputs.iter().map(|o| o.name.as_str());
                            d = match suggest(o, outs()) {
                                Some(s) => d.help(format!("did you mean module.{name}.{s}?")),
                                None if cm.outputs.is_empty() => d.help(format!(
                                    "the module in {} declares no outputs; add output \"{o}\" {{ value = ... }} there",
                                    cm.dir.display()
                                )),
                                None => d.help(format!(
                                    "its outputs: {}",
                                    outs().collect::<Vec<_>>().join(", ")
                                )),
                            };
                            diags.push(d);
                            vec![]
                        }
                    },
                    // The whole module object: every output, and the call for its shape.
                    None => (0..cm.outputs.len())
                        .map(|j| Node::new(child, Kind::Output(j)))
                        .chain([Node::new(scope, Kind::Call(c))])
                        .collect(),
                }
            }
            Subject::Builtin => vec![],
            Subject::Unsupported(text) => {
                let help = if text.starts_with("data.") {
                    "data sources read as data.TYPE.NAME.ATTRIBUTE"
                } else if text.starts_with("count.") {
                    "count has one attribute: count.index"
                } else if text.starts_with("each.") {
                    "each has two attributes: each.key and each.value"
                } else if text == "module" {
                    "write module.NAME.OUTPUT to read a module's output"
                } else {
                    "references look like var.NAME, local.NAME, module.NAME.OUTPUT or TYPE.NAME.ATTRIBUTE; strings need quotes"
                };
                diags.push(
                    Diagnostic::error(format!("unknown reference \"{text}\""))
                        .at(r.span.clone())
                        .help(help),
                );
                vec![]
            }
        }
    }

    /// One `depends_on` entry of `what`: a resource, or a module (all of its resources,
    /// nested modules included).
    pub(super) fn depends_on(
        &self,
        scope: ScopeId,
        what: &str,
        e: &Expr,
        diags: &mut Diagnostics,
    ) -> Vec<Node> {
        let refs = references(e);
        match refs.as_slice() {
            [r] if matches!(r.subject, Subject::Resource { .. } | Subject::Data { .. }) => {
                self.resolve(scope, r, diags)
            }
            [r] if matches!(r.subject, Subject::Module { .. }) => {
                let Subject::Module { name, .. } = &r.subject else {
                    unreachable!("matched above")
                };
                let whole = Reference {
                    subject: Subject::Module {
                        name: name.clone(),
                        output: None,
                    },
                    span: r.span.clone(),
                    text: r.text.clone(),
                };
                let mut out = self.resolve(scope, &whole, diags);
                if let Some(&c) = self.names(scope).calls.get(name.as_str()) {
                    out.extend(self.resources_under(self.config.scope(scope).children[c]));
                }
                out
            }
            _ => {
                diags.push(
                    Diagnostic::error(format!(
                        "depends_on in {what} must list resources, data sources or modules, like aws_vpc.main or module.network"
                    ))
                    .at(e.span()),
                );
                vec![]
            }
        }
    }

    /// Every resource node in `scope` and the scopes below it.
    fn resources_under(&self, scope: ScopeId) -> Vec<Node> {
        let mut out = Vec::new();
        let mut stack = vec![scope];
        while let Some(s) = stack.pop() {
            let m = self.config.module(s);
            out.extend((0..m.resources.len()).map(|i| Node::new(s, Kind::Resource(i))));
            stack.extend(self.config.scope(s).children.iter().copied());
        }
        out
    }
}
