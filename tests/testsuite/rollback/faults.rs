//! The fault matrix: every mutating call of an apply of the GPU stack is failed in turn
//! (k = 1..N, N counted on a clean run through the proxy). After each failed apply the
//! cloud, listed through the SDK, holds exactly what it held before, and the state is
//! what it was. Done for a fresh create and for an update (in-place changes and a
//! create-first replacement) of an applied stack.

use super::{Proxy, cloud, gpu_stack, recorded};
use crate::fixture::Project;
use serde_json::json;

/// The state's resources without what an apply is free to change and rollback cannot
/// put back exactly (nothing so far: the whole record is compared).
fn resources(p: &Project) -> serde_json::Value {
    p.state()["resources"].clone()
}

/// k = 1..=n, or only the k in KEEL_FAULT_K (to chase one case).
fn ks(n: usize) -> Vec<usize> {
    match std::env::var("KEEL_FAULT_K")
        .ok()
        .and_then(|k| k.parse().ok())
    {
        Some(k) => vec![k],
        None => (1..=n).collect(),
    }
}

fn assert_clean_state(p: &Project, k: usize, failed: &serde_json::Value, out: &str) {
    let state = p.state();
    assert!(
        state.get("journal").is_none_or(|j| j.is_null()),
        "k={k} ({failed}): a finished rollback leaves no journal:\n{out}"
    );
    assert!(
        state
            .get("deposed")
            .is_none_or(|d| d.as_array().is_some_and(|a| a.is_empty())),
        "k={k} ({failed}): nothing deposed:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failed_call_of_a_fresh_gpu_stack_rolls_back_to_nothing() {
    fresh_matrix("before").await;
}

/// The same with each call taking effect before its answer is replaced by the error (a
/// lost response): rollback finds what the failed create made, by its ownership tags or
/// name, and removes it too.
#[tokio::test(flavor = "multi_thread")]
async fn each_call_that_took_effect_but_failed_is_found_and_rolled_back() {
    fresh_matrix("after").await;
}

async fn fresh_matrix(mode: &str) {
    let proxy = Proxy::start();
    let p = Project::new("kfresh");
    let name = p.stack.clone();
    p.write("main.hcl", &gpu_stack(&name, false));

    // A clean apply counts the mutating calls; destroy takes the stack back to nothing.
    proxy.configure(json!({}));
    proxy.keel(&p, &["apply", "-auto-approve"]).ok();
    let calls = proxy.mutating_calls();
    let n = calls.len();
    assert!(n >= 15, "a GPU stack takes more calls than {calls:?}");
    proxy.configure(json!({}));
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(cloud(&p.stack, &name).await.is_empty());

    for k in ks(n) {
        proxy.configure(json!({ "fail_mutating_call": k, "fail_mode": mode }));
        let run = proxy.keel(&p, &["apply", "-auto-approve"]);
        let failed = proxy.stats()["failed"].clone();
        let out = format!("{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.code, 1, "k={k} ({failed}, {mode}) must fail:\n{out}");
        assert!(
            out.contains("KeelInjectedFault"),
            "k={k}: the AWS error code is reported:\n{out}"
        );
        assert!(
            out.contains("Apply failed and was rolled back."),
            "k={k} ({failed}):\n{out}"
        );
        let left = cloud(&p.stack, &name).await;
        assert!(
            left.is_empty(),
            "k={k} ({failed}, {mode}) left {left:?}:\n{out}"
        );
        assert!(
            recorded(&p).is_empty(),
            "k={k} ({failed}): state records nothing"
        );
        assert_clean_state(&p, k, &failed, &out);
    }
    eprintln!("fresh matrix (fail {mode}): {n} mutating calls: {calls:?}");
    proxy.configure(json!({}));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failed_call_of_an_update_rolls_back_to_the_applied_stack() {
    let proxy = Proxy::start();
    let p = Project::new("kupdate");
    let name = p.stack.clone();
    p.write("main.hcl", &gpu_stack(&name, false));
    p.keel(&["apply", "-auto-approve"]).ok();

    // Count the update's calls, then go back.
    p.write("main.hcl", &gpu_stack(&name, true));
    let plan = p.keel(&["plan"]).ok().stdout;
    assert!(
        plan.contains("aws_subnet.b must be replaced (the replacement is created first)"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to add, 5 to change, 1 to destroy."),
        "{plan}"
    );
    proxy.configure(json!({}));
    proxy.keel(&p, &["apply", "-auto-approve"]).ok();
    let calls = proxy.mutating_calls();
    let n = calls.len();
    p.write("main.hcl", &gpu_stack(&name, false));
    p.keel(&["apply", "-auto-approve"]).ok();
    let mut before_cloud = cloud(&p.stack, &name).await;
    let mut before_state = resources(&p);
    p.write("main.hcl", &gpu_stack(&name, true));

    let (mut restored, mut unreplaced, mut cleanup) = (0, 0, 0);
    for k in ks(n) {
        proxy.configure(json!({ "fail_mutating_call": k }));
        let run = proxy.keel(&p, &["apply", "-auto-approve"]);
        let failed = proxy.stats()["failed"].clone();
        let out = format!("{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.code, 1, "k={k} ({failed}) must fail:\n{out}");
        assert!(out.contains("KeelInjectedFault"), "k={k}:\n{out}");
        if out.contains("a closing delete failed") {
            // The old subnet's delete, after every create and update succeeded: no
            // rollback; the old subnet stays recorded as deposed and the next apply
            // deletes it.
            assert!(
                failed.to_string().contains("DeleteSubnet"),
                "k={k}: {failed}"
            );
            cleanup += 1;
            assert!(!p.state()["deposed"].as_array().unwrap().is_empty());
            proxy.configure(json!({}));
            p.keel(&["apply", "-auto-approve"]).ok();
            p.assert_no_changes();
            p.write("main.hcl", &gpu_stack(&name, false));
            p.keel(&["apply", "-auto-approve"]).ok();
            before_cloud = cloud(&p.stack, &name).await;
            before_state = resources(&p);
            p.write("main.hcl", &gpu_stack(&name, true));
            continue;
        }
        assert!(
            out.contains("Apply failed and was rolled back."),
            "k={k} ({failed}):\n{out}"
        );
        restored += usize::from(out.contains("restored its previous attributes"));
        unreplaced += usize::from(out.contains("deleted its replacement"));
        let now = cloud(&p.stack, &name).await;
        assert_eq!(
            now, before_cloud,
            "k={k} ({failed}): the cloud is as it was:\n{out}"
        );
        assert_eq!(
            resources(&p),
            before_state,
            "k={k} ({failed}): the state is as it was:\n{out}"
        );
        assert_clean_state(&p, k, &failed, &out);
    }
    eprintln!(
        "update matrix: {n} mutating calls ({calls:?}); {restored} rollbacks restored updated attributes, {unreplaced} deleted a replacement, {cleanup} hit the closing delete"
    );
    if std::env::var_os("KEEL_FAULT_K").is_none() {
        assert!(restored > 0 && unreplaced > 0 && cleanup > 0);
    }
    proxy.configure(json!({}));
    p.keel(&["destroy", "-auto-approve"]).ok();
}
