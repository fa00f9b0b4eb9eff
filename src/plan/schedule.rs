//! The schedule: Plan changes -> [`Step`]s, each with the steps it waits for and how apply
//! undoes it.
//!
//! - Creates and updates wait for the creates and updates of what they depend on. Apply
//!   enforces that through the graph, not through [`Step::after`]: it evaluates a block's
//!   arguments only once every block they read is applied, and a step cannot start before
//!   its arguments are known. Listing those waits per step as well would make a block of
//!   N instances reading a block of M carry N x M of them.
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
    /// Steps (indices into `Plan::steps`) that must finish first, besides the order the
    /// graph gives creates and updates (see the module docs).
    pub after: Vec<usize>,
    /// Joins that must be complete first. A join is a set of steps, complete once each
    /// step naming it in `in_joins` is done: the resources a block depends on wait for
    /// its N deletes through one join, not N waits each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_joins: Vec<usize>,
    /// The joins this step is part of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_joins: Vec<usize>,
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
            after_joins: Vec::new(),
            in_joins: Vec::new(),
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
    let on_delete_first = if delete_first.is_empty() {
        vec![false; changes.len()]
    } else {
        depends_on(changes, &by_addr, &|j| {
            delete_first.contains(&changes[j].addr)
        })
    };
    let mut early: Vec<usize> = Vec::new();
    let mut late: Vec<usize> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        match c.action {
            Action::DeleteThenCreate => early.push(i),
            Action::CreateThenDelete => late.push(i),
            Action::Delete if on_delete_first[i] => early.push(i),
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

    // A delete-first replacement's create waits for its delete. (Creates and updates
    // wait for what they depend on through the graph: see the module docs.)
    for (&i, &si) in &apply_step {
        if changes[i].action == Action::DeleteThenCreate
            && let Some(&d) = delete_step.get(&i)
        {
            steps[si].after.push(d);
        }
    }
    // A delete waits for the deletes (in its own group) of everything that depends on it.
    let mut joins = 0;
    let deps: Vec<Vec<&ResourceAddr>> = changes
        .iter()
        .map(|c| c.dependencies.iter().collect())
        .collect();
    for group in [&early, &late] {
        let waits = dependents_first(&deps, &by_addr, group);
        let step_of = |pos: usize| delete_step[&group[pos]];
        for (pos, (after, after_joins)) in waits.after.iter().zip(&waits.after_joins).enumerate() {
            let s = step_of(pos);
            steps[s].after.extend(after.iter().map(|&p| step_of(p)));
            steps[s]
                .after_joins
                .extend(after_joins.iter().map(|&j| joins + j));
        }
        for (j, members) in waits.joins.iter().enumerate() {
            for &p in members {
                steps[step_of(p)].in_joins.push(joins + j);
            }
        }
        joins += waits.joins.len();
    }
    for s in &mut steps {
        s.after.sort_unstable();
        s.after.dedup();
    }
    steps
}

/// For each change, whether it depends, directly or through others, on a change `hit`
/// accepts. Each recorded dependency is followed once, however many changes record it.
fn depends_on(
    changes: &[Change],
    by_addr: &AddrIndex<usize>,
    hit: &dyn Fn(usize) -> bool,
) -> Vec<bool> {
    fn visit<'c>(
        i: usize,
        changes: &'c [Change],
        by_addr: &AddrIndex<usize>,
        hit: &dyn Fn(usize) -> bool,
        memo: &mut [Option<bool>],
        entries: &mut HashMap<&'c ResourceAddr, bool>,
    ) -> bool {
        if let Some(v) = memo[i] {
            return v;
        }
        memo[i] = Some(false); // a cycle adds nothing
        let mut found = false;
        for d in &changes[i].dependencies {
            let v = match entries.get(d) {
                Some(&v) => v,
                None => {
                    let mut v = false;
                    for &j in by_addr.resolve(d) {
                        if j != i && (hit(j) || visit(j, changes, by_addr, hit, memo, entries)) {
                            v = true;
                            break;
                        }
                    }
                    entries.insert(d, v);
                    v
                }
            };
            if v {
                found = true;
                break;
            }
        }
        memo[i] = Some(found);
        found
    }
    let mut memo = vec![None; changes.len()];
    let mut entries = HashMap::new();
    (0..changes.len())
        .map(|i| visit(i, changes, by_addr, hit, &mut memo, &mut entries))
        .collect()
}

