//! Apply: Plan + providers -> State'. Apply follows the plan's steps and re-derives nothing:
//! it evaluates each resource's expressions only once everything it depends on is done (so
//! values unknown at plan time are filled in), makes the planned provider call, and writes
//! state after every single operation.
//!
//! On the first failure nothing new is started; what completed stays recorded in state.

mod data;

use crate::addr::ResourceAddr;
use crate::config::Config;
use crate::diag::Diagnostics;
use crate::eval::{self, Envs, Inputs, NodeValue, computed_value};
use crate::graph::ResourceGraph;
use crate::plan::{Action, Plan, Step};
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::state::{Backend, Deposed, OutputState, ResourceState, State, StateError, StateLock};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// Why apply stopped before it began, or could not record what it did.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "the plan was made against state serial {planned} (lineage {lineage}), but the state is now at serial {found}\n  help: something changed the state since the plan was made; run keel plan again"
    )]
    StalePlan {
        lineage: String,
        planned: u64,
        found: u64,
    },
    #[error("{0}")]
    Eval(String),
    #[error(transparent)]
    State(#[from] StateError),
}

/// One line of progress, as apply makes it.
pub trait Progress {
    fn line(&mut self, text: String);
}

impl<F: FnMut(String)> Progress for F {
    fn line(&mut self, text: String) {
        self(text)
    }
}

/// What apply did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// The step that failed, with the cloud's error.
    pub failure: Option<(ResourceAddr, ProviderError)>,
    /// Expressions that could not be evaluated once their inputs were known.
    pub diagnostics: Option<Diagnostics>,
    pub outputs: BTreeMap<String, Value>,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none() && self.diagnostics.is_none()
    }
}

/// Where apply records what it does.
pub struct Recorder<'a> {
    pub backend: &'a Backend,
    pub lock: &'a StateLock,
    pub state: &'a mut State,
}

impl Recorder<'_> {
    async fn save(&mut self) -> Result<(), StateError> {
        self.backend.write(self.lock, self.state).await
    }
}

fn elapsed(start: Instant) -> String {
    let d = start.elapsed();
    if d < Duration::from_secs(60) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}m{}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Executes `plan`, each resource through its own provider configuration. Every provider
/// call is followed by a state write, so whatever happens to this process, state knows
/// every object that exists.
pub async fn apply<P: Provider>(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    plan: &Plan,
    providers: &ProviderSet<P>,
    rec: &mut Recorder<'_>,
    progress: &mut dyn Progress,
) -> Result<ApplyReport, ApplyError> {
    if rec.state.lineage != plan.lineage || rec.state.serial != plan.serial {
        return Err(ApplyError::StalePlan {
            lineage: plan.lineage.clone(),
            planned: plan.serial,
            found: rec.state.serial,
        });
    }
    let mut report = ApplyReport::default();
    let first_apply = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::Apply { .. }))
        .unwrap_or(plan.steps.len());
    let last_apply = plan
        .steps
        .iter()
        .rposition(|s| matches!(s, Step::Apply { .. }))
        .map(|i| i + 1)
        .unwrap_or(first_apply);

    // 1. Deletes that must come before creates (delete-first replacements).
    for step in &plan.steps[..first_apply] {
        if let Step::Delete { change } = step
            && !delete(plan, *change, providers, rec, progress, &mut report).await?
        {
            return Ok(report);
        }
    }

    // 2. Creates and updates, in dependency order, evaluating as values become known.
    if !plan.destroy {
        let to_apply: HashSet<usize> = plan.steps[first_apply..last_apply]
            .iter()
            .filter_map(|s| match s {
                Step::Apply { change } => Some(*change),
                Step::Delete { .. } => None,
            })
            .collect();
        if !walk(
            config,
            graph,
            inputs,
            plan,
            &to_apply,
            providers,
            rec,
            progress,
            &mut report,
        )
        .await?
        {
            return Ok(report);
        }
    }

    // 3. Deletes, dependents first.
    for step in &plan.steps[last_apply.max(first_apply)..] {
        if let Step::Delete { change } = step
            && !delete(plan, *change, providers, rec, progress, &mut report).await?
        {
            return Ok(report);
        }
    }

    rec.state.outputs = report
        .outputs
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                OutputState {
                    value: v.to_json(),
                    // An output built from a sensitive value must be declared so, or
                    // evaluation refuses it.
                    sensitive: plan.sensitive_outputs.contains(k),
                },
            )
        })
        .collect();
    rec.save().await?;
    Ok(report)
}

