//! The scale benchmarks' generator, run small (200 instances) so it cannot rot: the stack
//! it writes plans every instance, and the state it makes for that stack is one keel
//! finds nothing to change in. Times nothing; `scripts/bench` does the timing.

#[path = "../bench/stack.rs"]
mod stack;

use crate::fixture::run_keel;

#[test]
fn generated_stack_plans_every_instance_and_its_full_state_has_no_changes() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("n200");
    let shape = stack::write_stack(&dir, 200).expect("write the stack");
    assert_eq!(
        shape,
        stack::Shape {
            instances: 200,
            blocks: 2 + 7 * 8,
            modules: 8
        }
    );
    let state_path = root.path().join("empty.json");
    let state_arg = state_path.to_string_lossy().into_owned();
    let empty = run_keel(
        root.path(),
        &[
            "plan",
            "-refresh=false",
            "-input=false",
            "-state",
            &state_arg,
        ],
        &dir,
    )
    .ok();
    assert!(
        empty
            .stdout
            .contains("Plan: 200 to add, 0 to change, 0 to destroy."),
        "{}",
        empty.stdout
    );
    assert!(
        empty
            .stdout
            .contains("module.net_7.aws_subnet.this[3] will be created"),
        "{}",
        empty.stdout
    );

    let full = stack::full_state(&dir).expect("full state");
    assert_eq!(full.resources.len(), 200);
    let full_path = root.path().join("full.json");
    std::fs::write(&full_path, serde_json::to_vec(&full).expect("state JSON")).expect("write");
    let full_arg = full_path.to_string_lossy().into_owned();
    let planned = run_keel(
        root.path(),
        &[
            "plan",
            "-refresh=false",
            "-input=false",
            "-state",
            &full_arg,
        ],
        &dir,
    )
    .ok();
    assert!(planned.stdout.contains("No changes."), "{}", planned.stdout);
}