/// What each member of a subset waits for when the subset goes dependents first; see
/// [`dependents_first`]. Members are named by their position in the subset.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Waits {
    /// Per member: the members it waits for one by one.
    pub after: Vec<Vec<usize>>,
    /// Per member: the joins it waits for.
    pub after_joins: Vec<Vec<usize>>,
    /// Join -> its members; complete once every one of them is.
    pub joins: Vec<Vec<usize>>,
}

/// Above this many waits between one recorded dependency's targets and the members
/// that record it, they go through a join.
const JOIN_OVER: usize = 64;

/// Dependents first within `members` (indices of the nodes `deps` describes and
/// `index` resolves): each member waits for every member that depends on it, directly
/// or through nodes outside the subset (a path through members is ordered by their own
/// waits). A dependency on a whole block of M instances recorded by N members gives
/// each of the M one join of the N, not N waits: linear in what is recorded, where
/// listing pairs is N x M.
pub(crate) fn dependents_first<'a>(
    deps: &[Vec<&'a ResourceAddr>],
    index: &AddrIndex<usize>,
    members: &[usize],
) -> Waits {
    let pos: HashMap<usize, usize> = members.iter().enumerate().map(|(p, &n)| (n, p)).collect();
    // Each distinct recorded dependency once: the members it names, and the
    // dependencies of the non-members it names (followed through).
    struct Entry {
        targets: Vec<usize>,
        through: Option<Vec<usize>>,
        outside: Vec<usize>,
        dependents: Vec<usize>,
    }
    let mut ids: HashMap<&'a ResourceAddr, usize> = HashMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut intern = |d: &'a ResourceAddr, entries: &mut Vec<Entry>| -> usize {
        *ids.entry(d).or_insert_with(|| {
            let (mut targets, mut outside) = (Vec::new(), Vec::new());
            for &n in index.resolve(d) {
                match pos.get(&n) {
                    Some(&p) => targets.push(p),
                    None => outside.push(n),
                }
            }
            entries.push(Entry {
                targets,
                through: None,
                outside,
                dependents: Vec::new(),
            });
            entries.len() - 1
        })
    };
    let mut stamp: Vec<usize> = Vec::new();
    for (p, &n) in members.iter().enumerate() {
        let mut stack: Vec<usize> = deps[n].iter().map(|d| intern(d, &mut entries)).collect();
        while let Some(e) = stack.pop() {
            stamp.resize(entries.len(), usize::MAX);
            if stamp[e] == p {
                continue;
            }
            stamp[e] = p;
            if !entries[e].targets.is_empty() {
                entries[e].dependents.push(p);
            }
            if entries[e].through.is_none() {
                let mut through: Vec<usize> = Vec::new();
                for o in std::mem::take(&mut entries[e].outside) {
                    through.extend(deps[o].iter().map(|d| intern(d, &mut entries)));
                }
                through.sort_unstable();
                through.dedup();
                entries[e].through = Some(through);
            }
            stack.extend(entries[e].through.iter().flatten().copied());
        }
    }
    let mut waits = Waits {
        after: vec![Vec::new(); members.len()],
        after_joins: vec![Vec::new(); members.len()],
        joins: Vec::new(),
    };
    for e in &entries {
        let (xs, ys) = (&e.targets, &e.dependents);
        if ys.is_empty() {
            continue;
        }
        let pairs = xs.len() * ys.len();
        let join = (pairs > JOIN_OVER).then(|| {
            waits.joins.push(ys.clone());
            waits.joins.len() - 1
        });
        for &x in xs {
            // `ys` is in member order: a member depending on its own block (a stale
            // record) waits for the others one by one, never for itself.
            match join {
                Some(j) if ys.binary_search(&x).is_err() => waits.after_joins[x].push(j),
                _ => waits.after[x].extend(ys.iter().copied().filter(|&y| y != x)),
            }
        }
    }
    for w in waits.after.iter_mut().chain(waits.after_joins.iter_mut()) {
        w.sort_unstable();
        w.dedup();
    }
    waits
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
    // A recorded dependency is followed once, however many changes record it.
    let mut followed: HashSet<&ResourceAddr> = HashSet::new();
    fn visit<'c>(
        i: usize,
        changes: &'c [Change],
        by_addr: &AddrIndex<usize>,
        state: &mut [u8],
        order: &mut Vec<usize>,
        followed: &mut HashSet<&'c ResourceAddr>,
    ) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        for d in &changes[i].dependencies {
            if followed.insert(d) {
                for &j in by_addr.resolve(d) {
                    visit(j, changes, by_addr, state, order, followed);
                }
            }
        }
        state[i] = 2;
        order.push(i);
    }
    let mut sorted: Vec<usize> = subset.to_vec();
    sorted.sort_by(|a, b| changes[*a].addr.cmp(&changes[*b].addr));
    for &i in &sorted {
        visit(i, changes, by_addr, &mut state, &mut order, &mut followed);
    }
    let wanted: HashSet<usize> = subset.iter().copied().collect();
    order.retain(|i| wanted.contains(i));
    order.reverse();
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes named by address, each with what it records; `dependents_first` over the
    /// members given by address, answered by address.
    fn waits(nodes: &[(&str, &[&str])], members: &[&str]) -> (Vec<Vec<String>>, Waits) {
        let addrs: Vec<ResourceAddr> = nodes.iter().map(|(a, _)| a.parse().unwrap()).collect();
        let deps: Vec<Vec<ResourceAddr>> = nodes
            .iter()
            .map(|(_, d)| d.iter().map(|d| d.parse().unwrap()).collect())
            .collect();
        let deps: Vec<Vec<&ResourceAddr>> = deps.iter().map(|d| d.iter().collect()).collect();
        let index: AddrIndex<usize> = addrs.iter().zip(0..).collect();
        let member_ids: Vec<usize> = members
            .iter()
            .map(|m| addrs.iter().position(|a| a.to_string() == *m).unwrap())
            .collect();
        let w = dependents_first(&deps, &index, &member_ids);
        let named = w
            .after
            .iter()
            .map(|a| a.iter().map(|&p| members[p].to_string()).collect())
            .collect();
        (named, w)
    }

    #[test]
    fn few_waits_are_listed_one_by_one() {
        let (after, w) = waits(
            &[
                ("aws_vpc.v", &[]),
                ("aws_subnet.s[0]", &["aws_vpc.v"]),
                ("aws_subnet.s[1]", &["aws_vpc.v"]),
                ("aws_instance.i", &["aws_subnet.s"]),
            ],
            &[
                "aws_vpc.v",
                "aws_subnet.s[0]",
                "aws_subnet.s[1]",
                "aws_instance.i",
            ],
        );
        assert_eq!(after[0], ["aws_subnet.s[0]", "aws_subnet.s[1]"]);
        assert_eq!(after[1], ["aws_instance.i"]);
        assert_eq!(after[2], ["aws_instance.i"]);
        assert!(after[3].is_empty());
        assert!(w.joins.is_empty());
    }

    #[test]
    fn a_block_depended_on_by_many_waits_through_one_join() {
        let mut nodes: Vec<(String, Vec<String>)> = Vec::new();
        for i in 0..100 {
            nodes.push((format!("aws_iam_role.r[{i}]"), vec![]));
        }
        for i in 0..50 {
            nodes.push((
                format!("aws_s3_bucket.b[{i}]"),
                vec!["aws_iam_role.r".into()],
            ));
        }
        let deps_str: Vec<Vec<&str>> = nodes
            .iter()
            .map(|(_, d)| d.iter().map(String::as_str).collect())
            .collect();
        let nodes_ref: Vec<(&str, &[&str])> = nodes
            .iter()
            .zip(&deps_str)
            .map(|((a, _), d)| (a.as_str(), d.as_slice()))
            .collect();
        let members: Vec<&str> = nodes.iter().map(|(a, _)| a.as_str()).collect();
        let (after, w) = waits(&nodes_ref, &members);
        // 100 roles x 50 buckets: one join of the 50, which each role waits for.
        assert_eq!(w.joins, vec![(100..150).collect::<Vec<usize>>()]);
        assert!(after.iter().all(Vec::is_empty));
        assert!(w.after_joins[..100].iter().all(|j| j == &[0]));
        assert!(w.after_joins[100..].iter().all(Vec::is_empty));
    }

    #[test]
    fn waits_pass_through_what_is_not_deleted_and_never_on_oneself() {
        // The bucket depends on the role through a policy that stays; a stale record
        // has a subnet depend on its own block.
        let (after, _) = waits(
            &[
                ("aws_iam_role.r", &[]),
                ("aws_iam_policy.p", &["aws_iam_role.r"]),
                ("aws_s3_bucket.b", &["aws_iam_policy.p"]),
                ("aws_subnet.s[0]", &["aws_subnet.s"]),
                ("aws_subnet.s[1]", &[]),
            ],
            &[
                "aws_iam_role.r",
                "aws_s3_bucket.b",
                "aws_subnet.s[0]",
                "aws_subnet.s[1]",
            ],
        );
        assert_eq!(after[0], ["aws_s3_bucket.b"]);
        assert!(after[1].is_empty());
        assert!(after[2].is_empty());
        assert_eq!(after[3], ["aws_subnet.s[0]"]);
    }
}
