//! `moved` blocks: checked against each other (Terraform's ambiguous, redundant, cyclic
//! and type-changing moves are errors), then applied to state before anything is
//! refreshed or diffed, chained moves in order, through [`crate::state::ops::move_addr`].
//! A `from` that state does not hold is a quiet no-op, as in Terraform; a `to` that
//! state already holds blocks the move (a warning; the objects stay where they are).
//! After planning, a `from` the configuration still declares is an error.

use crate::addr::{ModuleStep, ResourceAddr};
use crate::config::{Config, MoveEndpoint, Moved, ScopeId};
use crate::diag::{Diagnostic, Diagnostics};
use crate::state::State;
use crate::state::ops::{OpError, matching, move_addr};
use std::collections::BTreeSet;

/// One `moved` block with the scope it is written in.
#[derive(Debug, Clone)]
pub struct Statement {
    pub scope: ScopeId,
    pub moved: Moved,
}

/// What applying the moves did to state.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every instance moved, from where to where (a chain of moves as one pair).
    pub moved: Vec<(ResourceAddr, ResourceAddr)>,
    /// Moves not made because state already holds their destination, as warnings.
    pub blocked: Vec<String>,
}

/// Every `moved` block of the stack, in statement order (module by module).
pub fn statements(config: &Config) -> Vec<Statement> {
    config
        .scope_ids()
        .flat_map(|scope| {
            config.module(scope).moved.iter().map(move |m| Statement {
                scope,
                moved: m.clone(),
            })
        })
        .collect()
}

fn noun(e: &MoveEndpoint) -> (&'static str, &'static str) {
    match e {
        MoveEndpoint::Resource(a) if a.key.is_some() => ("resource instance", "instance"),
        MoveEndpoint::Resource(_) => ("resource", "resource"),
        MoveEndpoint::Module(steps) if steps.last().is_some_and(|s| s.key.is_some()) => {
            ("module instance", "instance")
        }
        MoveEndpoint::Module(_) => ("module call", "call"),
    }
}

/// Does `outer` name `inner` or something that holds it?
fn contains(outer: &MoveEndpoint, inner: &MoveEndpoint) -> bool {
    fn steps_prefix(outer: &[ModuleStep], inner: &[ModuleStep]) -> bool {
        outer.len() <= inner.len()
            && outer.iter().zip(inner).enumerate().all(|(i, (o, n))| {
                o.name == n.name && (o.key == n.key || (o.key.is_none() && i + 1 == outer.len()))
            })
    }
    match (outer, inner) {
        (MoveEndpoint::Resource(o), MoveEndpoint::Resource(n)) => {
            o.module == n.module
                && o.type_ == n.type_
                && o.name == n.name
                && (o.key.is_none() || o.key == n.key)
        }
        (MoveEndpoint::Module(o), MoveEndpoint::Resource(n)) => steps_prefix(o, &n.module),
        (MoveEndpoint::Module(o), MoveEndpoint::Module(n)) => steps_prefix(o, n),
        (MoveEndpoint::Resource(_), MoveEndpoint::Module(_)) => false,
    }
}

