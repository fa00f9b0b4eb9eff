//! The schedule: Plan changes -> [`Step`]s, each with the steps it waits for and how apply
//! undoes it. Apply executes this and derives no order of its own.
//!
//! - Creates and updates wait for the creates and updates of what they depend on.
//! - Deletes close the apply: they wait for every create and update (so rollback never has
//!   to bring back something deleted), dependents first.
//! - A delete-first replacement (a unique name it keeps forbids two objects at once) must
//!   delete early. Such deletes are irreversible, so they wait for every create and update
//!   that does not depend on them: anything likely to fail and force a rollback fails
//!   before something is destroyed. Deletes of resources that depend on such an object
//!   come early with it.

use super::{Action, Change};
use crate::addr::{AddrIndex, ResourceAddr};
use crate::config::Config;
use crate::graph::{Kind, Node, ResourceGraph};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Create, update, or the create half of a replacement.
    Apply,
    /// Delete the object state recorded for the change (or its deposed predecessor).
    Delete,
}

/// How rollback undoes a completed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undo {
    /// Delete what the step created.
    Delete,
    /// Update the object back to the attributes recorded before.
    Restore,
    /// Delete the replacement and make the old object, kept until the apply's end,
    /// current again.
    DeleteReplacement,
    /// Nothing can bring back what the step (or the step before it) deleted.
    Irreversible,
}

/// One provider call apply makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    /// Index into `Plan::changes`.
    pub change: usize,
    /// Steps (indices into `Plan::steps`) that must finish first.
    pub after: Vec<usize>,
    /// Waits for every create and update with `gates_irreversible` (an early delete).
    pub after_reversible: bool,
    /// Waits for every create and update (a delete that closes the apply).
    pub after_applies: bool,
    /// A create or update that no irreversible delete precedes: early deletes wait for it.
    pub gates_irreversible: bool,
    pub undo: Undo,
}

impl Step {
    fn new(kind: StepKind, change: usize, undo: Undo) -> Step {
        Step {
            kind,
            change,
            after: Vec::new(),
            after_reversible: false,
            after_applies: false,
            gates_irreversible: false,
            undo,
        }
    }
}

