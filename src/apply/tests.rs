//! The executor against the in-memory provider: eager scheduling (measured against the
//! critical path), journaling, rollback in reverse dependency order, resumed rollbacks
//! and recovery of a create keel never saw answered.

use super::*;
use crate::config::testing::load_ok;
use crate::graph::{self, ResourceGraph};
use crate::providers::memory::MemoryProvider;
use crate::state::{Backend, OpKind, Status};
use std::time::{Duration, Instant};

struct Fixture {
    _root: tempfile::TempDir,
    config: Config,
    graph: ResourceGraph,
    state_dir: tempfile::TempDir,
}

fn fixture(hcl: &str) -> Fixture {
    let (root, config) = load_ok(&[("stack/main.hcl", hcl)]);
    let graph = graph::build(&config).expect("graph");
    Fixture {
        _root: root,
        config,
        graph,
        state_dir: tempfile::tempdir().expect("tempdir"),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

impl Fixture {
    fn backend(&self) -> Backend {
        Backend::local(self.state_dir.path().join("s.json"), "stack")
    }

    /// Plans against `state` and applies; returns the report and the state writes made.
    fn apply(
        &self,
        state: &mut State,
        provider: &ProviderSet<MemoryProvider>,
        opts: &Options,
    ) -> (ApplyReport, usize, Vec<Event>) {
        let (report, writes, events, _) = self.timed_apply(state, provider, opts);
        (report, writes, events)
    }

    /// As [`Fixture::apply`], with the time the apply itself took (planning excluded).
    fn timed_apply(
        &self,
        state: &mut State,
        provider: &ProviderSet<MemoryProvider>,
        opts: &Options,
    ) -> (ApplyReport, usize, Vec<Event>, Duration) {
        self.run(state, provider, opts, false)
    }

    /// Plans a destroy against `state` and applies it.
    fn destroy(&self, state: &mut State, provider: &ProviderSet<MemoryProvider>) -> ApplyReport {
        self.run(state, provider, &Options::default(), true).0
    }

    fn run(
        &self,
        state: &mut State,
        provider: &ProviderSet<MemoryProvider>,
        opts: &Options,
        destroy: bool,
    ) -> (ApplyReport, usize, Vec<Event>, Duration) {
        let plan = crate::plan::plan(
            &self.config,
            &self.graph,
            &Inputs::default(),
            state,
            destroy,
        )
        .expect("plan");
        let backend = self.backend();
        block_on(async {
            let lock = backend.lock("apply").await.unwrap();
            let mut rec = Recorder::new(&backend, &lock, state);
            let mut events = Vec::new();
            let mut progress = |e: &Event| events.push(e.clone());
            let start = Instant::now();
            let report = apply(
                &self.config,
                &self.graph,
                &Inputs::default(),
                &plan,
                provider,
                &mut rec,
                opts,
                &mut progress,
            )
            .await
            .expect("apply runs");
            let took = start.elapsed();
            let writes = rec.writes;
            (report, writes, events, took)
        })
    }

    fn stored(&self) -> State {
        block_on(self.backend().read()).unwrap().unwrap()
    }
}

fn provider() -> ProviderSet<MemoryProvider> {
    ProviderSet::single(MemoryProvider::default())
}

fn mem(p: &ProviderSet<MemoryProvider>) -> &MemoryProvider {
    p.get(&Default::default()).unwrap()
}

/// The calls made so far whose names start with `prefix` ("create aws_iam_role."), with
/// when each started and ended.
fn calls(p: &ProviderSet<MemoryProvider>, prefix: &str) -> Vec<(String, Instant, Instant)> {
    let spans = mem(p).spans.lock().unwrap();
    spans
        .iter()
        .filter(|(c, _, _)| c.starts_with(prefix))
        .cloned()
        .collect()
}

/// A VPC with three subnets, an instance in each, and an unrelated bucket: chains of
/// different lengths.
const CLUSTER: &str = r#"
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "s" {
  count      = 3
  vpc_id     = aws_vpc.main.id
  cidr_block = cidrsubnet("10.0.0.0/16", 8, count.index)
}

resource "aws_instance" "node" {
  count     = 3
  subnet_id = aws_subnet.s[count.index].id
  ami       = "ami-1"
}

resource "aws_s3_bucket" "data" {
  bucket = "data"
}
"#;

fn latencies(p: &ProviderSet<MemoryProvider>, l: &[(&str, u64)]) {
    let mut m = mem(p).latencies.lock().unwrap();
    for (a, ms) in l {
        m.insert(a.to_string(), Duration::from_millis(*ms));
    }
}

#[test]
fn steps_start_as_soon_as_their_dependencies_are_done() {
    let f = fixture(CLUSTER);
    let p = provider();
    latencies(
        &p,
        &[
            ("aws_vpc.main", 200),
            ("aws_s3_bucket.data", 500),
            ("aws_subnet.s[0]", 100),
            ("aws_subnet.s[1]", 100),
            ("aws_subnet.s[2]", 100),
            ("aws_instance.node[0]", 300),
            ("aws_instance.node[1]", 300),
            ("aws_instance.node[2]", 300),
        ],
    );
    let mut state = State::new("stack");
    let (report, writes, _, wall) = f.timed_apply(&mut state, &p, &Options::default());
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.added, 8);
    let spans = mem(&p).spans.lock().unwrap().clone();
    let start = spans.iter().map(|s| s.1).min().unwrap();
    let at = |call: &str| {
        spans
            .iter()
            .find(|(c, _, _)| c == call)
            .map(|(_, s, e)| (*s - start, *e - start))
            .unwrap_or_else(|| panic!("{call} ran"))
    };
    // The bucket depends on nothing: it starts with the VPC, not after it.
    assert!(at("create aws_s3_bucket.data").0 < Duration::from_millis(100));
    // Subnets start right after the VPC, together; instances right after the subnets.
    let vpc_end = at("create aws_vpc.main").1;
    for i in 0..3 {
        let s = at(&format!("create aws_subnet.s[{i}]")).0;
        assert!(
            s >= vpc_end && s - vpc_end < Duration::from_millis(80),
            "{s:?}"
        );
    }
    // The critical path is VPC, subnet, instance: 600 ms.
    let critical = Duration::from_millis(600);
    let ratio = wall.as_secs_f64() / critical.as_secs_f64();
    assert!(
        ratio < 1.25,
        "wall {wall:?} against critical path {critical:?}"
    );
    // One state write per wake-up, not two per step.
    assert!(writes < 2 * 8, "{writes} writes");
    assert!(
        f.stored().journal.is_none(),
        "a finished apply leaves no journal"
    );
}

/// Nine roles and eight buckets that each read the first role: the bucket block depends
/// on the whole role block, 9 x 8 instance pairs.
const FAN_IN: &str = r#"
resource "aws_iam_role" "r" {
  count              = 9
  name               = "r-${count.index}"
  assume_role_policy = "{}"
}

resource "aws_s3_bucket" "b" {
  count  = 8
  bucket = "b-${count.index}"
  tags = {
    role = aws_iam_role.r[0].name
  }
}
"#;

#[test]
fn a_block_reading_a_counted_block_waits_for_every_instance_of_it() {
    // Plans record the role block once per bucket, not each role: apply still starts no
    // bucket before the last role is created, however the latencies fall.
    let f = fixture(FAN_IN);
    let p = provider();
    latencies(
        &p,
        &[
            ("aws_iam_role.r[0]", 10),
            ("aws_iam_role.r[1]", 10),
            ("aws_iam_role.r[2]", 150),
        ],
    );
    let mut state = State::new("stack");
    let (report, _, _) = f.apply(&mut state, &p, &Options::default());
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.added, 17);
    assert_eq!(
        state.resources[&"aws_s3_bucket.b[2]".parse().unwrap()].dependencies,
        vec!["aws_iam_role.r".parse().unwrap()]
    );
    let last_role = calls(&p, "create aws_iam_role.")
        .iter()
        .map(|(_, _, e)| *e)
        .max()
        .unwrap();
    let buckets = calls(&p, "create aws_s3_bucket.");
    assert_eq!(buckets.len(), 8);
    for (c, start, _) in buckets {
        assert!(
            start >= last_role,
            "{c} started before the last role was created"
        );
    }

    // Destroyed, the buckets go before any role: 9 x 8 waits, through one join.
    let plan = crate::plan::plan(&f.config, &f.graph, &Inputs::default(), &state, true).unwrap();
    let role_deletes: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| plan.changes[s.change].addr.type_ == "aws_iam_role")
        .collect();
    assert_eq!(role_deletes.len(), 9);
    assert!(
        role_deletes
            .iter()
            .all(|s| s.after.is_empty() && s.after_joins == [0])
    );
    latencies(&p, &[("aws_s3_bucket.b[5]", 120)]);
    mem(&p).spans.lock().unwrap().clear();
    let report = f.destroy(&mut state, &p);
    assert!(report.succeeded(), "{report:?}");
    let first_role_delete = calls(&p, "delete aws_iam_role.")
        .iter()
        .map(|(_, s, _)| *s)
        .min()
        .unwrap();
    let last_bucket_delete = calls(&p, "delete aws_s3_bucket.")
        .iter()
        .map(|(_, _, e)| *e)
        .max()
        .unwrap();
    assert!(
        last_bucket_delete <= first_role_delete,
        "{:?}",
        calls(&p, "delete")
    );
    assert!(state.resources.is_empty());
}

