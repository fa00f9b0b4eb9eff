//! The GPU cluster types against moto: `aws_placement_group`, `aws_key_pair`,
//! `aws_launch_template` and `aws_instance`. Each type is created, read back through the
//! SDK (not through keel), updated in place, replaced on a change that forces it, imported
//! by its cloud id and deleted, with the cloud checked after every step; then a whole GPU
//! cluster, and the number of calls a refresh takes.

mod gpu_cluster;
mod instance;
mod key_pair;
mod launch_template;
mod placement_group;
mod profile;
mod refresh;
mod root_volume;

use crate::fixture::{Project, Run};
use serde_json::Value as Json;

/// A Deep Learning AMI from moto's built-in list; its root device is /dev/xvda.
pub const AMI: &str = "ami-999844e0";
/// Another of moto's AMIs, for a change that replaces an instance.
pub const OTHER_AMI: &str = "ami-760aaa0f";

pub fn id(p: &Project, addr: &str) -> String {
    p.state()["resources"][addr]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {addr} in state"))
        .to_string()
}

pub fn attrs(p: &Project, addr: &str) -> Json {
    p.state()["resources"][addr]["attributes"].clone()
}

/// Applies and returns the run, failing the test when keel fails.
pub fn apply(p: &Project) -> Run {
    p.keel(&["apply", "-auto-approve"]).ok()
}

/// The plan's text, after checking it plans an in-place update of `addr` and nothing
/// that replaces anything.
pub fn plan_updates_in_place(p: &Project, addr: &str) -> String {
    let plan = p.keel(&["plan"]).ok().stdout;
    assert!(
        plan.contains(&format!("{addr} will be updated in-place")),
        "{plan}"
    );
    assert!(!plan.contains("forces replacement"), "{plan}");
    plan
}

/// Checks that the plan replaces `addr` because of `attr`, and says so on that line.
pub fn plan_replaces(p: &Project, addr: &str, attr: &str) -> String {
    let plan = p.keel(&["plan"]).ok().stdout;
    assert!(plan.contains(&format!("{addr} must be replaced")), "{plan}");
    assert!(
        plan.lines()
            .any(|l| l.contains(&format!(" {attr} ")) && l.contains("# forces replacement")),
        "the plan names {attr} as forcing the replacement:\n{plan}"
    );
    plan
}

/// Import by cloud id: state keeps nothing of `addr` but its id, as after an import; a
/// refresh-only apply must read the whole resource back. Returns what state then holds.
pub fn import(p: &Project, addr: &str) -> Json {
    let mut state = p.state();
    let id = state["resources"][addr]["id"].clone();
    state["resources"][addr]["attributes"] = serde_json::json!({ "id": id });
    std::fs::write(
        p.state_path(),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();
    p.keel(&["apply", "-refresh-only", "-auto-approve"]).ok();
    attrs(p, addr)
}

/// The EC2 tags as a sorted list of (key, value).
pub fn tag_pairs(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = tags
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// keel's ownership tags for `addr` in `p`'s stack, plus `extra`.
pub fn owned(p: &Project, addr: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([
            ("keel:address".to_string(), addr.to_string()),
            ("keel:stack".to_string(), p.stack.clone()),
        ])
        .collect();
    out.sort();
    out
}
