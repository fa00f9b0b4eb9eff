//! The ready stacks (stacks/) and the single-file examples (examples/) against moto, with
//! their defaults: each stack is copied beside a copy of modules/ under a unique name
//! (which names its buckets, roles and `keel:stack` tag), planned, applied, read back
//! through the SDK, re-planned with no changes, checked for drift, and destroyed to
//! nothing. The examples validate and plan.

mod checks;
mod data_lake;
mod gpu_training;
mod inference;
mod modules;

use crate::fixture::{Run, run_keel, unique};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// A copy of one of the repository's stacks in `ROOT/stacks/NAME`, with `ROOT/modules`
/// beside it as in the repository, run with `-var name=NAME`.
pub struct Deployed {
    pub root: tempfile::TempDir,
    /// The stack directory's name, which is also its `name` variable and `keel:stack` tag.
    pub name: String,
}

impl Deployed {
    pub fn new(stack: &str, prefix: &str) -> Deployed {
        let root = tempfile::tempdir().expect("tempdir");
        let name = unique(prefix);
        copy_dir(&repo().join("modules"), &root.path().join("modules"));
        copy_dir(
            &repo().join("stacks").join(stack),
            &root.path().join("stacks").join(&name),
        );
        Deployed { root, name }
    }

    /// A stack written inline (`main.tf`, which declares `variable "name"`) in
    /// `ROOT/stacks/NAME`, with a copy of the repository's modules beside it.
    pub fn inline(prefix: &str, main_tf: &str) -> Deployed {
        let root = tempfile::tempdir().expect("tempdir");
        let name = unique(prefix);
        copy_dir(&repo().join("modules"), &root.path().join("modules"));
        let dir = root.path().join("stacks").join(&name);
        std::fs::create_dir_all(&dir).expect("stack dir");
        std::fs::write(dir.join("main.tf"), main_tf).expect("write main.tf");
        Deployed { root, name }
    }

    /// Rewrites one file of the copied modules (`gpu-cluster/main.tf`).
    pub fn edit_module(&self, file: &str, edit: impl FnOnce(String) -> String) {
        let path = self.root.path().join("modules").join(file);
        let text = std::fs::read_to_string(&path).expect("read the module file");
        std::fs::write(&path, edit(text)).expect("write the module file");
    }

    fn dir(&self) -> PathBuf {
        self.root.path().join("stacks").join(&self.name)
    }

    /// `keel ARGS... -var name=NAME DIR`.
    pub fn keel(&self, args: &[&str]) -> Run {
        let var = format!("name={}", self.name);
        let mut all = args.to_vec();
        all.extend(["-var", var.as_str()]);
        run_keel(self.root.path(), &all, &self.dir())
    }

    /// The outputs of the last apply, by name.
    pub fn outputs(&self) -> Json {
        let run = run_keel(self.root.path(), &["output", "-json"], &self.dir()).ok();
        let all: Json = serde_json::from_str(&run.stdout).expect("keel output -json is JSON");
        let map = all.as_object().expect("outputs are an object");
        map.iter()
            .map(|(k, v)| (k.clone(), v["value"].clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    /// Plans, checking the plan creates `count` objects and nothing else, and applies.
    pub fn apply(&self, count: usize) -> Run {
        let plan = self.keel(&["plan"]).ok();
        let want = format!("Plan: {count} to add, 0 to change, 0 to destroy.");
        assert!(plan.stdout.contains(&want), "{want}\n{}", plan.stdout);
        self.keel(&["apply", "-auto-approve"]).ok()
    }

    /// A fresh plan finds nothing to do, and drift finds nothing changed.
    pub fn assert_converged(&self) {
        let plan = self.keel(&["plan", "-detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
        let drift = self.keel(&["drift"]);
        assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
        assert!(drift.stdout.contains("No drift"), "{}", drift.stdout);
    }

    pub fn destroy(&self) {
        let run = self.keel(&["destroy", "-auto-approve"]).ok();
        assert!(run.stdout.contains("Destroy complete!"), "{}", run.stdout);
    }
}

pub fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v} is a list"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// Each example is one file a user copies: it validates and plans with its defaults.
#[test]
fn each_single_file_example_validates_and_plans() {
    let examples = [
        ("encrypted-bucket", "bucket_name", 9),
        ("vpc", "name", 8),
        ("gpu-instance", "name", 6),
    ];
    for (example, var, count) in examples {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join(example);
        copy_dir(&repo().join("examples").join(example), &dir);
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "{example} is a single file");
        let valid = run_keel(root.path(), &["validate"], &dir).ok();
        assert!(
            valid.stdout.contains("valid"),
            "{example}: {}",
            valid.stdout
        );
        let value = format!("{var}={}", unique("example"));
        let plan = run_keel(
            root.path(),
            &["plan", "-detailed-exitcode", "-var", &value],
            &dir,
        );
        assert_eq!(plan.code, 2, "{example}: {}{}", plan.stdout, plan.stderr);
        let want = format!("Plan: {count} to add, 0 to change, 0 to destroy.");
        assert!(plan.stdout.contains(&want), "{example}: {}", plan.stdout);
    }
}