#[test]
fn rollback_undoes_a_block_reading_a_counted_block_before_any_of_it() {
    let f = fixture(&format!(
        r#"{FAN_IN}
resource "aws_vpc" "last" {{
  cidr_block = "10.0.0.0/16"
  tags = {{
    buckets = length(aws_s3_bucket.b[*].id)
  }}
}}
"#
    ));
    let p = provider();
    latencies(&p, &[("aws_s3_bucket.b[3]", 120)]);
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_vpc.last".into());
    let mut state = State::new("stack");
    let (report, _, _) = f.apply(&mut state, &p, &Options::default());
    let rb = report.rollback.as_ref().expect("rolled back");
    assert!(rb.complete, "{rb:?}");
    assert!(mem(&p).objects.lock().unwrap().is_empty());
    assert!(state.resources.is_empty());
    let first_role_delete = calls(&p, "delete aws_iam_role.")
        .iter()
        .map(|(_, s, _)| *s)
        .min()
        .unwrap();
    let bucket_deletes = calls(&p, "delete aws_s3_bucket.");
    assert_eq!(bucket_deletes.len(), 8);
    for (c, _, end) in bucket_deletes {
        assert!(
            end <= first_role_delete,
            "{c} was still running when a role went"
        );
    }
}

#[test]
fn parallelism_bounds_the_calls_in_flight() {
    let f = fixture(CLUSTER);
    let p = provider();
    *mem(&p).latency.lock().unwrap() = Duration::from_millis(30);
    let mut state = State::new("stack");
    let opts = Options {
        parallelism: 1,
        ..Options::default()
    };
    let (report, _, _) = f.apply(&mut state, &p, &opts);
    assert!(report.succeeded());
    let mut spans = mem(&p).spans.lock().unwrap().clone();
    spans.sort_by_key(|s| s.1);
    for w in spans.windows(2) {
        assert!(w[1].1 >= w[0].2, "{} overlaps {}", w[1].0, w[0].0);
    }
}

