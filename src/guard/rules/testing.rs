//! Test helpers: a stack written inline, planned against empty state, and one rule's hits
//! as "ADDRESS: MESSAGE" lines.

use super::{Hit, find};
use crate::guard::settings::RuleConfig;
use crate::guard::view::Inventory;
use crate::state::State;

/// The hits of rule `id` on the stack `hcl`, with the rule's defaults changed by `tune`.
pub(crate) fn hits_with(id: &str, hcl: &str, tune: impl FnOnce(&mut RuleConfig)) -> Vec<Hit> {
    let (_root, config) = crate::config::testing::load_ok(&[("stack/main.hcl", hcl)]);
    let graph = crate::graph::build(&config).expect("graph");
    let inputs = crate::eval::Inputs::default();
    let plan = crate::plan::plan(&config, &graph, &inputs, &State::new("s"), false)
        .unwrap_or_else(|d| panic!("plan: {d:?}"));
    let inventory = Inventory::build(&config, &graph, &inputs, &plan);
    assert!(inventory.symbolic, "the stack evaluates with markers");
    let rule = find(id).expect("a rule");
    let mut rc = RuleConfig::default_for(rule);
    tune(&mut rc);
    (rule.check)(&inventory, &rc)
}

/// "ADDRESS: MESSAGE" for each hit of rule `id` on `hcl`, with the rule's defaults.
pub(crate) fn hits(id: &str, hcl: &str) -> Vec<String> {
    lines(hits_with(id, hcl, |_| {}))
}

pub(crate) fn lines(hits: Vec<Hit>) -> Vec<String> {
    let mut lines: Vec<String> = hits
        .into_iter()
        .map(|h| format!("{}: {}", h.addr, h.message))
        .collect();
    lines.sort();
    lines
}
