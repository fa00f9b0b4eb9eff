//! The JSON renderer: `keel plan -json` and `keel show -json PLANFILE`. A versioned
//! document that CI and policy tools can read:
//!
//! | field | meaning |
//! |---|---|
//! | `format_version` | `"keel-plan/1"`; a reader refuses versions it does not know |
//! | `stack`, `state.lineage`, `state.serial` | the state the plan was made against |
//! | `destroy` | a `keel plan -destroy` plan |
//! | `summary` | counts: `add`, `change`, `replace`, `destroy` (a replacement counts once, as `replace`), `import` |
//! | `irreversible` | addresses whose step deletes an existing object |
//! | `resource_changes[]` | `address`, `module` (the module instance, `module.net["a"]`, or null), `provider` (`aws`, `aws.west`), `type`, `name`, `index`, `action` (`create`, `update`, `replace`, `delete`, `no-op`), `replace_order` (`delete-first` / `create-first`), `irreversible`, `replace_paths`, `before`, `after`, `after_unknown` (top-level attributes known only after apply), `attributes[]` (`name`, `before`, `after`, `after_unknown`, `forces_replacement`, `sensitive`), `sensitive_attributes` (top-level attributes whose values are hidden), `depends_on`, `previous_address` (where a `moved` block moved it from, or null), `importing` (`{"id": ...}` when an `import` block brings it in, or null) |
//! | `data_reads[]` | data sources read during apply: `address`, `module`, `provider`, `type`, `name`, `index`, `reason` (`config_unknown`, `dependency_pending`), `config`, `after_unknown` (results known only then) |
//! | `warnings` | moves the plan could not make, as sentences |
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
        .map(|c| {
            let mut doc = change(&super::masked(plan, c), super::marks(plan, c), redact);
            doc["previous_address"] = plan
                .moved_from(&c.addr)
                .map(|a| json!(a.to_string()))
                .unwrap_or(Json::Null);
            doc["importing"] = plan
                .importing(&c.addr)
                .map(|i| json!({ "id": i.id }))
                .unwrap_or(Json::Null);
            doc
        })
        .collect();
    let reads: Vec<Json> = plan
        .deferred_reads()
        .iter()
        .map(|r| read(r, redact))
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
            "import": summary.import,
        },
        "irreversible": plan.changes.iter().filter(|c| c.action.is_irreversible()).map(|c| c.addr.to_string()).collect::<Vec<_>>(),
        "resource_changes": changes,
        "output_changes": outputs,
        "cost": plan.guard.as_ref().map(super::guard::cost_json),
        "policy": plan.guard.as_ref().map(|g| super::guard::policy_json(g, redact)),
        "data_reads": reads,
        "warnings": plan.warnings,
    })
}

/// A data source read during apply.
fn read(r: &crate::plan::DataRead, redact: &Redactor) -> Json {
    let a = &r.addr.0;
    let module = crate::addr::module_path(&a.module);
    let index = match &a.key {
        None => Json::Null,
        Some(crate::addr::InstanceKey::Int(i)) => json!(i),
        Some(crate::addr::InstanceKey::Str(s)) => json!(s),
    };
    let after_unknown: Vec<String> = r
        .value
        .as_map()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.has_unknown())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "address": r.addr.to_string(),
        "module": if module.is_empty() { Json::Null } else { json!(module) },
        "provider": r.provider.to_string(),
        "type": a.type_,
        "name": a.name,
        "index": index,
        "reason": match r.deferred {
            Some(crate::plan::Deferred::ConfigUnknown) => "config_unknown",
            Some(crate::plan::Deferred::DependencyPending) => "dependency_pending",
            None => "none",
        },
        "config": redact.json(&r.config),
        "after_unknown": after_unknown,
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