#[test]
fn a_failure_rolls_back_completed_steps_dependents_first() {
    let f = fixture(CLUSTER);
    let p = provider();
    latencies(&p, &[("aws_s3_bucket.data", 50)]);
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_instance.node[1]".into());
    let mut state = State::new("stack");
    let before = state.resources.clone();
    let (report, _, events) = f.apply(&mut state, &p, &Options::default());
    assert!(!report.succeeded());
    let (addr, err) = report.failure.clone().unwrap();
    assert_eq!(addr.to_string(), "aws_instance.node[1]");
    assert_eq!(err.code.as_deref(), Some("InjectedFault"));
    let rb = report.rollback.as_ref().expect("rolled back");
    assert!(rb.complete, "{rb:?}");
    // The cloud holds nothing, the state what it held before.
    assert!(mem(&p).objects.lock().unwrap().is_empty());
    assert_eq!(state.resources, before);
    assert!(state.journal.is_none());
    assert_eq!(f.stored().resources, before);
    // Undone in reverse: instances before their subnets, subnets before the VPC.
    let calls = mem(&p).calls.lock().unwrap().clone();
    let pos = |c: &str| calls.iter().position(|x| x == c).unwrap_or(usize::MAX);
    for i in [0, 2] {
        if pos(&format!("create aws_instance.node[{i}]")) != usize::MAX {
            assert!(
                pos(&format!("delete aws_instance.node[{i}]"))
                    < pos(&format!("delete aws_subnet.s[{i}]"))
            );
        }
    }
    for i in 0..3 {
        assert!(pos(&format!("delete aws_subnet.s[{i}]")) < pos("delete aws_vpc.main"));
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::RollbackStarted { .. }))
    );
}

