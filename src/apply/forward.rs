//! The forward half of apply: walks the graph and the plan's steps with a
//! dependency-counting ready queue, makes the planned calls concurrently and journals
//! each one (see the parent module's docs).

use super::events::{Event, Progress, Verb};
use super::gate::Gate;
use super::limit::Limit;
use super::{ApplyError, ApplyReport, Options, Recorder, inconsistent};
use crate::addr::ResourceAddr;
use crate::config::Config;
use crate::eval::{self, Envs, Inputs, InstanceValue, NodeValue, Shape, computed_value};
use crate::graph::{Node, ResourceGraph};
use crate::plan::{Action, Plan, StepKind};
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::state::{Deposed, Op, OpKind, ResourceState, Status};
use crate::value::Value;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// How the forward run ended.
pub(super) enum Outcome {
    /// Every step ran (closing deletes may have failed: see `ApplyReport::cleanup_failed`).
    Completed,
    /// A step failed, an expression could not be evaluated, or Ctrl-C: nothing new was
    /// started after that. `aborted` after a second Ctrl-C: do not roll back now.
    Stopped { aborted: bool },
}

/// A call's answer.
pub(super) struct Answer {
    pub step: usize,
    pub result: Result<Option<Value>, ProviderError>,
    pub elapsed: Duration,
}

pub(super) type Call<'a> = Pin<Box<dyn Future<Output = Answer> + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Waiting,
    Queued,
    Running,
    Done,
    Failed,
}

struct StepRt {
    /// The evaluated configuration of an apply step, once its block was evaluated.
    config: Option<Value>,
    /// The block and instance index it fills in when done.
    slot: Option<(Node, usize)>,
    run: Run,
    /// Index of its op in the journal, once started.
    op: Option<usize>,
}

/// A resource block being applied: its instances, and how many are still running.
struct NodeWork {
    shape: Shape,
    instances: Vec<InstanceValue>,
    left: usize,
}

pub(super) struct Forward<'a, P> {
    config: &'a Config,
    inputs: &'a Inputs,
    plan: &'a Plan,
    providers: &'a ProviderSet<P>,
    envs: Envs,
    /// Address -> change (current objects only).
    by_addr: HashMap<&'a ResourceAddr, usize>,
    /// Change -> its apply step.
    apply_step: HashMap<usize, usize>,
    waiting: HashMap<Node, usize>,
    dependents: HashMap<Node, Vec<Node>>,
    ready_nodes: VecDeque<Node>,
    work: HashMap<Node, NodeWork>,
    rt: Vec<StepRt>,
    /// What each step still waits for.
    gate: Gate,
    reversible_left: usize,
    applies_left: usize,
    launchable: VecDeque<usize>,
    stopping: bool,
    aborted: bool,
    report: ApplyReport,
}

