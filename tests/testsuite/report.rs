//! The plan as JSON and as a PR comment, through the keel binary.

use crate::fixture::{Project, run_keel};

const VPC: &str = "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.50.0.0/16\"\n}\n";

#[test]
fn plan_json_is_a_versioned_document_and_show_reads_it_back() {
    let p = Project::new("json");
    p.write("main.hcl", VPC);
    let run = p.keel(&["plan", "-json", "-out", "plan.json"]).ok();
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["format_version"], "keel-plan/1");
    assert_eq!(doc["summary"]["add"], 1);
    let change = &doc["resource_changes"][0];
    assert_eq!(change["address"], "aws_vpc.main");
    assert_eq!(change["action"], "create");
    assert_eq!(change["after"]["cidr_block"], "10.50.0.0/16");
    assert!(
        change["after_unknown"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("id"))
    );

    let show = run_keel(
        p.root.path(),
        &["show", "-json"],
        &p.root.path().join("plan.json"),
    )
    .ok();
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown, doc);
}

#[test]
fn one_markdown_comment_covers_several_stacks() {
    let a = Project::new("md-a");
    a.write("main.hcl", VPC);
    let b_dir = a.root.path().join("second");
    std::fs::create_dir_all(&b_dir).unwrap();
    std::fs::write(b_dir.join("main.hcl"), VPC.replace("10.50", "10.51")).unwrap();
    let run = a.keel(&[
        "plan",
        "--format",
        "markdown",
        "-detailed-exitcode",
        b_dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("## keel plan\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "### `{}`: 1 to add, 0 to change, 0 to replace, 0 to destroy",
            a.stack
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("### `second`: 1 to add"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+ cidr_block = \"10.51.0.0/16\""),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("<details>").count(), 2);
}