#[test]
fn no_rollback_keeps_partial_progress() {
    let f = fixture(CLUSTER);
    let p = provider();
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_instance.node[1]".into());
    let mut state = State::new("stack");
    let opts = Options {
        rollback: false,
        ..Options::default()
    };
    let (report, _, _) = f.apply(&mut state, &p, &opts);
    assert!(report.rollback.is_none());
    assert!(
        state
            .resources
            .contains_key(&"aws_vpc.main".parse().unwrap())
    );
    assert_eq!(
        state.resources.len(),
        mem(&p).objects.lock().unwrap().len(),
        "state records every object that exists"
    );
    assert!(state.journal.is_none());
}

#[test]
fn an_update_is_rolled_back_to_its_recorded_attributes() {
    let f = fixture(CLUSTER);
    let p = provider();
    let mut state = State::new("stack");
    assert!(f.apply(&mut state, &p, &Options::default()).0.succeeded());
    let before = state.resources.clone();
    let changed = fixture(
        &(CLUSTER.replace(
            "bucket = \"data\"",
            "bucket = \"data\"\n  tags = { team = \"ml\" }",
        ) + "resource \"aws_vpc\" \"extra\" {\n  cidr_block = \"10.9.0.0/16\"\n  tags = { Name = aws_s3_bucket.data.id }\n}\n"),
    );
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_vpc.extra".into());
    let (report, _, _) = changed.apply(&mut state, &p, &Options::default());
    assert!(!report.succeeded());
    let rb = report.rollback.unwrap();
    assert_eq!(
        rb.undone
            .iter()
            .map(|(a, v)| (a.to_string(), *v))
            .collect::<Vec<_>>(),
        [("aws_s3_bucket.data".to_string(), Verb::UndoUpdate)]
    );
    assert_eq!(state.resources, before);
    let bucket = &state.resources[&"aws_s3_bucket.data".parse().unwrap()];
    let obj = mem(&p).objects.lock().unwrap()[&bucket.id].clone();
    assert!(obj.get("tags").get("team").is_null(), "{obj:?}");
}

