//! Graph: Config -> [`ResourceGraph`], ONE petgraph DAG across every module of the stack:
//! variables, locals, provider configurations, resources, outputs and module calls, each
//! node once per static module path (`module.net.aws_vpc.this`), with an edge wherever one
//! refers to another (or `depends_on` says so). A cycle is an error naming every address in
//! it with its file and line.
//!
//! The graph is built from the configuration's references before anything is evaluated,
//! as Terraform does, so evaluation can follow it. `count` / `for_each` on modules and
//! resources expand while evaluation walks it; the graph itself stays static.
//!
//! Across a module boundary: a module call node waits for what its `count`, `for_each`
//! and `depends_on` name, and every node inside the module waits for the call (so
//! `depends_on` on a call holds back everything in the module). The child's variables wait
//! for what their argument expressions refer to in the caller; `module.NAME.OUTPUT` waits
//! for that output only, `module.NAME` for all of them.

mod resolve;

use crate::addr::ProviderAddr;
use crate::config::{Config, Resource, ScopeId};
use crate::diag::{Diagnostic, Diagnostics, FileId, Span};
use crate::eval::refs::{Reference, Subject, expression_references_within, references};
use hcl_edit::structure::Body;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use resolve::Resolver;
use std::collections::{HashMap, HashSet};

/// What a node is: an index into the matching list of its scope's [`crate::config::Module`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Var(usize),
    Local(usize),
    /// A provider block; only the root module has them.
    Provider(usize),
    Resource(usize),
    /// A `data` block: read during planning (or apply, when its arguments are unknown).
    Data(usize),
    Output(usize),
    /// A `module` block: evaluating it expands the child's instances (count / for_each).
    Call(usize),
}

/// A node: one block (or local, or variable) at one static place in the module tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub scope: ScopeId,
    pub kind: Kind,
}

impl Node {
    pub fn new(scope: ScopeId, kind: Kind) -> Node {
        Node { scope, kind }
    }

    /// A node of the stack's root module.
    pub fn root(kind: Kind) -> Node {
        Node::new(ScopeId::ROOT, kind)
    }

    /// The resource index, for resource nodes.
    pub fn resource(self) -> Option<usize> {
        match self.kind {
            Kind::Resource(i) => Some(i),
            _ => None,
        }
    }

    /// The data block of a data node, and the provider configuration it reads through here.
    pub fn data_in(self, config: &Config) -> Option<(&Resource, &ProviderAddr)> {
        let Kind::Data(i) = self.kind else {
            return None;
        };
        Some((
            &config.module(self.scope).data[i],
            &config.scope(self.scope).data_providers[i],
        ))
    }

    /// The resource block of a resource node, and the provider configuration it uses here.
    pub fn resource_in(self, config: &Config) -> Option<(&Resource, &ProviderAddr)> {
        let i = self.resource()?;
        Some((
            &config.module(self.scope).resources[i],
            &config.scope(self.scope).resource_providers[i],
        ))
    }
}

/// The dependency graph, with a topological order ready for walking.
#[derive(Debug)]
pub struct ResourceGraph {
    graph: DiGraph<Node, ()>,
    index: HashMap<Node, NodeIndex>,
    order: Vec<Node>,
    /// Data node -> the resources and data sources its `depends_on` names (a module
    /// stands for every resource in it): a pending change in any of them defers the
    /// read to apply, as Terraform does.
    data_depends_on: HashMap<Node, Vec<Node>>,
}

impl ResourceGraph {
    /// What a data source's `depends_on` names (see the field).
    pub fn data_depends_on(&self, node: Node) -> &[Node] {
        self.data_depends_on
            .get(&node)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Nodes with every dependency before its dependents.
    pub fn order(&self) -> &[Node] {
        &self.order
    }

    /// What `node` depends on directly.
    pub fn dependencies(&self, node: Node) -> impl Iterator<Item = Node> + '_ {
        self.graph
            .neighbors_directed(self.index[&node], petgraph::Direction::Incoming)
            .map(|i| self.graph[i])
    }