impl<'a, P: Provider> Forward<'a, P> {
    pub(super) fn new(
        config: &'a Config,
        graph: &'a ResourceGraph,
        inputs: &'a Inputs,
        plan: &'a Plan,
        providers: &'a ProviderSet<P>,
    ) -> Self {
        let by_addr = plan
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.deposed)
            .map(|(i, c)| (&c.addr, i))
            .collect();
        let mut apply_step = HashMap::new();
        let mut gate = Gate::new(plan.steps.len());
        let mut rt = Vec::with_capacity(plan.steps.len());
        let (mut reversible_left, mut applies_left) = (0, 0);
        for (i, s) in plan.steps.iter().enumerate() {
            if s.kind == StepKind::Apply {
                apply_step.insert(s.change, i);
                applies_left += 1;
                if s.gates_irreversible {
                    reversible_left += 1;
                }
            }
            for &a in &s.after {
                gate.wait(i, a);
            }
            for &j in &s.after_joins {
                gate.wait_join(i, j);
            }
            for &j in &s.in_joins {
                gate.join(i, j);
            }
            rt.push(StepRt {
                config: None,
                slot: None,
                run: Run::Waiting,
                op: None,
            });
        }
        gate.seal();
        let mut waiting = HashMap::new();
        let mut dependents: HashMap<Node, Vec<Node>> = HashMap::new();
        let mut ready_nodes = VecDeque::new();
        if !plan.destroy {
            for &n in graph.order() {
                let deps: Vec<Node> = graph.dependencies(n).collect();
                if deps.is_empty() {
                    ready_nodes.push_back(n);
                }
                for d in &deps {
                    dependents.entry(*d).or_default().push(n);
                }
                waiting.insert(n, deps.len());
            }
        }
        Forward {
            config,
            inputs,
            plan,
            providers,
            envs: Envs::new(config),
            by_addr,
            apply_step,
            waiting,
            dependents,
            ready_nodes,
            work: HashMap::new(),
            rt,
            gate,
            reversible_left,
            applies_left,
            launchable: VecDeque::new(),
            stopping: false,
            aborted: false,
            report: ApplyReport::default(),
        }
    }

    pub(super) async fn run(
        mut self,
        rec: &mut Recorder<'_>,
        opts: &mut Options,
        progress: &mut dyn Progress,
    ) -> Result<(ApplyReport, Outcome), ApplyError> {
        for s in 0..self.rt.len() {
            self.try_ready(s);
        }
        let mut limit = Limit::new(opts.parallelism, self.providers.retries());
        let mut running: FuturesUnordered<Call<'a>> = FuturesUnordered::new();
        loop {
            self.eval_ready(rec, progress).await;
            let mut launch: Vec<(Call<'a>, Event)> = Vec::new();
            while !self.stopping && running.len() + launch.len() < limit.current() {
                let Some(s) = self.launchable.pop_front() else {
                    break;
                };
                if let Some(call) = self.start(s, rec) {
                    launch.push(call);
                }
                // A step with nothing to do finishes at once and may release others.
                self.eval_ready(rec, progress).await;
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
                Some(int) => {
                    tokio::select! {
                        a = running.next() => a,
                        changed = int.changed() => {
                            if changed.is_ok() {
                                let presses = *int.borrow();
                                self.interrupted(presses, progress);
                            } else {
                                opts.interrupt = None;
                            }
                            continue;
                        }
                    }
                }
                None => running.next().await,
            };
            let mut answered = 0;
            if let Some(a) = answer {
                self.complete(a, rec, progress);
                answered += 1;
            }
            while let Some(Some(a)) = running.next().now_or_never() {
                self.complete(a, rec, progress);
                answered += 1;
            }
            if let Some(n) = limit.observe(self.providers.retries(), answered) {
                progress.event(&Event::Parallelism {
                    limit: n,
                    retries: self.providers.retries(),
                });
            }
        }
        rec.flush().await?;
        if self.stopping {
            return Ok((
                self.report,
                Outcome::Stopped {
                    aborted: self.aborted,
                },
            ));
        }
        if let Some(s) = self.rt.iter().position(|r| r.run != Run::Done) {
            // Only a failed closing delete leaves steps behind without stopping.
            if !self.report.cleanup_failed {
                let c = &self.plan.changes[self.plan.steps[s].change];
                return Err(ApplyError::Eval(format!(
                    "{}: its step never became ready; the plan's schedule is inconsistent. Run keel plan again",
                    c.addr
                )));
            }
        }
        self.report.outputs = std::mem::take(&mut self.envs.outputs);
        Ok((self.report, Outcome::Completed))
    }

    fn interrupted(&mut self, presses: u32, progress: &mut dyn Progress) {
        progress.event(&Event::Interrupted { presses });
        if presses >= 1 {
            self.stopping = true;
            self.report.interrupted = true;
        }
        if presses >= 2 {
            self.aborted = true;
        }
    }

    /// Stops: nothing new starts. A forward failure leads to rollback.
    fn stop(&mut self) {
        self.stopping = true;
    }

    fn try_ready(&mut self, s: usize) {
        let step = &self.plan.steps[s];
        let r = &self.rt[s];
        if r.run != Run::Waiting
            || !self.gate.is_free(s)
            || (step.after_reversible && self.reversible_left > 0)
            || (step.after_applies && self.applies_left > 0)
            || (step.kind == StepKind::Apply && r.config.is_none())
        {
            return;
        }
        self.rt[s].run = Run::Queued;
        self.launchable.push_back(s);
    }

    /// Evaluates every node whose dependencies are done. Non-resource nodes are stored at
    /// once; a resource node's planned instances become ready steps.
    async fn eval_ready(&mut self, rec: &Recorder<'_>, progress: &mut dyn Progress) {
        while let Some(node) = self.ready_nodes.pop_front() {
            if self.stopping && self.report.diagnostics.is_some() {
                return;
            }
            let value = match eval::eval_node(self.config, node, self.inputs, &self.envs) {
                // A data source the plan deferred is read here, once what it depends on
                // is applied (rare: the scheduler waits for the read).
                Ok(NodeValue::Data(shape, instances)) => {
                    super::data::resolve(
                        self.config,
                        node,
                        self.plan,
                        shape,
                        instances,
                        self.providers,
                        progress,
                    )
                    .await
                }
                other => other,
            };
            let value = match value {
                Ok(v) => v,
                Err(d) => {
                    self.report.diagnostics = Some(d);
                    self.stop();
                    return;
                }
            };
            let NodeValue::Resource(shape, mut instances) = value else {
                self.envs.store(self.config, node, value);
                self.finish_node(node);
                continue;
            };
            let mut left = 0;
            for (k, instance) in instances.iter_mut().enumerate() {
                let addr = instance.addr.clone();
                let Some(&ci) = self.by_addr.get(&addr) else {
                    self.fail_now(
                        &addr,
                        format!(
                            "{addr} is in the configuration but not in the plan; run keel plan again"
                        ),
                    );
                    return;
                };
                let change = &self.plan.changes[ci];
                let value = std::mem::take(&mut instance.value);
                if let Some(path) = inconsistent(&change.config, &value) {
                    self.fail_now(
                        &addr,
                        format!(
                            "the value of {path} differs from the plan; the configuration or its inputs changed since planning. Run keel plan again"
                        ),
                    );
                    return;
                }
                match self.apply_step.get(&ci) {
                    Some(&s) => {
                        if value.has_unknown() {
                            self.fail_now(
                                &addr,
                                "some of its arguments are still unknown after everything it depends on was applied".into(),
                            );
                            return;
                        }
                        instance.value = value.clone();
                        self.rt[s].config = Some(value);
                        self.rt[s].slot = Some((node, k));
                        left += 1;
                    }
                    None => {
                        let prior = rec.state.resources.get(&addr).map(|r| r.value());
                        instance.value = computed_value(&addr.type_, &value, prior.as_ref());
                    }
                }
            }
            if left == 0 {
                self.envs
                    .store(self.config, node, NodeValue::Resource(shape, instances));
                self.finish_node(node);
            } else {
                let steps: Vec<usize> = instances
                    .iter()
                    .filter_map(|i| self.by_addr.get(&i.addr))
                    .filter_map(|ci| self.apply_step.get(ci).copied())
                    .collect();
                self.work.insert(
                    node,
                    NodeWork {
                        shape,
                        instances,
                        left,
                    },
                );
                for s in steps {
                    self.try_ready(s);
                }
            }
        }
    }

    /// An error found before any call: recorded as the step's failure.
    fn fail_now(&mut self, addr: &ResourceAddr, message: String) {
        self.report.fail(addr, ProviderError::new(message));
        self.stop();
    }

    fn finish_node(&mut self, node: Node) {
        for d in self.dependents.get(&node).cloned().unwrap_or_default() {
            let w = self.waiting.get_mut(&d).expect("every node counted");
            *w -= 1;
            if *w == 0 {
                self.ready_nodes.push_back(d);
            }
        }
    }

    /// Records the intent of step `s` in the journal (and, for a create-first
    /// replacement, deposes the old object) and returns its call; `None` when there is
    /// nothing to do (the step is done at once).
    fn start(&mut self, s: usize, rec: &mut Recorder<'_>) -> Option<(Call<'a>, Event)> {
        let step = &self.plan.steps[s];
        let change = &self.plan.changes[step.change];
        let addr = change.addr.clone();
        let provider = match self.providers.get(&change.provider) {
            Ok(p) => p,
            Err(e) => {
                self.rt[s].run = Run::Failed;
                self.report.fail(&addr, e);
                self.stop();
                return None;
            }
        };
        let state = &mut *rec.state;
        let (kind, before, verb) = match (step.kind, change.action) {
            (StepKind::Apply, Action::Update) => (
                OpKind::Update,
                state.resources.get(&addr).cloned(),
                Verb::Update,
            ),
            (StepKind::Apply, Action::CreateThenDelete) => {
                let old = state.resources.remove(&addr);
                if let Some(old) = &old {
                    state.deposed.push(Deposed {
                        addr: addr.clone(),
                        resource: old.clone(),
                    });
                }
                (OpKind::CreateReplacement, old, Verb::Replace)
            }
            (StepKind::Apply, Action::DeleteThenCreate) => (OpKind::Recreate, None, Verb::Replace),
            (StepKind::Apply, _) => (OpKind::Create, None, Verb::Create),
            (StepKind::Delete, _) => {
                let deposed = change.deposed || change.action == Action::CreateThenDelete;
                let old_id = change
                    .before
                    .as_ref()
                    .and_then(|b| b.get("id").as_str().map(str::to_string));
                let found = if deposed {
                    state
                        .deposed
                        .iter()
                        .find(|d| d.addr == addr && Some(&d.resource.id) == old_id.as_ref())
                        .or_else(|| state.deposed.iter().find(|d| d.addr == addr))
                        .map(|d| d.resource.clone())
                } else {
                    state.resources.get(&addr).cloned()
                };
                let Some(found) = found else {
                    // Already gone from state: nothing to delete.
                    self.step_done(s);
                    return None;
                };
                let kind = if deposed {
                    OpKind::DeleteDeposed
                } else {
                    OpKind::Delete
                };
                let verb = if deposed {
                    Verb::DeleteDeposed
                } else {
                    Verb::Delete
                };
                (kind, Some(found), verb)
            }
        };
        let token = if kind.creates() {
            state
                .create_tokens
                .get(&addr)
                .cloned()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        } else {
            String::new()
        };
        let config = self.rt[s].config.take();
        let journal = rec.journal();
        let op = journal.ops.len();
        journal.ops.push(Op {
            addr: addr.clone(),
            kind,
            status: Status::Started,
            type_: addr.type_.clone(),
            provider: change.provider.clone(),
            token: token.clone(),
            config: config.clone().filter(|_| kind.creates()),
            before: before.clone(),
            dependencies: change.dependencies.clone(),
            sensitive: self
                .plan
                .sensitive_attrs
                .get(&addr)
                .map(|m| m.iter().cloned().collect())
                .unwrap_or_default(),
            error: None,
        });
        rec.dirty = true;
        self.rt[s].op = Some(op);
        self.rt[s].run = Run::Running;
        let id = before.as_ref().map(|b| b.id.clone());
        let event = Event::Started {
            addr: addr.clone(),
            verb,
            id: id.clone(),
        };
        let call: Call<'a> = match kind {
            OpKind::Update => {
                let prior = before.map(|b| b.value()).unwrap_or_default();
                let config = config.unwrap_or_default();
                Box::pin(async move {
                    let t = Instant::now();
                    let result = provider.update(&addr, &prior, &config).await.map(Some);
                    Answer {
                        step: s,
                        result,
                        elapsed: t.elapsed(),
                    }
                })
            }
            OpKind::Delete | OpKind::DeleteDeposed => {
                let prior = before.map(|b| b.value()).unwrap_or_default();
                Box::pin(async move {
                    let t = Instant::now();
                    let result = provider.delete(&addr, &prior).await.map(|()| None);
                    Answer {
                        step: s,
                        result,
                        elapsed: t.elapsed(),
                    }
                })
            }
            _ => {
                let config = config.unwrap_or_default();
                Box::pin(async move {
                    let t = Instant::now();
                    let result = provider.create_once(&addr, &config, &token).await.map(Some);
                    Answer {
                        step: s,
                        result,
                        elapsed: t.elapsed(),
                    }
                })
            }
        };
        Some((call, event))
    }

    /// Records a call's answer (in memory; the next write makes it durable before
    /// anything it releases starts).
    fn complete(&mut self, a: Answer, rec: &mut Recorder<'_>, progress: &mut dyn Progress) {
        let s = a.step;
        let step = &self.plan.steps[s];
        let change = &self.plan.changes[step.change];
        let addr = change.addr.clone();
        let op = self.rt[s].op.expect("a running step has an op");
        rec.dirty = true;
        let state = &mut *rec.state;
        let kind = state.journal.as_ref().map(|j| j.ops[op].kind);
        let Some(kind) = kind else {
            return;
        };
        let verb = match kind {
            OpKind::Update => Verb::Update,
            OpKind::CreateReplacement | OpKind::Recreate => Verb::Replace,
            OpKind::Create => Verb::Create,
            OpKind::Delete => Verb::Delete,
            OpKind::DeleteDeposed => Verb::DeleteDeposed,
        };
        match a.result {
            Ok(object) => {
                let mut id = None;
                match (kind, object) {
                    (OpKind::Delete, _) => {
                        state.resources.remove(&addr);
                        self.report.destroyed += 1;
                    }
                    (OpKind::DeleteDeposed, _) => {
                        let old = state
                            .journal
                            .as_ref()
                            .and_then(|j| j.ops[op].before.clone());
                        let old_id = old.map(|o| o.id);
                        if let Some(i) = state
                            .deposed
                            .iter()
                            .position(|d| d.addr == addr && Some(&d.resource.id) == old_id.as_ref())
                        {
                            state.deposed.remove(i);
                        }
                        self.report.destroyed += 1;
                    }
                    (_, object) => {
                        let object = object.unwrap_or_default();
                        let entry = ResourceState {
                            type_: addr.type_.clone(),
                            provider: change.provider.clone(),
                            id: object.get("id").as_str().unwrap_or_default().to_string(),
                            attributes: object.to_json(),
                            dependencies: change.dependencies.clone(),
                            // What the configuration marks now, as Terraform records it.
                            sensitive_attributes: self
                                .plan
                                .sensitive_attrs
                                .get(&addr)
                                .map(|m| m.iter().cloned().collect())
                                .unwrap_or_default(),
                        };
                        id = Some(entry.id.clone());
                        state.resources.insert(addr.clone(), entry);
                        state.create_tokens.remove(&addr);
                        match kind {
                            OpKind::Update => self.report.changed += 1,
                            _ => self.report.added += 1,
                        }
                        // What references to it see from now on.
                        if let Some((node, k)) = self.rt[s].slot
                            && let Some(w) = self.work.get_mut(&node)
                        {
                            let inst = &mut w.instances[k];
                            inst.value = computed_value(&addr.type_, &inst.value, Some(&object));
                            w.left -= 1;
                            if w.left == 0 {
                                let w = self.work.remove(&node).expect("present");
                                self.envs.store(
                                    self.config,
                                    node,
                                    NodeValue::Resource(w.shape, w.instances),
                                );
                                self.finish_node(node);
                            }
                        }
                    }
                }
                if let Some(j) = state.journal.as_mut() {
                    j.ops[op].status = Status::Done;
                    j.ops[op].config = None;
                    if !matches!(kind, OpKind::Update | OpKind::CreateReplacement) {
                        j.ops[op].before = None;
                    }
                }
                progress.event(&Event::Finished {
                    addr,
                    verb,
                    elapsed: a.elapsed,
                    id,
                });
                self.step_done(s);
            }
            Err(e) => {
                if let Some(j) = state.journal.as_mut() {
                    j.ops[op].status = Status::Failed;
                    j.ops[op].error = Some(e.to_string());
                }
                if kind == OpKind::CreateReplacement {
                    // Nothing replaced the old object: it is current again.
                    if let Some(i) = state.deposed.iter().rposition(|d| d.addr == addr) {
                        let d = state.deposed.remove(i);
                        state.resources.insert(addr.clone(), d.resource);
                    }
                }
                self.rt[s].run = Run::Failed;
                progress.event(&Event::Failed {
                    addr: addr.clone(),
                    verb,
                    elapsed: a.elapsed,
                    error: e.clone(),
                });
                self.report.fail(&addr, e);
                if step.after_applies {
                    // A closing delete: creates and updates stand; no rollback.
                    self.report.cleanup_failed = true;
                } else {
                    self.stop();
                }
            }
        }
    }

    fn step_done(&mut self, s: usize) {
        self.rt[s].run = Run::Done;
        let step = &self.plan.steps[s];
        if step.kind == StepKind::Apply {
            self.applies_left -= 1;
            let mut opened = self.applies_left == 0;
            if step.gates_irreversible {
                self.reversible_left -= 1;
                opened |= self.reversible_left == 0;
            }
            if opened {
                for i in 0..self.rt.len() {
                    let st = &self.plan.steps[i];
                    if st.after_applies || st.after_reversible {
                        self.try_ready(i);
                    }
                }
            }
        }
        let mut freed = Vec::new();
        self.gate.release(s, |d| freed.push(d));
        for d in freed {
            self.try_ready(d);
        }
    }
}
