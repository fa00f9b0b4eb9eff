//! The JSON renderer: `keel plan -json` and `keel show -json PLANFILE`. A versioned
//! document that CI and policy tools can read:
//!
//! | field | meaning |
//! |---|---|
//! | `format_version` | `"keel-plan/1"`; a reader refuses versions it does not know |
//! | `stack`, `state.lineage`, `state.serial` | the state the plan was made against |
//! | `destroy` | a `keel plan -destroy` plan |
//! | `summary` | counts: `add`, `change`, `replace`, `destroy` (a replacement counts once, as `replace`) |
//! | `irreversible` | addresses whose step deletes an existing object |
//! | `resource_changes[]` | `address`, `module` (the module instance, `module.net["a"]`, or null), `provider` (`aws`, `aws.west`), `type`, `name`, `index`, `action` (`create`, `update`, `replace`, `delete`, `no-op`), `replace_order` (`delete-first` / `create-first`), `irreversible`, `replace_paths`, `before`, `after`, `after_unknown` (top-level attributes known only after apply), `attributes[]` (`name`, `before`, `after`, `after_unknown`, `forces_replacement`, `sensitive`), `sensitive_attributes` (top-level attributes whose values are hidden), `depends_on` |
//! | `output_changes` | by name: `action`, `before`, `after`, `after_unknown`, `sensitive` |
//! | `cost` | null when not estimated; else `currency` (`"USD"`), `region`, `prices_date`, `prices_source`, `prices_file` (a user's overrides, or null), `hours_per_month` (730), `spot_discount`, `before` and `after` (`hourly`, `monthly`, `estimate`: includes spot estimates, `unpriced`: resources without a price, left out), `delta_monthly`, `budget_monthly` (or null), `by_tag` (monthly spend after the plan by the values of each required cost-allocation tag: `{"experiment": {"llama-ft-7": 40179.2, "(untagged)": 32.85}}`), `resources[]` (`address`, `action`, `before` / `after`: null, or `what`, `hourly`, `monthly`, `estimate`, and `price_unknown` with the reason when there is no price), `notes[]` |
//! | `policy` | null when not checked; else `blocked` (a deny no waiver covers, or the budget: plan and apply exit 1), `counts` (`deny`, `warn`, `waived`), `findings[]` (`rule`, `severity` (`deny` / `warn`), `status` (`deny`, `warn` or `waived`), `address` (null for the budget), `location` (`file`, `line`, `column`, or null), `message`, `fix`, `waiver_reason`), `unused_waivers[]`, `notes[]` (what the rules could not see) |
//!
//! Sensitive values (sensitive variables and everything computed from them, sensitive
//! outputs) are replaced by the string "(sensitive value)"; values unknown until apply are
//! `null`.

use super::Redactor;
use crate::plan::{Action, Change, Plan};
use crate::value::Value;
use serde_json::{Value as Json, json};

/// The version of the plan JSON format this keel writes.
pub const FORMAT_VERSION: &str = "keel-plan/1";

pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Update => "update",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::Delete => "delete",
    }
}

/// The plan as a JSON document.
pub fn plan(plan: &Plan, redact: &Redactor) -> Json {
    let summary = plan.summary();
    let changes: Vec<Json> = plan
        .changes
        .iter()
        .map(|c| change(&super::masked(plan, c), super::marks(plan, c), redact))
        .collect();
    let outputs: serde_json::Map<String, Json> = plan
        .output_changes
        .iter()
        .map(|(name, (before, after))| {
            let sensitive = plan.sensitive_outputs.contains(name);
            let show = |v: &Value| {
                if sensitive {
                    json!("(sensitive value)")
                } else {
                    redact.json(v)
                }
            };
            (
                name.clone(),
                json!({
                    "action": match (before, after) {
                        (None, _) => "create",
                        (Some(_), Value::Null) => "delete",
                        _ => "update",
                    },
                    "before": before.as_ref().map(show).unwrap_or(Json::Null),
                    "after": show(after),
                    "after_unknown": after.has_unknown(),
                    "sensitive": sensitive,
                }),
            )
        })
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "keel_version": env!("CARGO_PKG_VERSION"),
        "stack": plan.stack,
        "state": { "lineage": plan.lineage, "serial": plan.serial },
        "destroy": plan.destroy,
        "summary": {
            "add": summary.add,
            "change": summary.change,
            "replace": summary.replace,
            "destroy": summary.destroy,
        },
        "irreversible": plan.changes.iter().filter(|c| c.action.is_irreversible()).map(|c| c.addr.to_string()).collect::<Vec<_>>(),
        "resource_changes": changes,
        "output_changes": outputs,
        "cost": plan.guard.as_ref().map(super::guard::cost_json),
        "policy": plan.guard.as_ref().map(|g| super::guard::policy_json(g, redact)),
    })
}

fn change(
    c: &Change,
    marks: Option<&std::collections::BTreeSet<String>>,
    redact: &Redactor,
) -> Json {
    let marked = |name: &str| marks.is_some_and(|m| m.contains(name));
    let after_unknown: Vec<String> = c
        .after
        .as_map()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.has_unknown())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    let index = match &c.addr.key {
        None => Json::Null,
        Some(crate::addr::InstanceKey::Int(i)) => json!(i),
        Some(crate::addr::InstanceKey::Str(s)) => json!(s),
    };
    let module = crate::addr::module_path(&c.addr.module);
    let mut doc = json!({
        "address": c.addr.to_string(),
        "module": if module.is_empty() { Json::Null } else { json!(module) },
        "provider": c.provider.to_string(),
        "type": c.addr.type_,
        "name": c.addr.name,
        "index": index,
        "action": action_name(c.action),
        "irreversible": c.action.is_irreversible(),
        "replace_paths": c.replace_paths(),
        "before": c.before.as_ref().map(|v| redact.json(v)).unwrap_or(Json::Null),
        "after": if c.action == Action::Delete { Json::Null } else { redact.json(&c.after) },
        "after_unknown": after_unknown,
        "attributes": c.attrs.iter().map(|a| json!({
            "name": a.name,
            "before": redact.json(&a.before),
            "after": redact.json(&a.after),
            "after_unknown": a.after.has_unknown(),
            "forces_replacement": a.forces_replacement,
            "sensitive": marked(&a.name),
        })).collect::<Vec<_>>(),
        "sensitive_attributes": marks.map(|m| m.iter().cloned().collect::<Vec<_>>()).unwrap_or_default(),
        "depends_on": c.dependencies.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
    });
    if c.action.is_replace() {
        doc["replace_order"] = json!(if c.action == Action::DeleteThenCreate {
            "delete-first"
        } else {
            "create-first"
        });
    }
    doc
}
