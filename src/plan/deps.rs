//! What each planned instance depends on, as plans and state record it for ordering
//! applies and deletes: each resource block the graph says it depends on, once per module
//! instance holding instances of it (planned now or recorded before), narrowed to the
//! same module instance where both blocks share a module (`module.a["x"].aws_subnet.s`
//! depends on `module.a["x"].aws_vpc.v`, not on `module.a["y"].aws_vpc.v`).
//!
//! Entries carry no instance key: `aws_subnet.private` stands for every instance of it
//! (see [`crate::addr::AddrIndex`]), so a block of N instances reading a block of M
//! records N entries, not N x M. Lookups are indexed, so a stack with tens of thousands
//! of instances plans in time proportional to its size.

use crate::addr::{ModuleStep, ResourceAddr};
use crate::config::Config;
use crate::graph::{Kind, Node, ResourceGraph};
use crate::state::State;
use std::collections::{HashMap, HashSet};

type Groups = HashMap<Vec<ModuleStep>, Vec<ResourceAddr>>;

pub(super) struct Dependencies<'a> {
    config: &'a Config,
    graph: &'a ResourceGraph,
    /// Resource node -> the resource nodes it depends on, computed once per node.
    blocks: HashMap<Node, Vec<Node>>,
    /// Resource node -> its instances, recorded in state or planned so far.
    instances: HashMap<Node, Vec<ResourceAddr>>,
    /// (resource node, module depth) -> the node's blocks (one unkeyed address per module
    /// instance holding instances of it), by the first `depth` module steps. Built on
    /// first use, once every instance of the node is planned (the graph orders a
    /// dependency before its dependents).
    grouped: HashMap<(Node, usize), Groups>,
}

impl<'a> Dependencies<'a> {
    pub(super) fn new(config: &'a Config, graph: &'a ResourceGraph, state: &State) -> Self {
        let mut instances: HashMap<Node, Vec<ResourceAddr>> = HashMap::new();
        for addr in state.resources.keys() {
            if let Some((scope, i, _)) = config.find_resource(addr) {
                instances
                    .entry(Node::new(scope, Kind::Resource(i)))
                    .or_default()
                    .push(addr.clone());
            }
        }
        Dependencies {
            config,
            graph,
            blocks: HashMap::new(),
            instances,
            grouped: HashMap::new(),
        }
    }

    /// Records a planned instance of `node`.
    pub(super) fn planned(&mut self, node: Node, addr: &ResourceAddr) {
        self.instances.entry(node).or_default().push(addr.clone());
    }

    /// What instance `addr` of resource node `node` depends on, sorted.
    pub(super) fn of(&mut self, node: Node, addr: &ResourceAddr) -> Vec<ResourceAddr> {
        let graph = self.graph;
        let blocks = self
            .blocks
            .entry(node)
            .or_insert_with(|| graph.resource_dependencies(node))
            .clone();
        let mine = &self.config.scope(node.scope).path;
        let mut out = Vec::new();
        for dep in blocks {
            let theirs = &self.config.scope(dep.scope).path;
            let depth = mine.iter().zip(theirs).take_while(|(a, b)| a == b).count();
            let instances = &self.instances;
            let groups = self.grouped.entry((dep, depth)).or_insert_with(|| {
                let mut groups = Groups::new();
                // Instances of one node share type and name: one block per module path.
                let mut seen: HashSet<&[ModuleStep]> = HashSet::new();
                for a in instances.get(&dep).into_iter().flatten() {
                    if seen.insert(&a.module) {
                        groups
                            .entry(a.module[..depth].to_vec())
                            .or_default()
                            .push(ResourceAddr {
                                key: None,
                                ..a.clone()
                            });
                    }
                }
                groups
            });
            if let Some(found) = groups.get(&addr.module[..depth.min(addr.module.len())]) {
                out.extend(found.iter().cloned());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