/// Deletes the object of `changes[i]` (or its deposed predecessor), through the provider
/// configuration state recorded for it. False when it failed.
async fn delete<P: Provider>(
    plan: &Plan,
    i: usize,
    providers: &ProviderSet<P>,
    rec: &mut Recorder<'_>,
    progress: &mut dyn Progress,
    report: &mut ApplyReport,
) -> Result<bool, ApplyError> {
    let change = &plan.changes[i];
    let deposed = change.action == Action::CreateThenDelete;
    let recorded = if deposed {
        rec.state
            .deposed
            .iter()
            .find(|d| d.addr == change.addr)
            .map(|d| &d.resource)
    } else {
        rec.state.resources.get(&change.addr)
    };
    let Some(recorded) = recorded else {
        // Already gone from state: nothing to delete.
        return Ok(true);
    };
    let (prior, provider) = (recorded.value(), recorded.provider.clone());
    let id = prior.get("id").as_str().unwrap_or_default().to_string();
    let what = if deposed {
        format!("{} (deposed object {id})", change.addr)
    } else {
        change.addr.to_string()
    };
    progress.line(format!("{what}: Destroying... [id={id}]"));
    let start = Instant::now();
    let result = match providers.get(&provider) {
        Ok(p) => p.delete(&change.addr, &prior).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            if deposed {
                rec.state.deposed.retain(|d| d.addr != change.addr);
            } else {
                rec.state.resources.remove(&change.addr);
            }
            rec.save().await?;
            report.destroyed += 1;
            progress.line(format!(
                "{what}: Destruction complete after {}",
                elapsed(start)
            ));
            Ok(true)
        }
        Err(e) => {
            progress.line(format!("{what}: Destruction failed: {e}"));
            report.failure = Some((change.addr.clone(), e));
            Ok(false)
        }
    }
}