    /// The resource nodes a node depends on, directly or through variables, locals,
    /// outputs and module calls; sorted.
    pub fn resource_dependencies(&self, node: Node) -> Vec<Node> {
        let mut out = Vec::new();
        let mut stack: Vec<Node> = self.dependencies(node).collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match n.kind {
                Kind::Resource(_) => out.push(n),
                _ => stack.extend(self.dependencies(n)),
            }
        }
        out.sort_unstable();
        out
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Graphviz DOT of the resources and the edges between them.
    pub fn to_dot(&self, config: &Config) -> String {
        let mut out = String::from("digraph keel {\n  rankdir = \"RL\";\n  node [shape = box];\n");
        for &n in &self.order {
            if n.resource().is_some() {
                let name = describe(config, n).0;
                out.push_str(&format!("  \"{name}\";\n"));
                for d in self.resource_dependencies(n) {
                    out.push_str(&format!("  \"{name}\" -> \"{}\";\n", describe(config, d).0));
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Builds the graph; every unresolvable reference and every cycle is reported.
pub fn build(config: &Config) -> Result<ResourceGraph, Diagnostics> {
    let mut graph = DiGraph::new();
    let mut index = HashMap::new();
    let mut in_scope: Vec<Vec<Node>> = vec![Vec::new(); config.scopes.len()];
    for scope in config.scope_ids() {
        let m = config.module(scope);
        let kinds = (0..m.variables.len())
            .map(Kind::Var)
            .chain((0..m.locals.len()).map(Kind::Local))
            .chain((0..m.providers.len()).map(Kind::Provider))
            .chain((0..m.resources.len()).map(Kind::Resource))
            .chain((0..m.data.len()).map(Kind::Data))
            .chain((0..m.outputs.len()).map(Kind::Output))
            .chain((0..m.calls.len()).map(Kind::Call));
        for kind in kinds {
            let n = Node::new(scope, kind);
            index.insert(n, graph.add_node(n));
            in_scope[scope.index()].push(n);
        }
    }

    let mut diags = Diagnostics::default();
    let mut edges: Vec<(Node, Node)> = Vec::new();
    // Edges that are not references: module calls, depends_on, provider configurations.
    let mut other_edges: Vec<(Node, Node)> = Vec::new();
    let mut data_depends_on: HashMap<Node, Vec<Node>> = HashMap::new();
    let resolver = Resolver::new(config);
    let provider_blocks: HashMap<_, usize> = config
        .root()
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.addr(), i))
        .collect();
    let mut refs_into =
        |scope: ScopeId, node: Node, refs: Vec<Reference>, diags: &mut Diagnostics| {
            for r in refs {
                for dep in resolver.resolve(scope, &r, diags) {
                    edges.push((dep, node));
                }
            }
        };

    for scope in config.scope_ids() {
        let m = config.module(scope);
        let at = |kind| Node::new(scope, kind);
        for v in &m.variables {
            if let Some(d) = &v.default {
                for r in references(d) {
                    if r.subject != Subject::Builtin {
                        diags.push(
                            Diagnostic::error(format!("the default of variable \"{}\" refers to {}", v.name, r.text))
                                .at(r.span.clone())
                                .help("variable defaults must be literal values; use a local value to compute from other values"),
                        );
                    }
                }
            }
        }
        // Inside a module: everything waits for the call; inputs for their arguments.
        if let Some((parent, c)) = config.scope(scope).parent {
            let call_node = Node::new(parent, Kind::Call(c));
            let call = &config.module(parent).calls[c];
            for (i, v) in m.variables.iter().enumerate() {
                if let Some(arg) = call.arg(&v.name) {
                    refs_into(parent, at(Kind::Var(i)), references(&arg.expr), &mut diags);
                }
            }
            for &n in &in_scope[scope.index()] {
                other_edges.push((call_node, n));
            }
        }
        for (i, l) in m.locals.iter().enumerate() {
            refs_into(scope, at(Kind::Local(i)), references(&l.expr), &mut diags);
        }
        for (i, p) in m.providers.iter().enumerate() {
            refs_into(
                scope,
                at(Kind::Provider(i)),
                body_references(&p.body, p.file),
                &mut diags,
            );
        }
        for (i, r) in m.resources.iter().enumerate() {
            let node = at(Kind::Resource(i));
            refs_into(scope, node, body_references(&r.body, r.file), &mut diags);
            for e in r.count.iter().chain(&r.for_each) {
                refs_into(scope, node, references(e), &mut diags);
            }
            for d in &r.depends_on {
                for dep in resolver.depends_on(
                    scope,
                    &format!("{}{}", config.scope(scope).prefix(), r.key()),
                    d,
                    &mut diags,
                ) {
                    other_edges.push((dep, node));
                }
            }
            // Each resource waits for the settings of its own provider configuration.
            let addr = &config.scope(scope).resource_providers[i];
            if let Some(&p) = provider_blocks.get(addr) {
                other_edges.push((Node::root(Kind::Provider(p)), node));
            }
        }
        for (i, d) in m.data.iter().enumerate() {
            let node = at(Kind::Data(i));
            refs_into(scope, node, body_references(&d.body, d.file), &mut diags);
            for e in d.count.iter().chain(&d.for_each) {
                refs_into(scope, node, references(e), &mut diags);
            }
            let what = format!("{}data.{}", config.scope(scope).prefix(), d.key());
            for e in &d.depends_on {
                for dep in resolver.depends_on(scope, &what, e, &mut diags) {
                    other_edges.push((dep, node));
                    data_depends_on.entry(node).or_default().push(dep);
                }
            }
            let addr = &config.scope(scope).data_providers[i];
            if let Some(&p) = provider_blocks.get(addr) {
                other_edges.push((Node::root(Kind::Provider(p)), node));
            }
        }
        for (i, o) in m.outputs.iter().enumerate() {
            refs_into(scope, at(Kind::Output(i)), references(&o.value), &mut diags);
        }
        for (i, c) in m.calls.iter().enumerate() {
            let node = at(Kind::Call(i));
            for e in c.count.iter().chain(&c.for_each) {
                refs_into(scope, node, references(e), &mut diags);
            }
            for d in &c.depends_on {
                let what = format!("{}module.{}", config.scope(scope).prefix(), c.name);
                for dep in resolver.depends_on(scope, &what, d, &mut diags) {
                    other_edges.push((dep, node));
                }
            }
        }
    }
    // Each edge once, in the order first met. (petgraph's update_edge looks through the
    // source's edges for a duplicate: quadratic for a provider or local that thousands of
    // blocks use.)
    let mut seen: HashSet<(Node, Node)> = HashSet::new();
    for (from, to) in edges.into_iter().chain(other_edges) {
        if seen.insert((from, to)) {
            graph.add_edge(index[&from], index[&to], ());
        }
    }

    // Cycles: every strongly connected component with more than one node, or a self-loop.
    for scc in tarjan_scc(&graph) {
        let is_cycle = scc.len() > 1 || graph.contains_edge(scc[0], scc[0]);
        if !is_cycle {
            continue;
        }
        let mut members: Vec<Node> = scc.iter().map(|&i| graph[i]).collect();
        members.sort();
        let listed: Vec<String> = members
            .iter()
            .map(|&n| {
                let (name, span) = describe(config, n);
                match span {
                    Some(s) => format!("{name} ({})", config.sources.location(&s)),
                    None => name,
                }
            })
            .collect();
        let (_, first_span) = describe(config, members[0]);
        diags.push(
            Diagnostic::error(format!("dependency cycle between {}", listed.join(", ")))
                .at(first_span)
                .label("part of the cycle")
                .help("each of these refers, directly or through locals, to the next; break the loop by removing one reference"),
        );
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let order = toposort(&graph, None)
        .expect("cycles were reported above")
        .into_iter()
        .map(|i| graph[i])
        .collect();
    Ok(ResourceGraph {
        graph,
        index,
        order,
        data_depends_on,
    })
}

/// The name and declaration of a node, for messages: `module.net.aws_vpc.this`.
pub fn describe(config: &Config, node: Node) -> (String, Option<Span>) {
    let m = config.module(node.scope);
    let prefix = config.scope(node.scope).prefix();
    let (name, span) = match node.kind {
        Kind::Var(i) => (
            format!("var.{}", m.variables[i].name),
            m.variables[i].span.clone(),
        ),
        Kind::Local(i) => (
            format!("local.{}", m.locals[i].name),
            m.locals[i].span.clone(),
        ),
        Kind::Provider(i) => (
            format!("provider.{}", m.providers[i].addr()),
            m.providers[i].span.clone(),
        ),
        Kind::Resource(i) => (m.resources[i].key(), m.resources[i].span.clone()),
        Kind::Data(i) => (format!("data.{}", m.data[i].key()), m.data[i].span.clone()),
        Kind::Output(i) => (
            format!("output.{}", m.outputs[i].name),
            m.outputs[i].span.clone(),
        ),
        Kind::Call(i) => (
            format!("module.{}", m.calls[i].name),
            m.calls[i].span.clone(),
        ),
    };
    (format!("{prefix}{name}"), span)
}

/// References anywhere in a body, nested blocks included. Inside `dynamic "x" { ... }`
/// blocks, the iterator (`x`, or what `iterator` names) is local, not a reference.
pub(crate) fn body_references(body: &Body, file: FileId) -> Vec<Reference> {
    let mut out = Vec::new();
    collect_references(body, file, &mut Vec::new(), &mut out);
    out
}

fn collect_references(
    body: &Body,
    file: FileId,
    iterators: &mut Vec<String>,
    out: &mut Vec<Reference>,
) {
    for attr in body.attributes() {
        out.extend(expression_references_within(file, &attr.value, iterators));
    }
    for block in body.blocks() {
        if block.ident.as_str() != "dynamic" {
            collect_references(&block.body, file, iterators, out);
            continue;
        }
        let iterator = crate::eval::dynamic_iterator(block);
        // `iterator = NAME` names the iterator; it refers to nothing.
        for attr in block
            .body
            .attributes()
            .filter(|a| a.key.as_str() != "iterator")
        {
            out.extend(expression_references_within(file, &attr.value, iterators));
        }
        iterators.push(iterator);
        for inner in block.body.blocks() {
            collect_references(&inner.body, file, iterators, out);
        }
        iterators.pop();
    }
}

#[cfg(test)]
mod tests;
