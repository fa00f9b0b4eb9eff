//! Single runs: throttling, two applies at once, a rollback that fails and is resumed,
//! saved plans, JSON events, Ctrl-C.

use super::{Proxy, cloud, gpu_stack, recorded};
use crate::fixture::Project;
use crate::moto::moto;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn small(name: &str, subnet_cidr: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.98.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "{subnet_cidr}"
}}

resource "aws_s3_bucket" "data" {{
  bucket        = "{name}"
  force_destroy = true
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_with_30_percent_of_calls_throttled_succeeds() {
    let proxy = Proxy::start();
    let p = Project::new("throttle");
    let name = p.stack.clone();
    p.write("main.hcl", &gpu_stack(&name, false));
    proxy.configure(json!({ "throttle": 0.3, "seed": 7 }));
    let run = proxy.keel(&p, &["apply", "-auto-approve"]);
    let stats = proxy.stats();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        stats["throttled"].as_u64().unwrap() >= 5,
        "the proxy throttled: {}",
        stats["throttled"]
    );
    assert!(
        run.stdout.contains("Apply complete! Resources: 13 added"),
        "{}",
        run.stdout
    );
    proxy.configure(json!({}));
    p.assert_no_changes();
    assert_eq!(cloud(&p.stack, &name).await["instance"].len(), 2);
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(cloud(&p.stack, &name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_apply_on_the_same_state_fails_at_once_naming_the_holder() {
    let proxy = Proxy::start();
    let p = Project::new("twice");
    let name = p.stack.clone();
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    proxy.configure(json!({ "latency_ms": 700, "latency_mutating_only": true }));
    let mut first = p.command(&["apply", "-auto-approve"]);
    first
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let first = first.spawn().expect("start the first apply");
    let lock = p.state_path().with_extension("json.lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock)
        .map(|s| s.is_empty())
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the first apply takes the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let t = Instant::now();
    let second = p.keel(&["apply", "-auto-approve"]);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "the second fails at once"
    );
    assert_eq!(second.code, 1);
    assert!(second.stderr.contains("is locked by"), "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("pid {}", first.id())),
        "names the holder: {}",
        second.stderr
    );
    assert!(second.stderr.contains("keel apply"), "{}", second.stderr);
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    proxy.configure(json!({}));
    p.keel(&["destroy", "-auto-approve"]).ok();
}

/// The subnet's CIDR lies outside its VPC, so EC2 refuses it; the first delete of the
/// rollback then fails too (injected), so the rollback stays pending.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_rollback_is_pending_in_plan_and_resumed_by_rollback_and_apply() {
    let proxy = Proxy::start();
    let p = Project::new("pending");
    let name = p.stack.clone();
    p.write("main.hcl", &small(&name, "10.97.1.0/24"));
    // A run without injected faults: the subnet fails, the rollback succeeds. Its log
    // says which call is the rollback's first delete.
    proxy.configure(json!({}));
    let run = proxy.keel(&p, &["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("InvalidSubnet.Range"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Apply failed and was rolled back."),
        "{}",
        run.stdout
    );
    assert!(cloud(&p.stack, &name).await.is_empty());
    let calls = proxy.mutating_calls();
    let k = 1 + calls
        .iter()
        .position(|c| c.contains("Delete") || c.contains("DELETE"))
        .unwrap_or_else(|| panic!("the rollback deletes: {calls:?}"));

    proxy.configure(json!({ "fail_mutating_call": k }));
    let run = proxy.keel(&p, &["apply", "-auto-approve"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("could not be undone"), "{}", run.stdout);
    assert!(
        run.stdout.contains("The rollback is pending in state"),
        "{}",
        run.stdout
    );
    let state = p.state();
    assert_eq!(state["journal"]["phase"], "rolling_back");
    assert!(
        !cloud(&p.stack, &name).await.is_empty(),
        "something is left to undo"
    );

    // keel plan shows it.
    let plan = p.keel(&["plan"]).ok();
    assert!(plan.stdout.contains("Rollback pending"), "{}", plan.stdout);
    // keel rollback finishes it.
    let rb = p.keel(&["rollback"]).ok();
    assert!(rb.stdout.contains("resuming it first"), "{}", rb.stdout);
    assert!(rb.stdout.contains("Rollback complete!"), "{}", rb.stdout);
    assert!(cloud(&p.stack, &name).await.is_empty());
    assert!(recorded(&p).is_empty());
    assert!(p.state().get("journal").is_none());
    let again = p.keel(&["rollback"]).ok();
    assert!(
        again.stdout.contains("Nothing to roll back"),
        "{}",
        again.stdout
    );

    // Once more, and this time keel apply (with the CIDR fixed) resumes the rollback
    // first, then applies.
    proxy.configure(json!({ "fail_mutating_call": k }));
    assert_eq!(proxy.keel(&p, &["apply", "-auto-approve"]).code, 1);
    assert_eq!(p.state()["journal"]["phase"], "rolling_back");
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    let apply = p.keel(&["apply", "-auto-approve"]).ok();
    assert!(
        apply.stdout.contains("resuming it first"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("Apply complete! Resources: 3 added"),
        "{}",
        apply.stdout
    );
    p.assert_no_changes();
    p.keel(&["destroy", "-auto-approve"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_exactly_and_refuses_a_changed_state() {
    let p = Project::new("saved");
    let name = p.stack.clone();
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    let file = p.root.path().join("plan.bin");
    let file_arg = file.to_str().unwrap();
    p.keel(&["plan", "-out", file_arg]).ok();
    // The stack's files change after planning: the saved plan still applies what it shows.
    p.write("main.hcl", &small(&name, "10.98.7.0/24"));
    let run = crate::fixture::run_keel(p.root.path(), &["apply"], &file).ok();
    assert!(
        run.stdout.contains("Apply complete! Resources: 3 added"),
        "{}",
        run.stdout
    );
    let ec2 = moto().ec2().await;
    let subnet = recorded(&p)["aws_subnet.a"].clone();
    let s = ec2
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap();
    assert_eq!(s.subnets()[0].cidr_block(), Some("10.98.1.0/24"));
    // Applying it again: the state moved on since.
    let stale = crate::fixture::run_keel(p.root.path(), &["apply"], &file);
    assert_eq!(stale.code, 1);
    assert!(
        stale
            .stderr
            .contains("the state changed since the plan was made"),
        "{}",
        stale.stderr
    );
    // A plan saved by a keel whose schedule means something else is refused, not run.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"keel-saved-plan/2\""));
    let old = p.root.path().join("old.bin");
    std::fs::write(
        &old,
        text.replace("\"keel-saved-plan/2\"", "\"keel-saved-plan/1\""),
    )
    .unwrap();
    let refused = crate::fixture::run_keel(p.root.path(), &["apply"], &old);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains(
            "has saved-plan format keel-saved-plan/1; this keel reads keel-saved-plan/2. Make the plan again with this keel"
        ),
        "{}",
        refused.stderr
    );
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    p.keel(&["destroy", "-auto-approve"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_carries_the_variable_values_it_was_made_with() {
    let p = Project::new("savedvars");
    let name = p.stack.clone();
    p.write(
        "main.hcl",
        &format!(
            r#"
variable "subnet_cidr" {{
  type = string
}}

variable "label" {{
  type      = string
  sensitive = true
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.97.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = var.subnet_cidr
}}

resource "aws_s3_bucket" "data" {{
  bucket        = "{name}"
  force_destroy = true
  tags          = {{ label = var.label }}
}}
"#
        ),
    );
    let file = p.root.path().join("plan.bin");
    let file_arg = file.to_str().unwrap();
    let plan = p
        .keel_env(
            &["plan", "-out", file_arg, "-var", "subnet_cidr=10.97.3.0/24"],
            &[("KEEL_VAR_label", "cobalt-heron-42")],
        )
        .ok();
    assert!(!plan.stdout.contains("cobalt-heron-42"), "{}", plan.stdout);
    // Applied with no -var and no environment: the values travel with the plan.
    let run = crate::fixture::run_keel(p.root.path(), &["apply"], &file).ok();
    assert!(
        run.stdout.contains("Apply complete! Resources: 3 added"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("cobalt-heron-42"), "{}", run.stdout);
    let subnet = recorded(&p)["aws_subnet.a"].clone();
    let s = moto()
        .ec2()
        .await
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap();
    assert_eq!(s.subnets()[0].cidr_block(), Some("10.97.3.0/24"));
    let tags = moto()
        .s3()
        .await
        .get_bucket_tagging()
        .bucket(&name)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "label" && t.value() == "cobalt-heron-42")
    );
    p.keel_env(
        &[
            "destroy",
            "-auto-approve",
            "-var",
            "subnet_cidr=10.97.3.0/24",
        ],
        &[("KEEL_VAR_label", "cobalt-heron-42")],
    )
    .ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn json_progress_is_one_event_per_line() {
    let p = Project::new("events");
    let name = p.stack.clone();
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    let run = p.keel(&["apply", "-auto-approve", "-json"]).ok();
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let of = |t: &str| events.iter().filter(|e| e["type"] == t).count();
    assert_eq!(of("plan"), 1);
    assert_eq!(of("started"), 3);
    assert_eq!(of("finished"), 3);
    let summary = events.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["added"], 3);
    assert_eq!(summary["succeeded"], true);
    let vpc = events
        .iter()
        .find(|e| e["type"] == "finished" && e["address"] == "aws_vpc.main")
        .unwrap();
    assert!(vpc["id"].as_str().unwrap().starts_with("vpc-"));
    assert!(vpc["elapsed_ms"].is_u64());
    // A failure carries the cloud's code and message, and the rollback is reported.
    p.write("main.hcl", &small(&name, "10.97.1.0/24"));
    let run = p.keel(&["apply", "-auto-approve", "-json"]);
    assert_eq!(run.code, 1);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed = events.iter().find(|e| e["type"] == "failed").unwrap();
    assert_eq!(failed["error"]["code"], "InvalidSubnet.Range");
    assert!(events.iter().any(|e| e["type"] == "rollback_started"));
    let summary = events.last().unwrap();
    assert_eq!(summary["rolled_back"], true);
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    p.keel(&["destroy", "-auto-approve"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_scheduling_and_rolls_back() {
    let proxy = Proxy::start();
    let p = Project::new("ctrlc");
    let name = p.stack.clone();
    p.write("main.hcl", &small(&name, "10.98.1.0/24"));
    proxy.configure(json!({ "latency_ms": 600, "latency_mutating_only": true }));
    let mut cmd = p.command(&["apply", "-auto-approve"]);
    cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut out = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        out.push_str(&line);
        out.push('\n');
        if line.contains("aws_vpc.main: Creation complete") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for line in lines {
        out.push_str(&line.unwrap());
        out.push('\n');
    }
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Interrupt received"), "{out}");
    assert!(out.contains("Apply failed and was rolled back."), "{out}");
    proxy.configure(json!({}));
    assert!(cloud(&p.stack, &name).await.is_empty(), "{out}");
    assert!(recorded(&p).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_sealed_when_state_is_encrypted() {
    let p = Project::new("sealed");
    let name = p.stack.clone();
    p.write(
        "main.hcl",
        &format!(
            "variable \"team\" {{\n  sensitive = true\n}}\n\nresource \"aws_s3_bucket\" \"data\" {{\n  bucket = \"{name}\"\n  tags   = {{ team = var.team }}\n}}\n"
        ),
    );
    let env = [("KEEL_STATE_PASSPHRASE", "correct horse battery staple")];
    let file = p.root.path().join("plan.bin");
    let file_arg = file.to_str().unwrap();
    p.keel_env(
        &["plan", "-var", "team=hush-hush-ml", "-out", file_arg],
        &env,
    )
    .ok();
    let bytes = std::fs::read_to_string(&file).unwrap();
    assert!(bytes.contains("keel-encrypted/1"), "sealed");
    assert!(
        !bytes.contains("hush-hush-ml"),
        "the input value is not in plain text"
    );
    // Without the passphrase it cannot be applied; with it, it applies without -var.
    let refused = crate::fixture::run_keel(p.root.path(), &["apply"], &file);
    assert_eq!(refused.code, 1);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.current_dir(p.root.path()).arg("apply").arg(&file);
    for (k, v) in moto().env() {
        cmd.env(k, v);
    }
    let out = cmd.envs(env).env("NO_COLOR", "1").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let s3 = moto().s3().await;
    let tags = s3.get_bucket_tagging().bucket(&name).send().await.unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "hush-hush-ml")
    );
    p.keel_env(
        &["destroy", "-auto-approve", "-var", "team=hush-hush-ml"],
        &env,
    )
    .ok();
}
