//! Drift: State + cloud -> [`DriftReport`]: what changed in the cloud behind the stack's
//! back. Three kinds: *changed* (attributes that differ from what state recorded, except
//! those the stack's `lifecycle.ignore_changes` names), *missing* (deleted outside keel)
//! and *unmanaged* (objects that carry the stack's `keel:stack` tag, or sit in a VPC the
//! stack manages, but are not in state).

use crate::addr::ResourceAddr;
use crate::refresh::Refreshed;
use crate::state::{ResourceState, State};
use crate::value::Value;
use std::collections::{BTreeMap, HashSet};

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDrift {
    pub name: String,
    pub recorded: Value,
    pub actual: Value,
    /// State recorded the attribute as sensitive: reports hide both values.
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    pub addr: ResourceAddr,
    pub id: String,
    pub attrs: Vec<AttrDrift>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub addr: ResourceAddr,
    pub id: String,
}

/// An object in the cloud that the stack does not manage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unmanaged {
    /// The Terraform type it would have (`aws_subnet`), or the AWS kind when keel has none.
    pub kind: String,
    pub id: String,
    /// Why it is reported: "tagged keel:stack=..." or "in managed VPC vpc-...".
    pub reason: String,
}

/// An object the cloud holds, as an inventory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: String,
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DriftReport {
    pub stack: String,
    pub changed: Vec<Changed>,
    pub missing: Vec<Missing>,
    pub unmanaged: Vec<Unmanaged>,
}

impl DriftReport {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.unmanaged.is_empty()
    }

    pub fn count(&self) -> usize {
        self.changed.len() + self.missing.len() + self.unmanaged.len()
    }
}

/// Compares what state recorded with what the refresh read and what the inventory found.
/// `ignore` gives each address's `lifecycle.ignore_changes`.
pub fn compare(
    recorded: &State,
    refreshed: &Refreshed,
    found: &[Found],
    ignore: &BTreeMap<ResourceAddr, Vec<String>>,
) -> DriftReport {
    let mut report = DriftReport {
        stack: recorded.stack.clone(),
        ..DriftReport::default()
    };
    for addr in &refreshed.gone {
        let id = recorded
            .resources
            .get(addr)
            .map(|r| r.id.clone())
            .unwrap_or_default();
        report.missing.push(Missing {
            addr: addr.clone(),
            id,
        });
    }
    for (addr, now) in &refreshed.state.resources {
        let Some(before) = recorded.resources.get(addr) else {
            continue;
        };
        let ignored = ignore.get(addr).cloned().unwrap_or_default();
        let schema = crate::providers::schema(&before.type_);
        let skip = |k: &str| {
            crate::plan::is_ignored(&ignored, k)
                || schema.and_then(|s| s.attr(k)).is_some_and(|a| a.volatile)
        };
        let (b, a) = (before.value(), now.value());
        let keys: std::collections::BTreeSet<&String> = b
            .as_map()
            .into_iter()
            .flat_map(|m| m.keys())
            .chain(a.as_map().into_iter().flat_map(|m| m.keys()))
            .collect();
        let attrs: Vec<AttrDrift> = keys
            .into_iter()
            .filter(|k| !skip(k))
            .filter(|k| b.get(k) != a.get(k))
            .map(|k| AttrDrift {
                name: k.clone(),
                recorded: b.get(k).clone(),
                actual: a.get(k).clone(),
                sensitive: before.sensitive_attributes.contains(k),
            })
            .collect();
        if !attrs.is_empty() {
            report.changed.push(Changed {
                addr: addr.clone(),
                id: before.id.clone(),
                attrs,
            });
        }
    }
    let managed: HashSet<String> = recorded
        .resources
        .values()
        .chain(recorded.deposed.iter().map(|d| &d.resource))
        .flat_map(cloud_ids)
        .collect();
    let mut seen = HashSet::new();
    for f in found {
        if managed.contains(&f.id) || !seen.insert(f.id.clone()) {
            continue;
        }
        report.unmanaged.push(Unmanaged {
            kind: f.kind.clone(),
            id: f.id.clone(),
            reason: f.reason.clone(),
        });
    }
    report.unmanaged.sort();
    report
}

