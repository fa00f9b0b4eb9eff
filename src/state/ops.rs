//! State operations that change only the record, never the cloud: which addresses a
//! pattern names, forgetting resources (`keel state rm`), and moving them to a new
//! address (`keel state mv`, and `moved` blocks). Pure functions over [`State`]; the
//! caller locks, reads and writes.

use super::State;
use crate::addr::{AddrIndex, ResourceAddr};
use std::collections::HashSet;

/// Why an operation on state could not be done. Nothing was changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OpError {
    #[error("no resource in state matches {0}\n  help: keel state list shows what state records")]
    NotFound(ResourceAddr),
    #[error("{0} is already in state; move or remove it first")]
    Exists(ResourceAddr),
    #[error(
        "cannot move {from} to {to}: a resource cannot change its type\n  help: both addresses must be of the same resource type"
    )]
    TypeMismatch {
        from: Box<ResourceAddr>,
        to: Box<ResourceAddr>,
    },
    #[error(
        "cannot move {from} to {to}: {from} has several instances, so the destination cannot name one\n  help: move the whole resource ({}) or one instance at a time",
        unkeyed(to)
    )]
    ManyToOne {
        from: Box<ResourceAddr>,
        to: Box<ResourceAddr>,
    },
}

fn unkeyed(a: &ResourceAddr) -> ResourceAddr {
    ResourceAddr {
        key: None,
        ..a.clone()
    }
}

/// Does `pattern` name `addr`? An address without an instance key names every instance
/// of that resource; one with a key names exactly that instance.
pub fn matches(pattern: &ResourceAddr, addr: &ResourceAddr) -> bool {
    pattern.module == addr.module
        && pattern.type_ == addr.type_
        && pattern.name == addr.name
        && (pattern.key.is_none() || pattern.key == addr.key)
}

/// The addresses in state that `pattern` names, in order.
pub fn matching(state: &State, pattern: &ResourceAddr) -> Vec<ResourceAddr> {
    state
        .resources
        .keys()
        .filter(|a| matches(pattern, a))
        .cloned()
        .collect()
}

/// Forgets what `pattern` names (the cloud objects stay). Returns what was removed.
pub fn remove(state: &mut State, pattern: &ResourceAddr) -> Result<Vec<ResourceAddr>, OpError> {
    let gone = matching(state, pattern);
    if gone.is_empty() {
        return Err(OpError::NotFound(pattern.clone()));
    }
    for addr in &gone {
        state.resources.remove(addr);
    }
    // A dependency on a whole resource goes once none of its instances is left.
    let removed: AddrIndex<()> = gone.iter().map(|a| (a, ())).collect();
    let left: AddrIndex<()> = state.resources.keys().map(|a| (a, ())).collect();
    let forgotten: HashSet<ResourceAddr> = state
        .resources
        .values()
        .flat_map(|r| &r.dependencies)
        .filter(|d| !removed.resolve(d).is_empty() && left.resolve(d).is_empty())
        .cloned()
        .collect();
    for r in state.resources.values_mut() {
        r.dependencies.retain(|d| !forgotten.contains(d));
    }
    Ok(gone)
}