/// Statements checked against each other, in the order to apply them (a statement whose
/// `from` is another's `to` comes after it).
pub fn validate(config: &Config, stmts: &[Statement]) -> Result<Vec<usize>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let at = |s: &Statement| {
        s.moved
            .span
            .as_ref()
            .map(|sp| config.sources.location(sp))
            .unwrap_or_default()
    };
    let abs = |s: &Statement, e: &MoveEndpoint| -> String {
        let prefix: Vec<ModuleStep> = config
            .scope(s.scope)
            .path
            .iter()
            .map(|n| ModuleStep {
                name: n.clone(),
                key: None,
            })
            .collect();
        e.within(&prefix).to_string()
    };
    for (i, s) in stmts.iter().enumerate() {
        let (from, to) = (&s.moved.from, &s.moved.to);
        let (noun, short) = noun(from);
        if from == to {
            diags.push(
                Diagnostic::error(format!(
                    "Redundant move statement: this statement declares a move from {} to the same address, which is the same as not declaring this move at all",
                    abs(s, from)
                ))
                .at(s.moved.span.clone())
                .help("remove the moved block"),
            );
            continue;
        }
        if let (MoveEndpoint::Resource(f), MoveEndpoint::Resource(t)) = (from, to)
            && f.type_ != t.type_
        {
            diags.push(
                Diagnostic::error(format!(
                    "Resource type mismatch: this statement declares a move from {} to {}, which is a resource of a different type",
                    abs(s, from),
                    abs(s, to)
                ))
                .at(s.moved.span.clone())
                .help("a moved block keeps the resource type; to change the type, remove the old object from state (keel state rm) and import it under the new one"),
            );
            continue;
        }
        for other in &stmts[..i] {
            if other.scope != s.scope {
                continue;
            }
            if &other.moved.from == from && &other.moved.to != to {
                diags.push(
                    Diagnostic::error(format!(
                        "Ambiguous move statements: a statement at {} declared that {} moved to {}, but this statement instead declares that it moved to {}",
                        at(other),
                        abs(s, from),
                        abs(other, &other.moved.to),
                        abs(s, to)
                    ))
                    .at(s.moved.span.clone())
                    .help(format!("each {noun} can move to only one destination {short}")),
                );
            }
            if &other.moved.to == to && &other.moved.from != from {
                diags.push(
                    Diagnostic::error(format!(
                        "Ambiguous move statements: a statement at {} declared that {} moved to {}, but this statement instead declares that {} moved there",
                        at(other),
                        abs(other, &other.moved.from),
                        abs(s, to),
                        abs(s, from)
                    ))
                    .at(s.moved.span.clone())
                    .help(format!("each {noun} can have moved from only one source {short}")),
                );
            }
        }
    }
    diags.into_result()?;
    // Order: b after a when b's `from` is (inside) a's `to`. A cycle has no order.
    let n = stmts.len();
    let after = |a: usize, b: usize| {
        a != b
            && stmts[a].scope == stmts[b].scope
            && contains(&stmts[a].moved.to, &stmts[b].moved.from)
    };
    let mut order = Vec::with_capacity(n);
    let mut state = vec![0u8; n];
    let mut cycle: Option<Vec<usize>> = None;
    fn visit(
        i: usize,
        n: usize,
        after: &dyn Fn(usize, usize) -> bool,
        state: &mut [u8],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
        cycle: &mut Option<Vec<usize>>,
    ) {
        if state[i] == 2 || cycle.is_some() {
            return;
        }
        if state[i] == 1 {
            let start = path.iter().position(|&p| p == i).unwrap_or(0);
            *cycle = Some(path[start..].to_vec());
            return;
        }
        state[i] = 1;
        path.push(i);
        for a in 0..n {
            if after(a, i) {
                visit(a, n, after, state, order, path, cycle);
            }
        }
        path.pop();
        state[i] = 2;
        order.push(i);
    }
    for i in 0..n {
        visit(
            i,
            n,
            &after,
            &mut state,
            &mut order,
            &mut Vec::new(),
            &mut cycle,
        );
    }
    if let Some(members) = cycle {
        let mut listed: Vec<String> = members
            .iter()
            .map(|&i| {
                let s = &stmts[i];
                format!(
                    "\n  - {}: {} → {}",
                    at(s),
                    abs(s, &s.moved.from),
                    abs(s, &s.moved.to)
                )
            })
            .collect();
        listed.sort();
        return Err(Diagnostic::error(format!(
            "Cyclic dependency in move statements: the following chained move statements form a cycle, and so there is no final location to move objects to:{}",
            listed.concat()
        ))
        .at(stmts[members[0]].moved.span.clone())
        .help("a chain of move statements must end with an address that doesn't appear in any other statement, and which typically also refers to an object still declared in the configuration")
        .into());
    }
    Ok(order)
}