/// The cloud ids a recorded resource accounts for: its own, and the EC2 ids of objects
/// tagged as its own under another id: a placement group's or key pair's (Terraform names
/// them by name) and an instance's root volume.
fn cloud_ids(r: &ResourceState) -> Vec<String> {
    let v = r.value();
    let mut ids = vec![r.id.clone()];
    for key in ["placement_group_id", "key_pair_id"] {
        ids.extend(v.get(key).as_str().map(str::to_string));
    }
    for device in v.get("root_block_device").as_list().unwrap_or(&[]) {
        ids.extend(device.get("volume_id").as_str().map(str::to_string));
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(resources: &[(&str, &str, serde_json::Value)]) -> State {
        let mut s = State::new("s");
        for (addr, id, attrs) in resources {
            s.resources.insert(
                addr.parse().unwrap(),
                ResourceState {
                    type_: addr.split('.').next().unwrap().into(),
                    provider: Default::default(),
                    id: id.to_string(),
                    attributes: attrs.clone(),
                    dependencies: vec![],
                    sensitive_attributes: vec![],
                },
            );
        }
        s
    }

    #[test]
    fn each_kind_of_drift_appears_once_and_ignored_attributes_not_at_all() {
        let recorded = state(&[
            (
                "aws_subnet.a",
                "subnet-a",
                serde_json::json!({"id": "subnet-a", "tags": {"tier": "x"}, "map_public_ip_on_launch": false}),
            ),
            (
                "aws_subnet.b",
                "subnet-b",
                serde_json::json!({"id": "subnet-b"}),
            ),
            (
                "aws_subnet.c",
                "subnet-c",
                serde_json::json!({"id": "subnet-c", "tags": {"n": "1"}}),
            ),
        ]);
        let mut now = recorded.clone();
        now.resources.remove(&"aws_subnet.b".parse().unwrap());
        now.resources
            .get_mut(&"aws_subnet.a".parse().unwrap())
            .unwrap()
            .attributes = serde_json::json!({"id": "subnet-a", "tags": {"tier": "y"}, "map_public_ip_on_launch": true});
        now.resources
            .get_mut(&"aws_subnet.c".parse().unwrap())
            .unwrap()
            .attributes = serde_json::json!({"id": "subnet-c", "tags": {"n": "2"}});
        let refreshed = Refreshed {
            state: now,
            gone: vec!["aws_subnet.b".parse().unwrap()],
            changed: vec![],
        };
        let found = vec![
            Found {
                kind: "aws_subnet".into(),
                id: "subnet-a".into(),
                reason: "tagged".into(),
            },
            Found {
                kind: "aws_subnet".into(),
                id: "subnet-z".into(),
                reason: "tagged".into(),
            },
            Found {
                kind: "aws_subnet".into(),
                id: "subnet-z".into(),
                reason: "in VPC".into(),
            },
        ];
        let ignore = BTreeMap::from([("aws_subnet.c".parse().unwrap(), vec!["tags".to_string()])]);
        let r = compare(&recorded, &refreshed, &found, &ignore);
        assert_eq!(
            r.missing,
            vec![Missing {
                addr: "aws_subnet.b".parse().unwrap(),
                id: "subnet-b".into()
            }]
        );
        assert_eq!(r.changed.len(), 1);
        let names: Vec<&str> = r.changed[0].attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["map_public_ip_on_launch", "tags"]);
        assert_eq!(r.unmanaged.len(), 1);
        assert_eq!(r.unmanaged[0].id, "subnet-z");
    }

    #[test]
    fn volatile_counters_are_not_drift() {
        let recorded = state(&[(
            "aws_iam_policy.p",
            "arn:aws:iam::1:policy/p",
            serde_json::json!({"id": "arn:aws:iam::1:policy/p", "attachment_count": 0, "description": "a"}),
        )]);
        let mut now = recorded.clone();
        now.resources
            .get_mut(&"aws_iam_policy.p".parse().unwrap())
            .unwrap()
            .attributes = serde_json::json!({"id": "arn:aws:iam::1:policy/p", "attachment_count": 3, "description": "b"});
        let refreshed = Refreshed {
            state: now,
            gone: vec![],
            changed: vec![],
        };
        let r = compare(&recorded, &refreshed, &[], &BTreeMap::new());
        let names: Vec<&str> = r.changed[0].attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["description"]);
    }

    #[test]
    fn objects_tagged_under_another_id_are_managed() {
        let recorded = state(&[
            (
                "aws_placement_group.pg",
                "gpu",
                serde_json::json!({"id": "gpu", "placement_group_id": "pg-1"}),
            ),
            (
                "aws_instance.node",
                "i-1",
                serde_json::json!({"id": "i-1", "root_block_device": [{"volume_id": "vol-1"}]}),
            ),
        ]);
        let refreshed = Refreshed {
            state: recorded.clone(),
            gone: vec![],
            changed: vec![],
        };
        let found: Vec<Found> = ["pg-1", "vol-1", "i-1", "vol-2"]
            .into_iter()
            .map(|id| Found {
                kind: "x".into(),
                id: id.into(),
                reason: "tagged".into(),
            })
            .collect();
        let r = compare(&recorded, &refreshed, &found, &BTreeMap::new());
        let ids: Vec<&str> = r.unmanaged.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["vol-2"]);
    }
}