/// Orders the changes into steps (see the module docs).
pub fn schedule(changes: &[Change], config: &Config, graph: &ResourceGraph) -> Vec<Step> {
    let by_addr: AddrIndex<usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.deposed)
        .map(|(i, c)| (&c.addr, i))
        .collect();
    let delete_first: HashSet<&ResourceAddr> = changes
        .iter()
        .filter(|c| c.action == Action::DeleteThenCreate)
        .map(|c| &c.addr)
        .collect();

    // Deletes that must come early: delete-first replacements, and deleted resources that
    // depend on one of them.
    let mut early: Vec<usize> = Vec::new();
    let mut late: Vec<usize> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        match c.action {
            Action::DeleteThenCreate => early.push(i),
            Action::CreateThenDelete => late.push(i),
            Action::Delete if !delete_first.is_empty() => {
                let deps = ancestors(changes, &by_addr, i);
                if deps
                    .iter()
                    .any(|&d| delete_first.contains(&changes[d].addr))
                {
                    early.push(i)
                } else {
                    late.push(i)
                }
            }
            Action::Delete => late.push(i),
            _ => {}
        }
    }
    let early = reverse_dependency_indices(changes, &by_addr, &early);
    let late = reverse_dependency_indices(changes, &by_addr, &late);

    let mut steps: Vec<Step> = Vec::new();
    let mut delete_step: HashMap<usize, usize> = HashMap::new();
    let mut apply_step: HashMap<usize, usize> = HashMap::new();
    for &i in &early {
        delete_step.insert(i, steps.len());
        let mut s = Step::new(StepKind::Delete, i, Undo::Irreversible);
        s.after_reversible = true;
        steps.push(s);
    }
    // Nodes downstream of an early delete's resource (through any path of the graph,
    // since apply evaluates block by block): their steps must not gate early deletes.
    let node_of = |addr: &ResourceAddr| {
        config
            .find_resource(addr)
            .map(|(scope, i, _)| Node::new(scope, Kind::Resource(i)))
    };
    let mut tainted: HashSet<Node> = early
        .iter()
        .filter_map(|&i| node_of(&changes[i].addr))
        .collect();
    if !tainted.is_empty() {
        for &n in graph.order() {
            if graph.dependencies(n).any(|d| tainted.contains(&d)) {
                tainted.insert(n);
            }
        }
    }
    for (i, c) in changes.iter().enumerate() {
        let undo = match c.action {
            Action::Create => Undo::Delete,
            Action::Update => Undo::Restore,
            Action::CreateThenDelete => Undo::DeleteReplacement,
            Action::DeleteThenCreate => Undo::Irreversible,
            Action::NoOp | Action::Delete => continue,
        };
        apply_step.insert(i, steps.len());
        let mut s = Step::new(StepKind::Apply, i, undo);
        s.gates_irreversible = node_of(&c.addr).is_none_or(|n| !tainted.contains(&n));
        steps.push(s);
    }
    for &i in &late {
        delete_step.insert(i, steps.len());
        let mut s = Step::new(StepKind::Delete, i, Undo::Irreversible);
        s.after_applies = true;
        steps.push(s);
    }

    // Creates and updates wait for those of what they depend on, and a delete-first
    // replacement's create for its delete.
    for (&i, &si) in &apply_step {
        let mut after: Vec<usize> = changes[i]
            .dependencies
            .iter()
            .flat_map(|d| by_addr.resolve(d))
            .filter(|&&j| j != i)
            .filter_map(|j| apply_step.get(j).copied())
            .collect();
        if changes[i].action == Action::DeleteThenCreate
            && let Some(&d) = delete_step.get(&i)
        {
            after.push(d);
        }
        after.sort_unstable();
        after.dedup();
        steps[si].after = after;
    }
    // A delete waits for the deletes (in its own group) of everything that depends on it.
    for group in [&early, &late] {
        let members: HashSet<usize> = group.iter().copied().collect();
        for &y in group.iter() {
            for x in ancestors(changes, &by_addr, y) {
                if x != y && members.contains(&x) {
                    let (sx, sy) = (delete_step[&x], delete_step[&y]);
                    steps[sx].after.push(sy);
                }
            }
        }
    }
    for s in &mut steps {
        s.after.sort_unstable();
        s.after.dedup();
    }
    steps
}

/// Every change that `i` depends on, directly or through others.
fn ancestors(changes: &[Change], by_addr: &AddrIndex<usize>, i: usize) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut stack = vec![i];
    while let Some(n) = stack.pop() {
        for d in &changes[n].dependencies {
            for &j in by_addr.resolve(d) {
                if seen.insert(j) {
                    stack.push(j);
                }
            }
        }
    }
    let mut out: Vec<usize> = seen.into_iter().collect();
    out.sort_unstable();
    out
}

/// The indices `subset`, dependents first: a post-order over "is depended on by", reversed.
/// Dependencies outside the subset are followed through, so order holds transitively.
pub(super) fn reverse_dependency_indices(
    changes: &[Change],
    by_addr: &AddrIndex<usize>,
    subset: &[usize],
) -> Vec<usize> {
    let mut order = Vec::new();
    let mut state = vec![0u8; changes.len()];
    fn visit(
        i: usize,
        changes: &[Change],
        by_addr: &AddrIndex<usize>,
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        for d in &changes[i].dependencies {
            for &j in by_addr.resolve(d) {
                visit(j, changes, by_addr, state, order);
            }
        }
        state[i] = 2;
        order.push(i);
    }
    let mut sorted: Vec<usize> = subset.to_vec();
    sorted.sort_by(|a, b| changes[*a].addr.cmp(&changes[*b].addr));
    for &i in &sorted {
        visit(i, changes, by_addr, &mut state, &mut order);
    }
    let wanted: HashSet<usize> = subset.iter().copied().collect();
    order.retain(|i| wanted.contains(i));
    order.reverse();
    order
}