/// Walks the graph, evaluating every node against real values and making the planned
/// create or update for each resource. False when a step failed.
#[allow(clippy::too_many_arguments)]
async fn walk<P: Provider>(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    plan: &Plan,
    to_apply: &HashSet<usize>,
    providers: &ProviderSet<P>,
    rec: &mut Recorder<'_>,
    progress: &mut dyn Progress,
    report: &mut ApplyReport,
) -> Result<bool, ApplyError> {
    let mut envs = Envs::new(config);
    let by_addr: HashMap<&ResourceAddr, usize> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.addr, i))
        .collect();
    for &node in graph.order() {
        let value = match eval::eval_node(config, node, inputs, &envs) {
            Ok(NodeValue::Data(shape, instances)) => {
                data::resolve(config, node, plan, shape, instances, providers, progress).await
            }
            other => other,
        };
        let value = match value {
            Ok(v) => v,
            Err(d) => {
                report.diagnostics = Some(d);
                return Ok(false);
            }
        };
        let NodeValue::Resource(shape, instances) = value else {
            envs.store(config, node, value);
            continue;
        };
        let (resource, _) = node.resource_in(config).expect("a resource node");
        let mut seen = Vec::with_capacity(instances.len());
        for mut instance in instances {
            let addr = &instance.addr;
            let Some(&ci) = by_addr.get(addr) else {
                return Err(ApplyError::Eval(format!(
                    "{addr} is in the configuration but not in the plan; run keel plan again"
                )));
            };
            let change = &plan.changes[ci];
            let value = std::mem::take(&mut instance.value);
            if let Some(path) = inconsistent(&change.config, &value) {
                return Err(ApplyError::Eval(format!(
                    "{addr}: the value of {path} differs from the plan; the configuration or its inputs changed since planning. Run keel plan again"
                )));
            }
            if !to_apply.contains(&ci) {
                let prior = rec.state.resources.get(addr).map(|r| r.value());
                instance.value = computed_value(&resource.type_, &value, prior.as_ref());
                seen.push(instance);
                continue;
            }
            if value.has_unknown() {
                return Err(ApplyError::Eval(format!(
                    "{addr}: some of its arguments are still unknown after everything it depends on was applied"
                )));
            }
            let record = |value: &Value| {
                let id = value.get("id").as_str().unwrap_or_default().to_string();
                ResourceState {
                    type_: addr.type_.clone(),
                    provider: change.provider.clone(),
                    id,
                    attributes: value.to_json(),
                    dependencies: change.dependencies.clone(),
                    // What the configuration marks now, as Terraform records it.
                    sensitive_attributes: instance.sensitive.iter().cloned().collect(),
                }
            };
            let start = Instant::now();
            let provider = match providers.get(&change.provider) {
                Ok(p) => p,
                Err(e) => {
                    report.failure = Some((addr.clone(), e));
                    return Ok(false);
                }
            };
            let result = match change.action {
                Action::Update => {
                    let prior = rec
                        .state
                        .resources
                        .get(addr)
                        .map(|r| r.value())
                        .unwrap_or_default();
                    let id = prior.get("id").as_str().unwrap_or_default().to_string();
                    progress.line(format!("{addr}: Modifying... [id={id}]"));
                    provider
                        .update(addr, &prior, &value)
                        .await
                        .map(|v| (v, "Modifications"))
                }
                Action::CreateThenDelete => {
                    if let Some(old) = rec.state.resources.remove(addr) {
                        rec.state.deposed.push(Deposed {
                            addr: addr.clone(),
                            resource: old,
                        });
                        rec.save().await?;
                    }
                    progress.line(format!("{addr}: Creating..."));
                    provider.create(addr, &value).await.map(|v| (v, "Creation"))
                }
                _ => {
                    progress.line(format!("{addr}: Creating..."));
                    provider.create(addr, &value).await.map(|v| (v, "Creation"))
                }
            };
            match result {
                Ok((object, verb)) => {
                    let entry = record(&object);
                    let id = entry.id.clone();
                    rec.state.resources.insert(addr.clone(), entry);
                    rec.save().await?;
                    match change.action {
                        Action::Update => report.changed += 1,
                        _ => report.added += 1,
                    }
                    progress.line(format!(
                        "{addr}: {verb} complete after {} [id={id}]",
                        elapsed(start)
                    ));
                    instance.value = computed_value(&resource.type_, &value, Some(&object));
                    seen.push(instance);
                }
                Err(e) => {
                    progress.line(format!("{addr}: failed: {e}"));
                    report.failure = Some((addr.clone(), e));
                    return Ok(false);
                }
            }
        }
        envs.store(config, node, NodeValue::Resource(shape, seen));
    }
    report.outputs = std::mem::take(&mut envs.outputs);
    Ok(true)
}

/// The first path where a value known at plan time differs from the one apply evaluated.
fn inconsistent(planned: &Value, now: &Value) -> Option<String> {
    match (planned, now) {
        (Value::Unknown, _) => None,
        (Value::Map(a), Value::Map(b)) => a.iter().find_map(|(k, v)| {
            inconsistent(v, b.get(k).unwrap_or(&Value::Null)).map(|p| {
                if p.is_empty() {
                    k.clone()
                } else {
                    format!("{k}.{p}")
                }
            })
        }),
        (Value::List(a), Value::List(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| inconsistent(x, y).map(|p| format!("[{i}]{p}"))),
        (a, b) if a == b => None,
        _ => Some(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknowns_in_the_plan_accept_any_value() {
        let planned = Value::Map(BTreeMap::from([
            ("vpc_id".to_string(), Value::Unknown),
            ("cidr_block".to_string(), Value::str("10.0.1.0/24")),
        ]));
        let now = Value::Map(BTreeMap::from([
            ("vpc_id".to_string(), Value::str("vpc-1")),
            ("cidr_block".to_string(), Value::str("10.0.1.0/24")),
        ]));
        assert_eq!(inconsistent(&planned, &now), None);
        let changed = Value::Map(BTreeMap::from([
            ("vpc_id".to_string(), Value::str("vpc-1")),
            ("cidr_block".to_string(), Value::str("10.0.2.0/24")),
        ]));
        assert_eq!(
            inconsistent(&planned, &changed).as_deref(),
            Some("cidr_block")
        );
    }
}