/// The module instances state holds for a static module path (`["net"]` ->
/// `module.net["a"]`, `module.net["b"]`), each once.
fn instances_in_state(state: &State, path: &[String]) -> Vec<Vec<ModuleStep>> {
    let found: BTreeSet<Vec<ModuleStep>> = state
        .resources
        .keys()
        .filter(|a| {
            a.module.len() >= path.len() && a.module.iter().zip(path).all(|(s, n)| &s.name == n)
        })
        .map(|a| a.module[..path.len()].to_vec())
        .collect();
    found.into_iter().collect()
}

/// Validates the stack's `moved` blocks and applies them to `state`.
pub fn apply_moves(config: &Config, state: &mut State) -> Result<Outcome, Diagnostics> {
    let stmts = statements(config);
    if stmts.is_empty() {
        return Ok(Outcome::default());
    }
    let order = validate(config, &stmts)?;
    let mut out = Outcome::default();
    for i in order {
        let s = &stmts[i];
        let path = &config.scope(s.scope).path;
        for prefix in instances_in_state(state, path) {
            let from = s.moved.from.within(&prefix);
            let to = s.moved.to.within(&prefix);
            let pairs = match (&from, &to) {
                (MoveEndpoint::Resource(f), MoveEndpoint::Resource(t)) => {
                    move_resource(state, f, t, &mut out.blocked)
                }
                (MoveEndpoint::Module(f), MoveEndpoint::Module(t)) => {
                    move_module(state, f, t, &mut out.blocked)
                }
                _ => Vec::new(),
            };
            record(&mut out.moved, pairs);
        }
    }
    Ok(out)
}

/// Adds moves to the record, joining chains (`a -> b` then `b -> c` is `a -> c`).
fn record(moved: &mut Vec<(ResourceAddr, ResourceAddr)>, pairs: Vec<(ResourceAddr, ResourceAddr)>) {
    for (old, new) in pairs {
        match moved.iter().position(|(_, to)| to == &old) {
            Some(i) if moved[i].0 == new => {
                moved.remove(i);
            }
            Some(i) => moved[i].1 = new,
            None => moved.push((old, new)),
        }
    }
}

fn blocked_note(from: &ResourceAddr, to: &ResourceAddr) -> String {
    format!(
        "{from} could not move to {to}: state already holds an object at {to}, so the plan destroys {from} instead. Resolve it with keel state rm or keel state mv, then plan again"
    )
}

/// One resource (every instance, keys kept) or one instance: `aws_vpc.a` -> `aws_vpc.b`,
/// `aws_vpc.a` -> `aws_vpc.a[0]` (the unkeyed side is then the instance without a key).
fn move_resource(
    state: &mut State,
    from: &ResourceAddr,
    to: &ResourceAddr,
    blocked: &mut Vec<String>,
) -> Vec<(ResourceAddr, ResourceAddr)> {
    let instance = from.key.is_some() || to.key.is_some();
    if instance {
        if !state.resources.contains_key(from) {
            return Vec::new();
        }
        if state.resources.contains_key(to) {
            blocked.push(blocked_note(from, to));
            return Vec::new();
        }
    } else {
        let found = matching(state, from);
        if let Some(old) = found.iter().find(|old| {
            let new = ResourceAddr {
                key: old.key.clone(),
                ..to.clone()
            };
            state.resources.contains_key(&new)
        }) {
            let new = ResourceAddr {
                key: old.key.clone(),
                ..to.clone()
            };
            blocked.push(blocked_note(old, &new));
            return Vec::new();
        }
    }
    match move_addr(state, from, to) {
        Ok(pairs) => pairs.into_iter().filter(|(a, b)| a != b).collect(),
        // Terraform's quiet no-op; the others were checked above.
        Err(OpError::NotFound(_)) => Vec::new(),
        Err(e) => {
            blocked.push(e.to_string());
            Vec::new()
        }
    }
}

