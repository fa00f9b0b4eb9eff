//! keel killed (SIGKILL) at random instants while applying and while rolling back: the
//! state file always parses, and the next `keel apply` converges with no duplicate (one
//! object per address) and no orphan (every object tagged with the stack is in state).
//! The instants come from a seeded generator: `KEEL_CRASH_SEED` replays a failure.

use super::{AMI, Proxy, cloud_objects};
use crate::fixture::Project;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A small xorshift generator: the test needs reproducible instants, not quality.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Two shapes of the stack; going from one to the other creates, updates, replaces and
/// deletes.
fn stack(name: &str, wide: bool) -> String {
    let (tier, cidr_b, nodes) = if wide {
        ("restricted", "10.61.3.0/24", 2)
    } else {
        ("private", "10.61.2.0/24", 1)
    };
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.61.0.0/16"
  tags       = {{ tier = "{tier}" }}
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.61.1.0/24"
}}

resource "aws_subnet" "b" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "{cidr_b}"
}}

resource "aws_security_group" "nodes" {{
  name   = "{name}-nodes"
  vpc_id = aws_vpc.main.id
}}

resource "aws_iam_role" "node" {{
  name = "{name}-node"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
  tags = {{ tier = "{tier}" }}
}}

resource "aws_iam_instance_profile" "node" {{
  name = "{name}-node"
  role = aws_iam_role.node.name
}}

resource "aws_s3_bucket" "data" {{
  bucket        = "{name}"
  force_destroy = true
  tags          = {{ tier = "{tier}" }}
}}

resource "aws_instance" "node" {{
  count                  = {nodes}
  ami                    = "{AMI}"
  instance_type          = "g5.xlarge"
  subnet_id              = aws_subnet.a.id
  vpc_security_group_ids = [aws_security_group.nodes.id]
  iam_instance_profile   = aws_iam_instance_profile.node.name
  # What keel's guardrails require of every GPU node: IMDSv2 and encrypted volumes.
  metadata_options {{
    http_tokens = "required"
  }}
  root_block_device {{
    volume_size = 100
    encrypted   = true
  }}
}}
"#
    )
}

/// The Terraform type each listed kind is recorded as.
fn type_of(kind: &str) -> &'static str {
    match kind {
        "vpc" => "aws_vpc",
        "subnet" => "aws_subnet",
        "security_group" => "aws_security_group",
        "instance" => "aws_instance",
        "iam_role" => "aws_iam_role",
        "instance_profile" => "aws_iam_instance_profile",
        "bucket" => "aws_s3_bucket",
        "kms_key" => "aws_kms_key",
        "placement_group" => "aws_placement_group",
        "launch_template" => "aws_launch_template",
        _ => "unknown",
    }
}

/// The state file (and its backup) parse as JSON state documents.
fn assert_state_parses(p: &Project, context: &str) {
    let path = p.state_path();
    for f in [path.clone(), path.with_extension("json.backup")] {
        if let Ok(text) = std::fs::read_to_string(&f) {
            let doc: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{context}: {} does not parse: {e}", f.display()));
            assert!(doc["version"].is_u64(), "{context}: {}", f.display());
        }
    }
}

