//! A stack in a temporary directory, and a way to run `keel` on it.

use crate::moto::moto;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Project {
    /// Working directory keel runs in; state goes to `state/<stack>.json` under it.
    pub root: tempfile::TempDir,
    pub stack: String,
}

/// The result of one keel run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "keel failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!(
        "{prefix}-{}-{n}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    )
}

impl Project {
    /// A project with one stack directory named uniquely after `prefix`.
    pub fn new(prefix: &str) -> Project {
        let root = tempfile::tempdir().expect("tempdir");
        let stack = unique(prefix);
        std::fs::create_dir_all(root.path().join(&stack)).expect("stack dir");
        Project { root, stack }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join(&self.stack)
    }

    pub fn write(&self, name: &str, text: &str) -> &Project {
        std::fs::write(self.dir().join(name), text).expect("write stack file");
        self
    }

    pub fn state_path(&self) -> PathBuf {
        self.root
            .path()
            .join("state")
            .join(format!("{}.json", self.stack))
    }

    pub fn state(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_path()).expect("state file exists");
        serde_json::from_str(&text).expect("state is JSON")
    }

    /// Runs `keel ARGS... STACK_DIR` against moto, with no standard input.
    pub fn keel(&self, args: &[&str]) -> Run {
        run_keel(self.root.path(), args, &self.dir())
    }

    /// Asserts that a fresh plan (with refresh) finds nothing to do.
    pub fn assert_no_changes(&self) {
        let again = self.keel(&["plan", "-detailed-exitcode"]);
        assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    }

    /// Runs `keel ARGS... STACK_DIR` with extra environment variables.
    pub fn keel_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied()).stdin(Stdio::null());
        cmd.output().expect("run keel").into()
    }

    /// The command `keel ARGS... STACK_DIR`, to spawn and control (no standard input).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = command(self.root.path(), args, &self.dir());
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs keel with `input` on its standard input, as a person answering its prompt.
    pub fn keel_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut cmd = command(self.root.path(), args, &self.dir());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run keel");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("write keel's input");
        child.wait_with_output().expect("wait for keel").into()
    }
}

pub fn run_keel(cwd: &Path, args: &[&str], dir: &Path) -> Run {
    let mut cmd = command(cwd, args, dir);
    cmd.stdin(Stdio::null());
    cmd.output().expect("run keel").into()
}

fn command(cwd: &Path, args: &[&str], dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.current_dir(cwd)
        .args(args)
        .arg(dir)
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1");
    for (k, v) in moto().env() {
        cmd.env(k, v);
    }
    cmd
}
