//! Graph: Config -> [`ResourceGraph`], a petgraph DAG of variables, locals, the provider,
//! resources and outputs, with an edge wherever one refers to another (or `depends_on`
//! says so). A cycle is an error naming every address in it with its file and line.
//!
//! The graph is built from the configuration's references before anything is evaluated,
//! as Terraform does, so evaluation can follow it.

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, FileId, Span, suggest};
use crate::eval::refs::{Reference, Subject, expression_references, references};
use hcl_edit::structure::Body;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// A node: an index into the matching list of the [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Var(usize),
    Local(usize),
    Provider(usize),
    Resource(usize),
    Output(usize),
}

/// The dependency graph, with a topological order ready for walking.
#[derive(Debug)]
pub struct ResourceGraph {
    graph: DiGraph<Node, ()>,
    index: HashMap<Node, NodeIndex>,
    order: Vec<Node>,
}

impl ResourceGraph {
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

    /// The resources a node depends on, directly or through variables and locals.
    pub fn resource_dependencies(&self, node: Node) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<Node> = self.dependencies(node).collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match n {
                Node::Resource(i) => out.push(i),
                other => stack.extend(self.dependencies(other)),
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
            if let Node::Resource(i) = n {
                out.push_str(&format!("  \"{}\";\n", config.resources[i].key()));
                for d in self.resource_dependencies(n) {
                    out.push_str(&format!(
                        "  \"{}\" -> \"{}\";\n",
                        config.resources[i].key(),
                        config.resources[d].key()
                    ));
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
    let mut add = |n: Node, graph: &mut DiGraph<Node, ()>| {
        index.insert(n, graph.add_node(n));
    };
    (0..config.variables.len()).for_each(|i| add(Node::Var(i), &mut graph));
    (0..config.locals.len()).for_each(|i| add(Node::Local(i), &mut graph));
    (0..config.providers.len()).for_each(|i| add(Node::Provider(i), &mut graph));
    (0..config.resources.len()).for_each(|i| add(Node::Resource(i), &mut graph));
    (0..config.outputs.len()).for_each(|i| add(Node::Output(i), &mut graph));

    let vars: HashMap<&str, usize> = config
        .variables
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    let locals: HashMap<&str, usize> = config
        .locals
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.as_str(), i))
        .collect();
    let resources: HashMap<String, usize> = config
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key(), i))
        .collect();

    let mut diags = Diagnostics::default();
    let mut edges: Vec<(Node, Node)> = Vec::new();
    let resolve = |r: &Reference, diags: &mut Diagnostics| -> Option<Node> {
        match &r.subject {
            Subject::Var(n) => vars.get(n.as_str()).map(|&i| Node::Var(i)).or_else(|| {
                let mut d = Diagnostic::error(format!("reference to undeclared variable var.{n}"))
                    .at(r.span.clone());
                d = match suggest(n, vars.keys().copied()) {
                    Some(s) => d.help(format!("did you mean var.{s}?")),
                    None => d.help(format!("declare it: variable \"{n}\" {{}}")),
                };
                diags.push(d);
                None
            }),
            Subject::Local(n) => locals.get(n.as_str()).map(|&i| Node::Local(i)).or_else(|| {
                let mut d =
                    Diagnostic::error(format!("reference to undeclared local value local.{n}"))
                        .at(r.span.clone());
                d = match suggest(n, locals.keys().copied()) {
                    Some(s) => d.help(format!("did you mean local.{s}?")),
                    None => d.help(format!("declare it in a locals {{ {n} = ... }} block")),
                };
                diags.push(d);
                None
            }),
            Subject::Resource { type_, name } => {
                let key = format!("{type_}.{name}");
                resources.get(&key).map(|&i| Node::Resource(i)).or_else(|| {
                    let mut d =
                        Diagnostic::error(format!("reference to undeclared resource {key}"))
                            .at(r.span.clone())
                            .label("not declared in this stack");
                    d = match suggest(&key, resources.keys().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean {s}?")),
                        None => d.help(format!(
                            "declare it with resource \"{type_}\" \"{name}\" {{ ... }}"
                        )),
                    };
                    diags.push(d);
                    None
                })
            }
            Subject::Builtin => None,
            Subject::Unsupported(text) => {
                let help = if text.starts_with("data.") || text.starts_with("module.") {
                    "data sources and modules are not supported yet"
                } else if text.starts_with("count.") {
                    "count has one attribute: count.index"
                } else if text.starts_with("each.") {
                    "each has two attributes: each.key and each.value"
                } else {
                    "references look like var.NAME, local.NAME or TYPE.NAME.ATTRIBUTE; strings need quotes"
                };
                diags.push(
                    Diagnostic::error(format!("unknown reference \"{text}\""))
                        .at(r.span.clone())
                        .help(help),
                );
                None
            }
        }
    };
    let mut refs_into = |node: Node, exprs: Vec<Reference>, diags: &mut Diagnostics| {
        for r in exprs {
            if let Some(dep) = resolve(&r, diags) {
                edges.push((dep, node));
            }
        }
    };

    for (i, v) in config.variables.iter().enumerate() {
        if let Some(d) = &v.default {
            let refs = references(d);
            for r in &refs {
                if r.subject != Subject::Builtin {
                    diags.push(
                        Diagnostic::error(format!("the default of variable \"{}\" refers to {}", v.name, r.text))
                            .at(r.span.clone())
                            .help("variable defaults must be literal values; use a local value to compute from other values"),
                    );
                }
            }
            let _ = i;
        }
    }
    for (i, l) in config.locals.iter().enumerate() {
        refs_into(Node::Local(i), references(&l.expr), &mut diags);
    }
    for (i, p) in config.providers.iter().enumerate() {
        refs_into(
            Node::Provider(i),
            body_references(&p.body, p.file),
            &mut diags,
        );
    }
    for (i, r) in config.resources.iter().enumerate() {
        let node = Node::Resource(i);
        refs_into(node, body_references(&r.body, r.file), &mut diags);
        for e in r.count.iter().chain(&r.for_each) {
            refs_into(node, references(e), &mut diags);
        }
        for d in &r.depends_on {
            let refs = references(d);
            let only_resource =
                refs.len() == 1 && matches!(refs[0].subject, Subject::Resource { .. });
            if !only_resource {
                diags.push(
                    Diagnostic::error(format!(
                        "depends_on in {} must list resources, like aws_vpc.main",
                        r.key()
                    ))
                    .at(d.span()),
                );
                continue;
            }
            refs_into(node, refs, &mut diags);
        }
    }
    for (i, o) in config.outputs.iter().enumerate() {
        refs_into(Node::Output(i), references(&o.value), &mut diags);
    }
    // Every resource waits for the provider's settings.
    for i in 0..config.resources.len() {
        for p in 0..config.providers.len() {
            edges.push((Node::Provider(p), Node::Resource(i)));
        }
    }
    for (from, to) in edges {
        graph.update_edge(index[&from], index[&to], ());
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
    })
}

/// The name and declaration of a node, for messages.
pub fn describe(config: &Config, node: Node) -> (String, Option<Span>) {
    match node {
        Node::Var(i) => (
            format!("var.{}", config.variables[i].name),
            config.variables[i].span.clone(),
        ),
        Node::Local(i) => (
            format!("local.{}", config.locals[i].name),
            config.locals[i].span.clone(),
        ),
        Node::Provider(i) => (
            format!("provider.{}", config.providers[i].name),
            config.providers[i].span.clone(),
        ),
        Node::Resource(i) => (config.resources[i].key(), config.resources[i].span.clone()),
        Node::Output(i) => (
            format!("output.{}", config.outputs[i].name),
            config.outputs[i].span.clone(),
        ),
    }
}

/// References anywhere in a body, nested blocks included.
fn body_references(body: &Body, file: FileId) -> Vec<Reference> {
    let mut out = Vec::new();
    for attr in body.attributes() {
        out.extend(expression_references(file, &attr.value));
    }
    for block in body.blocks() {
        out.extend(body_references(&block.body, file));
    }
    out
}