/// Every resource under module instance (or call) `from`, to the same place under `to`.
fn move_module(
    state: &mut State,
    from: &[ModuleStep],
    to: &[ModuleStep],
    blocked: &mut Vec<String>,
) -> Vec<(ResourceAddr, ResourceAddr)> {
    // `module.a` -> `module.b` moves every instance, keys kept; when either side names an
    // instance, the unkeyed side is the instance without a key.
    let whole =
        from.last().is_some_and(|s| s.key.is_none()) && to.last().is_some_and(|s| s.key.is_none());
    let Some(last) = from.len().checked_sub(1) else {
        return Vec::new();
    };
    let under = |a: &ResourceAddr| {
        a.module.len() >= from.len()
            && a.module[..last]
                .iter()
                .zip(from)
                .all(|(s, f)| s.name == f.name && s.key == f.key)
            && a.module[last].name == from[last].name
            && (whole || a.module[last].key == from[last].key)
    };
    // Each resource (not instance) under `from`, with the place it moves to.
    let mut resources: BTreeSet<(ResourceAddr, ResourceAddr)> = BTreeSet::new();
    for a in state.resources.keys().filter(|a| under(a)) {
        let mut module = to.to_vec();
        if whole && let Some(l) = module.last_mut() {
            l.key = a.module[last].key.clone();
        }
        module.extend(a.module[from.len()..].iter().cloned());
        let old = ResourceAddr {
            key: None,
            ..a.clone()
        };
        let new = ResourceAddr {
            module,
            key: None,
            ..a.clone()
        };
        resources.insert((old, new));
    }
    for (old, new) in &resources {
        let clash = matching(state, old).into_iter().find(|o| {
            state.resources.contains_key(&ResourceAddr {
                key: o.key.clone(),
                ..new.clone()
            })
        });
        if let Some(o) = clash {
            let n = ResourceAddr {
                key: o.key.clone(),
                ..new.clone()
            };
            blocked.push(blocked_note(&o, &n));
            return Vec::new();
        }
    }
    let mut pairs = Vec::new();
    for (old, new) in resources {
        if let Ok(p) = move_addr(state, &old, &new) {
            pairs.extend(p);
        }
    }
    pairs
}

/// After planning: a `from` that the configuration still declares is an error (its
/// object was moved away, so the plan would create a second one).
pub fn check_declared(config: &Config, declared: &[&ResourceAddr]) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for s in statements(config) {
        let path = &config.scope(s.scope).path;
        let prefixes: BTreeSet<Vec<ModuleStep>> = declared
            .iter()
            .filter(|a| {
                a.module.len() >= path.len()
                    && a.module.iter().zip(path).all(|(st, n)| &st.name == n)
            })
            .map(|a| a.module[..path.len()].to_vec())
            .collect();
        for prefix in prefixes {
            let from = s.moved.from.within(&prefix);
            let to = s.moved.to.within(&prefix);
            let keyed = match (&from, &to) {
                (MoveEndpoint::Resource(f), MoveEndpoint::Resource(t)) => {
                    f.key.is_some() || t.key.is_some()
                }
                _ => false,
            };
            let exists = declared.iter().any(|a| match &from {
                MoveEndpoint::Resource(f) if keyed => *a == f,
                other => contains(other, &MoveEndpoint::Resource((*a).clone())),
            });
            if exists {
                let (noun, short) = noun(&from);
                diags.push(
                    Diagnostic::error(format!(
                        "Moved object still exists: this statement declares a move from {from}, but that {noun} is still declared"
                    ))
                    .at(s.moved.span.clone())
                    .help(format!(
                        "change your configuration so that this {short} will be declared as {to} instead"
                    )),
                );
                break;
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests;