#[test]
fn a_failed_undo_leaves_the_rollback_pending_and_keel_rollback_resumes_it() {
    let f = fixture(CLUSTER);
    let p = provider();
    // The instance fails to create; then the rollback's delete of the VPC fails.
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_instance.node[0]".into());
    let mut state = State::new("stack");
    let backend = f.backend();
    {
        let plan =
            crate::plan::plan(&f.config, &f.graph, &Inputs::default(), &state, false).unwrap();
        block_on(async {
            let lock = backend.lock("apply").await.unwrap();
            let mut rec = Recorder::new(&backend, &lock, &mut state);
            let mut progress = |e: &Event| {
                if let Event::RollbackStarted { .. } = e {
                    *mem(&p).fail_on.lock().unwrap() = Some("delete aws_vpc.main".into());
                }
            };
            let report = apply(
                &f.config,
                &f.graph,
                &Inputs::default(),
                &plan,
                &p,
                &mut rec,
                &Options::default(),
                &mut progress,
            )
            .await
            .unwrap();
            assert!(report.rollback_pending);
            let rb = report.rollback.unwrap();
            assert_eq!(rb.failed.len(), 1, "{rb:?}");
        });
    }
    let stored = f.stored();
    let j = stored
        .journal
        .as_ref()
        .expect("the rollback is pending in state");
    assert_eq!(j.phase, Phase::RollingBack);
    assert!(j.to_undo() >= 1);
    assert!(
        j.ops
            .iter()
            .any(|o| o.addr.to_string() == "aws_vpc.main" && o.status == Status::UndoFailed)
    );

    // The cause goes away; keel rollback finishes the job.
    *mem(&p).fail_on.lock().unwrap() = None;
    let mut state = stored;
    block_on(async {
        let lock = backend.lock("rollback").await.unwrap();
        let mut progress = |_: &Event| {};
        let r = recover(&mut state, &p, false, &mut progress).await.unwrap();
        assert!(r.rollback_pending);
        let mut rec = Recorder::new(&backend, &lock, &mut state);
        let rb = rollback(&p, &mut rec, &Options::default(), &mut progress)
            .await
            .unwrap();
        assert!(rb.complete, "{rb:?}");
    });
    assert!(state.journal.is_none());
    assert!(state.resources.is_empty());
    assert!(mem(&p).objects.lock().unwrap().is_empty());
}

#[test]
fn a_create_in_flight_when_keel_died_is_adopted_not_made_twice() {
    let f = fixture(CLUSTER);
    let p = provider();
    // Keel recorded the intent to create the VPC and died before the answer: the VPC
    // exists in the cloud, tagged, but not in state.
    let mut state = State::new("stack");
    let vpc: ResourceAddr = "aws_vpc.main".parse().unwrap();
    let planned =
        crate::plan::plan(&f.config, &f.graph, &Inputs::default(), &state, false).unwrap();
    let config = planned.change(&vpc).unwrap().config.clone();
    let made = block_on(mem(&p).create(&vpc, &config)).unwrap();
    let mut j = Journal::new();
    j.ops.push(crate::state::Op {
        addr: vpc.clone(),
        kind: OpKind::Create,
        status: Status::Started,
        type_: "aws_vpc".into(),
        provider: Default::default(),
        token: "t-1".into(),
        config: Some(config),
        before: None,
        dependencies: vec![],
        sensitive: vec![],
        error: None,
    });
    j.ops.push(crate::state::Op {
        addr: "aws_s3_bucket.data".parse().unwrap(),
        kind: OpKind::Create,
        status: Status::Started,
        type_: "aws_s3_bucket".into(),
        provider: Default::default(),
        token: "t-2".into(),
        config: Some(Value::Null),
        before: None,
        dependencies: vec![],
        sensitive: vec![],
        error: None,
    });
    state.journal = Some(j);
    let mut progress = |_: &Event| {};
    let r = block_on(recover(&mut state, &p, false, &mut progress)).unwrap();
    assert_eq!(
        r.adopted,
        vec![(vpc.clone(), made.get("id").as_str().unwrap().to_string())]
    );
    assert_eq!(r.void.len(), 1, "the bucket's create never happened");
    assert!(state.journal.is_none());
    assert_eq!(
        state
            .create_tokens
            .get(&"aws_s3_bucket.data".parse().unwrap())
            .map(String::as_str),
        Some("t-2")
    );
    // The next apply creates the rest, and the VPC only once.
    let (report, _, _) = f.apply(&mut state, &p, &Options::default());
    assert!(report.succeeded());
    let calls = mem(&p).calls.lock().unwrap().clone();
    assert_eq!(
        calls.iter().filter(|c| *c == "create aws_vpc.main").count(),
        1
    );
    assert!(state.create_tokens.is_empty());
}

