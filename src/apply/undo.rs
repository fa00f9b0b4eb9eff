//! Rollback: the journal's completed steps -> undone, in reverse order of completion
//! restricted to dependencies, each undo journaled like a step. Resumable: a rollback
//! recorded in the state picks up where it stopped.

use super::events::{Event, Progress, Verb};
use super::forward::{Answer, Call};
use super::gate::Gate;
use super::limit::Limit;
use super::{ApplyError, Options, Recorder};
use crate::addr::{AddrIndex, ResourceAddr};
use crate::plan::dependents_first;
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::state::{OpKind, Phase, ResourceState, State, Status};
use crate::value::Value;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// What a rollback did.
#[derive(Debug, Default, Clone)]
pub struct RollbackReport {
    /// Why the apply was rolled back.
    pub reason: Option<String>,
    pub undone: Vec<(ResourceAddr, Verb)>,
    /// Replacements kept because the object they replaced was already deleted.
    pub kept: Vec<ResourceAddr>,
    pub failed: Vec<(ResourceAddr, ProviderError)>,
    /// Undos not attempted because an undo they wait for failed (or Ctrl-C).
    pub blocked: Vec<ResourceAddr>,
    /// Everything was undone: the state holds no journal any more.
    pub complete: bool,
}

fn verb(kind: OpKind) -> Verb {
    match kind {
        OpKind::Update => Verb::UndoUpdate,
        OpKind::CreateReplacement => Verb::UndoReplace,
        _ => Verb::UndoCreate,
    }
}