async fn assert_converged(p: &Project, name: &str, wide: bool, context: &str) {
    let plan = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "{context}: converged:\n{}{}",
        plan.stdout, plan.stderr
    );
    let state = p.state();
    assert!(state.get("journal").is_none(), "{context}: no journal left");
    let mut recorded: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in state["resources"].as_object().unwrap().values() {
        recorded
            .entry(match r["type"].as_str().unwrap() {
                "aws_vpc" => "aws_vpc",
                t => Box::leak(t.to_string().into_boxed_str()),
            })
            .or_default()
            .insert(r["id"].as_str().unwrap().to_string());
    }
    let objects = cloud_objects(&p.stack, name).await;
    for (kind, objs) in &objects {
        // No duplicate: one object per address.
        let mut seen = BTreeSet::new();
        for (_, addr) in objs.iter().filter(|(_, a)| !a.is_empty()) {
            assert!(
                seen.insert(addr),
                "{context}: two {kind} objects for {addr}: {objs:?}"
            );
        }
        // No orphan: every object the stack's tags (or names) claim is in state.
        for (id, _) in objs {
            assert!(
                recorded
                    .get(type_of(kind))
                    .is_some_and(|ids| ids.contains(id)),
                "{context}: orphan {kind} {id}, not in state"
            );
        }
    }
    let nodes = objects.get("instance").map_or(0, Vec::len);
    assert_eq!(
        nodes,
        if wide { 2 } else { 1 },
        "{context}: instances {objects:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keel_killed_at_random_instants_converges_with_no_duplicate_and_no_orphan() {
    let seed: u64 = std::env::var("KEEL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6b65656c);
    let rounds: usize = std::env::var("KEEL_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(22);
    let mut rng = Rng(seed | 1);
    let proxy = Proxy::start();
    let p = Project::new("crash");
    let name = p.stack.clone();
    p.write("main.hcl", &stack(&name, false));
    p.keel(&["apply", "-auto-approve"]).ok();
    let (mut during_rollback, mut adopted, mut finished_first) = (0, 0, 0);
    for round in 0..rounds {
        let wide = round % 2 == 0;
        p.write("main.hcl", &stack(&name, wide));
        // Every third round fails a call so that the apply rolls back, and is killed
        // during the rollback.
        let roll_back = round % 3 == 2;
        let mut faults = json!({ "latency_ms": 120, "latency_mutating_only": true });
        if roll_back {
            faults["fail_mutating_call"] = json!(1 + rng.below(5));
        }
        proxy.configure(faults);
        let mut cmd = p.command(&["apply", "-auto-approve"]);
        cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start keel");
        let delay = Duration::from_millis(rng.below(if roll_back { 600 } else { 1200 }));
        let context = format!(
            "seed {seed}, round {round}, killed {delay:?} after the first {}",
            if roll_back { "undo" } else { "step" }
        );
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let start = Instant::now();
        // The kill is armed when the first step (or the rollback) starts.
        let trigger = if roll_back { "Rolling back" } else { "..." };
        let mut armed: Option<Instant> = None;
        let mut out = String::new();
        loop {
            if let Some(t) = armed
                && t.elapsed() >= delay
            {
                break;
            }
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(line) => {
                    if line.contains(trigger) && !line.contains("Refreshing") && armed.is_none() {
                        armed = Some(Instant::now());
                    }
                    out.push_str(&line);
                    out.push('\n');
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if start.elapsed() > Duration::from_secs(60) {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        if out.contains("Rolling back") && !out.contains("Rollback complete") {
            during_rollback += 1;
        }
        if !out.contains("Rolling back") && out.contains("Apply complete!") {
            finished_first += 1;
        }
        assert_state_parses(&p, &context);

        // Converge: the next apply (no faults) resolves what was in flight, finishes a
        // pending rollback, and applies.
        proxy.configure(json!({}));
        let mut converged = None;
        for _ in 0..3 {
            let run = p.keel(&["apply", "-auto-approve"]);
            assert_state_parses(&p, &context);
            adopted += run.stdout.matches("adopted into state").count();
            if run.code == 0 {
                converged = Some(run);
                break;
            }
        }
        assert!(
            converged.is_some(),
            "{context}: keel apply converges\n{out}"
        );
        assert_converged(&p, &name, wide, &context).await;
    }
    eprintln!(
        "crash loop (seed {seed}): {rounds} kills, {during_rollback} during a rollback, {finished_first} too late (the apply had finished), {adopted} objects adopted"
    );
    assert!(during_rollback >= 3, "some kills landed during a rollback");
    p.keel(&["destroy", "-auto-approve"]).ok();
}