#[test]
fn deletes_wait_for_every_create_and_update() {
    let f = fixture(CLUSTER);
    let p = provider();
    let mut state = State::new("stack");
    assert!(f.apply(&mut state, &p, &Options::default()).0.succeeded());
    // Drop the bucket, add a VPC that fails: the bucket must still exist afterwards.
    let next = fixture(
        &(CLUSTER.replace(
            "resource \"aws_s3_bucket\" \"data\" {\n  bucket = \"data\"\n}\n",
            "",
        ) + "resource \"aws_vpc\" \"extra\" {\n  cidr_block = \"10.9.0.0/16\"\n}\n"),
    );
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_vpc.extra".into());
    let (report, _, _) = next.apply(&mut state, &p, &Options::default());
    assert!(!report.succeeded());
    let calls = mem(&p).calls.lock().unwrap().clone();
    assert!(
        !calls.iter().any(|c| c == "delete aws_s3_bucket.data"),
        "{calls:?}"
    );
    assert!(
        state
            .resources
            .contains_key(&"aws_s3_bucket.data".parse().unwrap())
    );
}

#[test]
fn a_replacement_creates_first_and_rolls_back_to_the_old_object() {
    let f = fixture(CLUSTER);
    let p = provider();
    let mut state = State::new("stack");
    assert!(f.apply(&mut state, &p, &Options::default()).0.succeeded());
    let before = state.resources.clone();
    // A new CIDR replaces subnet 0 (create-first: the CIDR differs), which replaces its
    // instance; the bucket's replacement (same name) fails.
    let next = fixture(
        &CLUSTER
            .replace(
                "cidr_block = cidrsubnet(\"10.0.0.0/16\", 8, count.index)",
                "cidr_block = cidrsubnet(\"10.0.0.0/16\", 8, count.index + 10)",
            )
            .replace("ami       = \"ami-1\"", "ami       = \"ami-2\""),
    );
    let plan =
        crate::plan::plan(&next.config, &next.graph, &Inputs::default(), &state, false).unwrap();
    let subnet = plan.change(&"aws_subnet.s[0]".parse().unwrap()).unwrap();
    assert_eq!(subnet.action, crate::plan::Action::CreateThenDelete);
    *mem(&p).fail_on.lock().unwrap() = Some("create aws_instance.node[2]".into());
    let (report, _, _) = next.apply(&mut state, &p, &Options::default());
    assert!(!report.succeeded());
    let rb = report.rollback.as_ref().unwrap();
    assert!(rb.complete);
    let undone: Vec<String> = rb.undone.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(
        state.resources.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (a, r) in &before {
        assert_eq!(
            state.resources[a].id,
            r.id,
            "{a} (undone: {undone:?}; events {:?})",
            mem(&p).calls.lock().unwrap()
        );
    }
    assert_eq!(state.resources, before);
    assert!(state.deposed.is_empty());
    let ids: Vec<String> = before.values().map(|r| r.id.clone()).collect();
    let objects = mem(&p).objects.lock().unwrap().clone();
    assert_eq!(objects.keys().cloned().collect::<Vec<_>>().len(), ids.len());
    for id in ids {
        assert!(objects.contains_key(&id), "{id} still exists");
    }
}

#[test]
fn a_unique_name_it_keeps_makes_a_replacement_delete_first_and_irreversible() {
    let f = fixture(
        "resource \"aws_placement_group\" \"pg\" {\n  name = \"pg\"\n  strategy = \"cluster\"\n}\n",
    );
    let p = provider();
    let mut state = State::new("stack");
    assert!(f.apply(&mut state, &p, &Options::default()).0.succeeded());
    let next = fixture(
        "resource \"aws_placement_group\" \"pg\" {\n  name = \"pg\"\n  strategy = \"spread\"\n}\n",
    );
    let plan =
        crate::plan::plan(&next.config, &next.graph, &Inputs::default(), &state, false).unwrap();
    let c = plan
        .change(&"aws_placement_group.pg".parse().unwrap())
        .unwrap();
    assert_eq!(c.action, crate::plan::Action::DeleteThenCreate);
    assert!(c.action.is_irreversible());
    let renamed = fixture(
        "resource \"aws_placement_group\" \"pg\" {\n  name = \"pg2\"\n  strategy = \"spread\"\n}\n",
    );
    let plan = crate::plan::plan(
        &renamed.config,
        &renamed.graph,
        &Inputs::default(),
        &state,
        false,
    )
    .unwrap();
    let c = plan
        .change(&"aws_placement_group.pg".parse().unwrap())
        .unwrap();
    assert_eq!(c.action, crate::plan::Action::CreateThenDelete);
}

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

/// Apply's wall time against the critical path, with the in-memory provider taking a
/// fixed time per call and a real local state file (written and fsynced at every
/// wake-up). Prints the figures BENCHMARKS.md quotes:
/// `cargo test --release --lib -- --ignored bench_apply --nocapture`.
#[test]
#[ignore]
fn bench_apply_memory() {
    let mut chain =
        String::from("resource \"aws_vpc\" \"c0\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n");
    for i in 1..20 {
        chain.push_str(&format!(
            "resource \"aws_vpc\" \"c{i}\" {{\n  cidr_block = \"10.0.0.0/16\"\n  tags = {{ prev = aws_vpc.c{}.id }}\n}}\n",
            i - 1
        ));
    }
    let layered = r#"
resource "aws_vpc" "root" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_subnet" "mid" {
  count      = 10
  vpc_id     = aws_vpc.root.id
  cidr_block = cidrsubnet("10.0.0.0/16", 8, count.index)
}
resource "aws_instance" "leaf" {
  count     = 50
  ami       = "ami-1"
  subnet_id = aws_subnet.mid[count.index % 10].id
}
"#;
    let wide = "resource \"aws_vpc\" \"w\" {\n  count = 200\n  cidr_block = \"10.0.0.0/16\"\n}\n";
    let latency = Duration::from_millis(100);
    // (name, hcl, critical path in calls, bound from parallelism in calls)
    let cases: [(&str, &str, u32, u32); 4] = [
        ("chain of 20", &chain, 20, 20),
        ("1 -> 10 -> 50 (61 resources)", layered, 3, 4),
        ("CLUSTER (8 resources, 3 levels)", CLUSTER, 3, 3),
        ("200 independent, parallelism 32", wide, 1, 7),
    ];
    println!(
        "| stack | resources | critical path | bound (parallelism 32) | wall | wall / bound | state writes |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, hcl, depth, bound) in cases {
        let f = fixture(hcl);
        let p = provider();
        *mem(&p).latency.lock().unwrap() = latency;
        let mut state = State::new("stack");
        let (report, writes, _, wall) = f.timed_apply(&mut state, &p, &Options::default());
        assert!(report.succeeded());
        let critical = latency * depth;
        let bound_t = latency * bound;
        println!(
            "| {name} | {} | {} ms | {} ms | {} ms | {:.3} | {writes} |",
            report.added,
            critical.as_millis(),
            bound_t.as_millis(),
            wall.as_millis(),
            wall.as_secs_f64() / bound_t.as_secs_f64()
        );
    }
    // What one state write costs on the local backend (temp file, fsync, rename, backup
    // kept), with the 61 resources of the layered stack recorded.
    let f = fixture(layered);
    let p = provider();
    let mut state = State::new("stack");
    assert!(f.apply(&mut state, &p, &Options::default()).0.succeeded());
    let backend = f.backend();
    let n = 50;
    let per_write = block_on(async {
        let lock = backend.lock("bench").await.unwrap();
        let start = Instant::now();
        for _ in 0..n {
            backend.write(&lock, &mut state).await.unwrap();
        }
        start.elapsed() / n
    });
    println!(
        "\nlocal state write (61 resources, {} bytes): {:.1} ms",
        std::fs::metadata(self_path(&f))
            .map(|m| m.len())
            .unwrap_or(0),
        per_write.as_secs_f64() * 1000.0
    );
}

fn self_path(f: &Fixture) -> std::path::PathBuf {
    f.state_dir.path().join("s.json")
}