/// Moves what `from` names to `to`, keeping the cloud objects: one instance to one
/// address, or a whole resource (every instance, keys kept) to a new name or module.
/// Dependencies that named the old addresses name the new ones. Returns each
/// (old, new) pair; on error nothing changed.
///
/// A `moved { from = ..., to = ... }` block is this call, made before planning; a caller
/// that wants Terraform's quiet no-op when `from` is absent matches on
/// [`OpError::NotFound`].
pub fn move_addr(
    state: &mut State,
    from: &ResourceAddr,
    to: &ResourceAddr,
) -> Result<Vec<(ResourceAddr, ResourceAddr)>, OpError> {
    if from.type_ != to.type_ {
        return Err(OpError::TypeMismatch {
            from: Box::new(from.clone()),
            to: Box::new(to.clone()),
        });
    }
    let found = matching(state, from);
    if found.is_empty() {
        return Err(OpError::NotFound(from.clone()));
    }
    let pairs: Vec<(ResourceAddr, ResourceAddr)> = if from.key.is_some() || to.key.is_some() {
        if found.len() > 1 {
            return Err(OpError::ManyToOne {
                from: Box::new(from.clone()),
                to: Box::new(to.clone()),
            });
        }
        vec![(found[0].clone(), to.clone())]
    } else {
        found
            .into_iter()
            .map(|old| {
                let new = ResourceAddr {
                    key: old.key.clone(),
                    ..to.clone()
                };
                (old, new)
            })
            .collect()
    };
    for (old, new) in &pairs {
        if old != new && state.resources.contains_key(new) {
            return Err(OpError::Exists(new.clone()));
        }
    }
    let mut moved = Vec::new();
    for (old, _) in &pairs {
        if let Some(r) = state.resources.remove(old) {
            moved.push(r);
        }
    }
    for ((_, new), r) in pairs.iter().zip(moved) {
        state.resources.insert(new.clone(), r);
    }
    let rename = |a: &mut ResourceAddr| {
        if let Some((_, new)) = pairs.iter().find(|(old, _)| old == a) {
            *a = new.clone();
        }
    };
    // A dependency on a whole resource follows it when all of it moves; when one
    // instance leaves it, the dependency names that instance at its new address too.
    let whole = from.key.is_none() && to.key.is_none();
    let follow = |deps: &mut Vec<ResourceAddr>| {
        let mut also = Vec::new();
        for d in deps.iter_mut() {
            if pairs.iter().any(|(old, _)| old == d) {
                rename(d);
            } else if d.key.is_none() {
                if whole && d == from {
                    *d = to.clone();
                } else {
                    also.extend(
                        pairs
                            .iter()
                            .filter(|(old, _)| matches(d, old))
                            .map(|(_, new)| new.clone()),
                    );
                }
            }
        }
        for a in also {
            if !deps.contains(&a) {
                deps.push(a);
            }
        }
    };
    for r in state.resources.values_mut() {
        follow(&mut r.dependencies);
    }
    for d in &mut state.deposed {
        rename(&mut d.addr);
        follow(&mut d.resource.dependencies);
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn a(s: &str) -> ResourceAddr {
        s.parse().unwrap()
    }

    fn state() -> State {
        let mut s = State::new("t");
        let mut add = |addr: &str, deps: &[&str]| {
            let addr = a(addr);
            s.resources.insert(
                addr.clone(),
                ResourceState {
                    type_: addr.type_.clone(),
                    id: format!("id-{addr}"),
                    attributes: serde_json::json!({ "id": format!("id-{addr}") }),
                    dependencies: deps.iter().map(|d| a(d)).collect(),
                    provider: Default::default(),
                    sensitive_attributes: vec![],
                },
            );
        };
        add("aws_vpc.main", &[]);
        add("aws_subnet.private[0]", &["aws_vpc.main"]);
        add("aws_subnet.private[1]", &["aws_vpc.main"]);
        add("aws_route_table_association.a", &["aws_subnet.private[0]"]);
        // As plans record it: the whole resource, every instance of it.
        add("aws_instance.gpu", &["aws_subnet.private", "aws_vpc.main"]);
        s
    }

    #[test]
    fn patterns_without_a_key_name_every_instance() {
        let s = state();
        assert_eq!(matching(&s, &a("aws_subnet.private")).len(), 2);
        assert_eq!(
            matching(&s, &a("aws_subnet.private[1]")),
            vec![a("aws_subnet.private[1]")]
        );
        assert!(matching(&s, &a("aws_subnet.public")).is_empty());
    }

    #[test]
    fn move_renames_and_follows_dependencies() {
        let mut s = state();
        let pairs = move_addr(&mut s, &a("aws_vpc.main"), &a("aws_vpc.core")).unwrap();
        assert_eq!(pairs, vec![(a("aws_vpc.main"), a("aws_vpc.core"))]);
        assert!(!s.resources.contains_key(&a("aws_vpc.main")));
        assert_eq!(s.resources[&a("aws_vpc.core")].id, "id-aws_vpc.main");
        assert_eq!(
            s.resources[&a("aws_subnet.private[0]")].dependencies,
            vec![a("aws_vpc.core")]
        );
    }

    #[test]
    fn move_a_whole_resource_keeps_instance_keys() {
        let mut s = state();
        move_addr(
            &mut s,
            &a("aws_subnet.private"),
            &a("module.net.aws_subnet.this"),
        )
        .unwrap();
        assert!(
            s.resources
                .contains_key(&a("module.net.aws_subnet.this[0]"))
        );
        assert!(
            s.resources
                .contains_key(&a("module.net.aws_subnet.this[1]"))
        );
        assert_eq!(
            s.resources[&a("aws_route_table_association.a")].dependencies,
            vec![a("module.net.aws_subnet.this[0]")]
        );
    }

    #[test]
    fn move_one_instance_to_a_plain_address() {
        let mut s = state();
        move_addr(&mut s, &a("aws_subnet.private[1]"), &a("aws_subnet.spare")).unwrap();
        assert!(s.resources.contains_key(&a("aws_subnet.spare")));
        assert_eq!(matching(&s, &a("aws_subnet.private")).len(), 1);
    }

    #[test]
    fn move_refuses_and_changes_nothing() {
        let mut s = state();
        let before = s.clone();
        assert!(matches!(
            move_addr(&mut s, &a("aws_vpc.main"), &a("aws_subnet.main")),
            Err(OpError::TypeMismatch { .. })
        ));
        assert_eq!(
            move_addr(
                &mut s,
                &a("aws_subnet.private[0]"),
                &a("aws_subnet.private[1]")
            ),
            Err(OpError::Exists(a("aws_subnet.private[1]")))
        );
        assert!(matches!(
            move_addr(&mut s, &a("aws_subnet.private"), &a("aws_subnet.x[0]")),
            Err(OpError::ManyToOne { .. })
        ));
        assert_eq!(
            move_addr(&mut s, &a("aws_vpc.gone"), &a("aws_vpc.x")),
            Err(OpError::NotFound(a("aws_vpc.gone")))
        );
        assert_eq!(s, before);
    }

    #[test]
    fn remove_forgets_instances_and_dependencies_on_them() {
        let mut s = state();
        let gone = remove(&mut s, &a("aws_subnet.private")).unwrap();
        assert_eq!(gone.len(), 2);
        assert!(
            s.resources[&a("aws_route_table_association.a")]
                .dependencies
                .is_empty()
        );
        assert_eq!(
            remove(&mut s, &a("aws_subnet.private")),
            Err(OpError::NotFound(a("aws_subnet.private")))
        );
    }

    #[test]
    fn a_dependency_on_a_whole_resource_follows_it_through_moves() {
        let deps = |s: &State| -> Vec<String> {
            s.resources[&a("aws_instance.gpu")]
                .dependencies
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        // All of it moves: the dependency moves with it.
        let mut s = state();
        move_addr(&mut s, &a("aws_subnet.private"), &a("aws_subnet.compute")).unwrap();
        assert_eq!(deps(&s), ["aws_subnet.compute", "aws_vpc.main"]);
        // Into a module instance, via the same call `moved { module }` makes.
        let mut s = state();
        move_addr(
            &mut s,
            &a("aws_subnet.private"),
            &a("module.net[\"a\"].aws_subnet.this"),
        )
        .unwrap();
        assert_eq!(
            deps(&s),
            ["module.net[\"a\"].aws_subnet.this", "aws_vpc.main"]
        );
        // One instance leaves: the rest are still named by the block, the one that left
        // by its new address.
        let mut s = state();
        move_addr(&mut s, &a("aws_subnet.private[1]"), &a("aws_subnet.spare")).unwrap();
        assert_eq!(
            deps(&s),
            ["aws_subnet.private", "aws_vpc.main", "aws_subnet.spare"]
        );
    }

    #[test]
    fn a_dependency_on_a_whole_resource_goes_with_its_last_instance() {
        let mut s = state();
        remove(&mut s, &a("aws_subnet.private[0]")).unwrap();
        let deps = |s: &State, addr: &str| -> Vec<String> {
            s.resources[&a(addr)]
                .dependencies
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            deps(&s, "aws_instance.gpu"),
            ["aws_subnet.private", "aws_vpc.main"]
        );
        assert!(deps(&s, "aws_route_table_association.a").is_empty());
        remove(&mut s, &a("aws_subnet.private[1]")).unwrap();
        assert_eq!(deps(&s, "aws_instance.gpu"), ["aws_vpc.main"]);
    }
}
