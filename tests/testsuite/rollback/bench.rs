//! Apply's wall time against the critical path of the GPU stack, through the fault proxy
//! with a fixed latency added to every call. Ignored by default; BENCHMARKS.md quotes it:
//! `cargo test --release --test testsuite -- --ignored bench_apply --nocapture`.
//!
//! Each step's duration is what keel measured for its provider call (`elapsed_ms` in the
//! `-json` events); the critical path is the longest chain of those durations through the
//! plan's dependencies; the wall time runs from the first step's start to the last step's
//! end, as seen on keel's output. The difference is apply's own overhead: evaluation,
//! state writes, scheduling.

use super::{Proxy, gpu_stack};
use crate::fixture::Project;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

fn longest(
    addr: &str,
    deps: &HashMap<String, Vec<String>>,
    dur: &HashMap<String, f64>,
    memo: &mut HashMap<String, f64>,
) -> f64 {
    if let Some(v) = memo.get(addr) {
        return *v;
    }
    let before = deps
        .get(addr)
        .map(|ds| {
            ds.iter()
                .map(|d| longest(d, deps, dur, memo))
                .fold(0.0, f64::max)
        })
        .unwrap_or(0.0);
    let v = before + dur.get(addr).copied().unwrap_or(0.0);
    memo.insert(addr.to_string(), v);
    v
}

/// (wall ms, critical path ms, steps) of one apply.
fn measure(proxy: &Proxy, p: &Project) -> (f64, f64, usize) {
    let mut cmd = p.command(&["apply", "-auto-approve", "-json"]);
    cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let t0 = Instant::now();
    let mut first_start = None;
    let mut last_end = 0.0;
    let mut deps: HashMap<String, Vec<String>> = HashMap::new();
    let mut dur: HashMap<String, f64> = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let at = t0.elapsed().as_secs_f64() * 1000.0;
        let e: Value = serde_json::from_str(&line.unwrap()).unwrap();
        match e["type"].as_str() {
            Some("plan") => {
                for c in e["plan"]["resource_changes"].as_array().unwrap() {
                    deps.insert(
                        c["address"].as_str().unwrap().to_string(),
                        c["depends_on"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|d| d.as_str().unwrap().to_string())
                            .collect(),
                    );
                }
            }
            Some("started") => {
                first_start.get_or_insert(at);
            }
            Some("finished") => {
                last_end = at;
                dur.insert(
                    e["address"].as_str().unwrap().to_string(),
                    e["elapsed_ms"].as_f64().unwrap(),
                );
            }
            _ => {}
        }
    }
    assert!(child.wait().unwrap().success());
    let mut memo = HashMap::new();
    let critical = deps
        .keys()
        .map(|a| longest(a, &deps, &dur, &mut memo))
        .fold(0.0, f64::max);
    (last_end - first_start.unwrap_or(0.0), critical, dur.len())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn bench_apply_against_the_critical_path() {
    let proxy = Proxy::start();
    println!(
        "| latency per call | steps | critical path | wall (first start to last end) | wall / critical path |"
    );
    println!("|---|---|---|---|---|");
    for latency in [100, 250] {
        for _ in 0..2 {
            let p = Project::new("bench");
            let name = p.stack.clone();
            p.write("main.hcl", &gpu_stack(&name, false));
            proxy.configure(json!({ "latency_ms": latency }));
            let (wall, critical, steps) = measure(&proxy, &p);
            println!(
                "| {latency} ms | {steps} | {critical:.0} ms | {wall:.0} ms | {:.3} |",
                wall / critical
            );
            proxy.configure(json!({}));
            p.keel(&["destroy", "-auto-approve"]).ok();
        }
    }
}