/// Undoes what the state's journal records as done. Without a journal there is nothing
/// to undo.
pub(super) async fn rollback<P: Provider>(
    providers: &ProviderSet<P>,
    rec: &mut Recorder<'_>,
    opts: &mut Options,
    progress: &mut dyn Progress,
    reason: Option<String>,
) -> Result<RollbackReport, ApplyError> {
    let mut report = RollbackReport {
        reason: reason.clone(),
        ..Default::default()
    };
    let Some(journal) = rec.state.journal.as_mut() else {
        report.complete = true;
        return Ok(report);
    };
    if journal.phase != Phase::RollingBack {
        journal.phase = Phase::RollingBack;
        rec.dirty = true;
    }
    report.reason = journal.reason.clone().or(reason.clone());
    resolve_failed_creates(providers, rec.state, &mut report).await;
    rec.dirty = true;

    // The undo set, and the kept replacements.
    let journal = rec.state.journal.as_mut().expect("checked above");
    let mut undo: Vec<usize> = Vec::new();
    for (i, op) in journal.ops.iter_mut().enumerate() {
        let pending = matches!(
            op.status,
            Status::Done | Status::Undoing | Status::UndoFailed
        );
        match op.kind {
            OpKind::Create | OpKind::Update | OpKind::CreateReplacement if pending => undo.push(i),
            OpKind::Recreate if pending => {
                op.status = Status::Kept;
                report.kept.push(op.addr.clone());
            }
            _ => {}
        }
    }
    let total = undo.len();
    let started = journal.started.clone();
    if reason.is_none() {
        progress.event(&Event::RollbackResumed {
            started,
            steps: total,
        });
    } else {
        progress.event(&Event::RollbackStarted {
            reason: report.reason.clone().unwrap_or_default(),
            steps: total,
        });
    }

    // Undo x waits for the undo of every y that depends on x.
    let mut gate = order(rec.state, &undo);
    let mut ready: VecDeque<usize> = (0..undo.len()).filter(|&i| gate.is_free(i)).collect();
    let mut failed = vec![false; undo.len()];
    let mut finished = vec![false; undo.len()];
    let mut limit = Limit::new(opts.parallelism, providers.retries());
    let mut running: FuturesUnordered<Call<'_>> = FuturesUnordered::new();
    let mut stop = opts.interrupt.as_ref().is_some_and(|i| *i.borrow() >= 2);
    loop {
        let mut launch: Vec<(Call<'_>, Event)> = Vec::new();
        while !stop && running.len() + launch.len() < limit.current() {
            let Some(u) = ready.pop_front() else { break };
            let op_i = undo[u];
            let op = &rec.state.journal.as_ref().expect("journal").ops[op_i];
            let (addr, kind, was) = (op.addr.clone(), op.kind, op.status);
            let provider = match providers.get(&op.provider) {
                Ok(p) => p,
                Err(e) => {
                    failed[u] = true;
                    report.failed.push((addr, e));
                    continue;
                }
            };
            let current = rec.state.resources.get(&addr).cloned();
            let before = op.before.clone();
            let Some(current) = current else {
                // Nothing recorded to undo (already gone): done.
                finish(rec.state, op_i, &mut report, kind);
                finished[u] = true;
                gate.release(u, |x| ready.push_back(x));
                rec.dirty = true;
                continue;
            };
            if let Some(j) = rec.state.journal.as_mut() {
                j.ops[op_i].status = Status::Undoing;
            }
            rec.dirty = true;
            let event = Event::Started {
                addr: addr.clone(),
                verb: verb(kind),
                id: Some(current.id.clone()),
            };
            let call: Call<'_> = match kind {
                OpKind::Update => {
                    let restore = before.map(|b| b.value()).unwrap_or_default();
                    Box::pin(async move {
                        let t = Instant::now();
                        let prior = current.value();
                        let result = provider.update(&addr, &prior, &restore).await.map(Some);
                        Answer {
                            step: u,
                            result,
                            elapsed: t.elapsed(),
                        }
                    })
                }
                _ => Box::pin(async move {
                    let t = Instant::now();
                    let prior = current.value();
                    // A resumed undo may have deleted it already.
                    let gone = matches!(was, Status::Undoing | Status::UndoFailed)
                        && matches!(provider.read(&addr.type_, &prior).await, Ok(None));
                    let result = if gone {
                        Ok(None)
                    } else {
                        provider.delete(&addr, &prior).await.map(|()| None)
                    };
                    Answer {
                        step: u,
                        result,
                        elapsed: t.elapsed(),
                    }
                }),
            };
            launch.push((call, event));
        }
        rec.flush().await?;
        for (call, event) in launch {
            progress.event(&event);
            running.push(call);
        }
        if running.is_empty() {
            break;
        }
        let answer = match opts.interrupt.as_mut() {
            Some(int) => tokio::select! {
                a = running.next() => a,
                changed = int.changed() => {
                    if changed.is_ok() {
                        let presses = *int.borrow();
                        progress.event(&Event::Interrupted { presses });
                        stop |= presses >= 2;
                    } else {
                        opts.interrupt = None;
                    }
                    continue;
                }
            },
            None => running.next().await,
        };
        let mut answers: Vec<Answer> = answer.into_iter().collect();
        while let Some(Some(a)) = running.next().now_or_never() {
            answers.push(a);
        }
        let n = answers.len();
        for a in answers {
            let u = a.step;
            let op_i = undo[u];
            let op = &rec.state.journal.as_ref().expect("journal").ops[op_i];
            let (addr, kind) = (op.addr.clone(), op.kind);
            rec.dirty = true;
            match a.result {
                Ok(restored) => {
                    if let (OpKind::Update, Some(v)) = (kind, restored) {
                        let before = op.before.clone();
                        if let Some(b) = before {
                            rec.state.resources.insert(
                                addr.clone(),
                                ResourceState {
                                    id: v.get("id").as_str().unwrap_or(&b.id).to_string(),
                                    attributes: v.to_json(),
                                    ..b
                                },
                            );
                        }
                    }
                    finish(rec.state, op_i, &mut report, kind);
                    finished[u] = true;
                    progress.event(&Event::Finished {
                        addr,
                        verb: verb(kind),
                        elapsed: a.elapsed,
                        id: None,
                    });
                    gate.release(u, |x| ready.push_back(x));
                }
                Err(e) => {
                    if let Some(j) = rec.state.journal.as_mut() {
                        j.ops[op_i].status = Status::UndoFailed;
                        j.ops[op_i].error = Some(e.to_string());
                    }
                    failed[u] = true;
                    progress.event(&Event::Failed {
                        addr: addr.clone(),
                        verb: verb(kind),
                        elapsed: a.elapsed,
                        error: e.clone(),
                    });
                    report.failed.push((addr, e));
                }
            }
        }
        if let Some(n) = limit.observe(providers.retries(), n) {
            progress.event(&Event::Parallelism {
                limit: n,
                retries: providers.retries(),
            });
        }
    }
    for (u, &op_i) in undo.iter().enumerate() {
        if !finished[u] && !failed[u] {
            let op = &rec.state.journal.as_ref().expect("journal").ops[op_i];
            report.blocked.push(op.addr.clone());
        }
    }
    report.complete = report.failed.is_empty() && report.blocked.is_empty();
    if report.complete {
        rec.state.journal = None;
    }
    rec.dirty = true;
    rec.flush().await?;
    progress.event(&Event::RollbackFinished {
        undone: report.undone.len(),
        failed: report.failed.len() + report.blocked.len(),
    });
    Ok(report)
}

/// Marks op `i` undone and settles the state: a created object is forgotten, a
/// replaced one is current again.
fn finish(state: &mut State, i: usize, report: &mut RollbackReport, kind: OpKind) {
    let Some(j) = state.journal.as_mut() else {
        return;
    };
    let op = &mut j.ops[i];
    op.status = Status::Undone;
    op.error = None;
    let addr = op.addr.clone();
    let before = op.before.clone();
    report.undone.push((addr.clone(), verb(kind)));
    match kind {
        OpKind::Create => {
            state.resources.remove(&addr);
        }
        OpKind::CreateReplacement => {
            state.resources.remove(&addr);
            let old_id = before.as_ref().map(|b| b.id.clone());
            let pos = state
                .deposed
                .iter()
                .position(|d| d.addr == addr && Some(&d.resource.id) == old_id.as_ref());
            if let Some(p) = pos {
                let d = state.deposed.remove(p);
                state.resources.insert(addr, d.resource);
            } else if let Some(b) = before {
                state.resources.insert(addr, b);
            }
        }
        _ => {}
    }
}

/// When each undo may start: after the undos of the ops that depend on it, directly or
/// through other resources (see [`dependents_first`]).
fn order(state: &State, undo: &[usize]) -> Gate {
    let mut gate = Gate::new(undo.len());
    let Some(j) = state.journal.as_ref() else {
        return gate;
    };
    // Every address state or the journal knows, with what it was recorded to depend on.
    struct Nodes<'s> {
        node: HashMap<&'s ResourceAddr, usize>,
        addrs: Vec<&'s ResourceAddr>,
        deps: Vec<Vec<&'s ResourceAddr>>,
    }
    impl<'s> Nodes<'s> {
        fn add(&mut self, addr: &'s ResourceAddr, recorded: &'s [ResourceAddr]) -> usize {
            let n = *self.node.entry(addr).or_insert_with(|| {
                self.addrs.push(addr);
                self.deps.push(Vec::new());
                self.addrs.len() - 1
            });
            self.deps[n].extend(recorded);
            n
        }
    }
    let mut nodes = Nodes {
        node: HashMap::new(),
        addrs: Vec::new(),
        deps: Vec::new(),
    };
    for (addr, r) in &state.resources {
        nodes.add(addr, &r.dependencies);
    }
    let mut undos_of_op: HashMap<usize, Vec<usize>> = HashMap::new();
    for (u, &i) in undo.iter().enumerate() {
        undos_of_op.entry(i).or_default().push(u);
    }
    let mut undos_at: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut members: Vec<usize> = Vec::new();
    for (i, op) in j.ops.iter().enumerate() {
        let n = nodes.add(&op.addr, &op.dependencies);
        for &u in undos_of_op.get(&i).into_iter().flatten() {
            let at = undos_at.entry(n).or_default();
            if at.is_empty() {
                members.push(n);
            }
            at.push(u);
        }
    }
    let index: AddrIndex<usize> = nodes
        .addrs
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, i))
        .collect();
    let w = dependents_first(&nodes.deps, &index, &members);
    for (p, n) in members.iter().enumerate() {
        for &u in &undos_at[n] {
            for &q in &w.after[p] {
                for &y in &undos_at[&members[q]] {
                    gate.wait(u, y);
                }
            }
            for &jn in &w.after_joins[p] {
                gate.wait_join(u, jn);
            }
        }
    }
    for (jn, ps) in w.joins.iter().enumerate() {
        for &q in ps {
            for &y in &undos_at[&members[q]] {
                gate.join(y, jn);
            }
        }
    }
    gate.seal();
    gate
}

/// A create that failed may still have taken effect (its answer lost on the way): look
/// for an object carrying its ownership tags, and let rollback remove it.
async fn resolve_failed_creates<P: Provider>(
    providers: &ProviderSet<P>,
    state: &mut State,
    report: &mut RollbackReport,
) {
    let Some(j) = state.journal.as_ref() else {
        return;
    };
    let failed: Vec<usize> = j
        .ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.status == Status::Failed && o.kind.creates() && o.config.is_some())
        .map(|(i, _)| i)
        .collect();
    for i in failed {
        let op = state.journal.as_ref().expect("journal").ops[i].clone();
        let Ok(provider) = providers.get(&op.provider) else {
            continue;
        };
        let config = op.config.clone().unwrap_or(Value::Null);
        let found = match provider.find(&op.addr, &config, &op.token, true).await {
            Ok(found) => match super::recover::unrecorded(state, &op.type_, found) {
                Some(v) => v,
                None => continue,
            },
            Err(e) => {
                report.failed.push((op.addr.clone(), e));
                continue;
            }
        };
        let entry = ResourceState {
            type_: op.type_.clone(),
            provider: op.provider.clone(),
            id: found.get("id").as_str().unwrap_or_default().to_string(),
            attributes: found.to_json(),
            dependencies: op.dependencies.clone(),
            sensitive_attributes: op.sensitive.clone(),
        };
        match op.kind {
            OpKind::CreateReplacement => {
                // The old object is current again; the stray new one goes now.
                if let Err(e) = provider.delete(&op.addr, &found).await {
                    report.failed.push((op.addr.clone(), e));
                }
            }
            _ if !state.resources.contains_key(&op.addr) => {
                state.resources.insert(op.addr.clone(), entry);
                if let Some(j) = state.journal.as_mut() {
                    j.ops[i].status = Status::Done;
                }
            }
            _ => {}
        }
    }
}
