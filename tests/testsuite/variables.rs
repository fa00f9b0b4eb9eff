//! Input variables as a Terraform user writes them: type constraints with Terraform's
//! conversions, -var / -var-file / environment precedence, validation rules, nullable, and
//! the prompt for a missing value. These plan without resources, so no cloud is read.

use crate::fixture::Project;

const TYPED: &str = r#"
variable "ports" {
  type    = list(number)
  default = [80]
}

variable "db" {
  type = object({
    engine = string
    port   = optional(number, 5432)
    tags   = optional(map(string), {})
  })
  default = { engine = "postgres" }
}

variable "tier" {
  type    = string
  default = "default"
}

output "summary" {
  value = "${jsonencode(var.ports)} ${jsonencode(var.db)} ${var.tier}"
}
"#;

fn plan(p: &Project, args: &[&str]) -> crate::fixture::Run {
    let mut all = vec!["plan", "-refresh=false"];
    all.extend_from_slice(args);
    p.keel(&all)
}

#[test]
fn complex_values_from_flags_files_and_the_environment_are_converted() {
    let p = Project::new("vars-types");
    p.write("main.hcl", TYPED);
    p.write(
        "prod.tfvars.json",
        r#"{"db": {"engine": "aurora", "port": "3306", "extra": true}}"#,
    );
    let file = p.dir().join("prod.tfvars.json");
    let run = p.keel_env(
        &[
            "plan",
            "-refresh=false",
            "-var",
            "ports=[443, \"8443\"]",
            "-var-file",
            file.to_str().unwrap(),
        ],
        &[("TF_VAR_tier", "gold")],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // "8443" became a number, port "3306" too, the unknown attribute was dropped and the
    // optional tags got their default.
    assert!(
        run.stdout
            .contains(r#"[443,8443] {\"engine\":\"aurora\",\"port\":3306,\"tags\":{}} gold"#),
        "{}",
        run.stdout
    );
}

#[test]
fn var_and_var_file_apply_in_command_line_order_over_tfvars_and_environment() {
    let p = Project::new("vars-order");
    p.write("main.hcl", TYPED);
    p.write("terraform.tfvars", "tier = \"tfvars\"\n");
    p.write("a.tfvars", "tier = \"file-a\"\n");
    p.write("b.tfvars", "tier = \"file-b\"\n");
    let a = p.dir().join("a.tfvars");
    let b = p.dir().join("b.tfvars");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let env = [("TF_VAR_tier", "env"), ("KEEL_VAR_tier", "keel-env")];
    let tier = |args: &[&str]| {
        let mut all = vec!["plan", "-refresh=false"];
        all.extend_from_slice(args);
        let run = p.keel_env(&all, &env);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains("summary"))
            .unwrap_or_default()
            .to_string();
        line.rsplit(' ')
            .next()
            .unwrap_or_default()
            .trim_end_matches('"')
            .to_string()
    };
    // terraform.tfvars beats the environment.
    assert_eq!(tier(&[]), "tfvars");
    assert_eq!(tier(&["-var-file", a]), "file-a");
    assert_eq!(tier(&["-var-file", a, "-var-file", b]), "file-b");
    assert_eq!(tier(&["-var-file", a, "-var", "tier=flag"]), "flag");
    assert_eq!(tier(&["-var", "tier=flag", "-var-file", b]), "file-b");
    // Without terraform.tfvars, KEEL_VAR_ beats TF_VAR_.
    std::fs::remove_file(p.dir().join("terraform.tfvars")).unwrap();
    assert_eq!(tier(&[]), "keel-env");
}

#[test]
fn a_type_mismatch_names_the_variable_what_was_given_and_what_the_type_wants() {
    let p = Project::new("vars-mismatch");
    p.write("main.hcl", TYPED);
    p.write("terraform.tfvars", "db = { port = 1 }\n");
    let run = plan(&p, &["-var", "ports=[80, \"http\"]"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "invalid value for variable \"ports\": -var gave \"http\" for var.ports[1], but its type list(number) wants a number there"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:2:1"), "{}", run.stderr);
    // A file's value is pointed at in the file, with the declaration named.
    assert!(
        run.stderr
            .contains("terraform.tfvars gave an object without \"engine\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("terraform.tfvars:1:1"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("is declared at"), "{}", run.stderr);
    assert!(run.stderr.contains("2 problems"), "{}", run.stderr);
}

#[test]
fn defaults_are_checked_against_the_type_even_when_unused() {
    let p = Project::new("vars-default");
    p.write(
        "main.hcl",
        "variable \"n\" {\n  type    = number\n  default = \"many\"\n}\n",
    );
    let run = plan(&p, &["-var", "n=3"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("its default gave \"many\", but its type number wants a number"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:3:13"), "{}", run.stderr);
}

#[test]
fn every_failing_validation_is_reported_at_the_variable_with_its_message() {
    let p = Project::new("vars-validation");
    p.write(
        "main.hcl",
        r#"
variable "env" {
  type = string
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod, not ${var.env}."
  }
  validation {
    condition     = length(var.env) <= 4
    error_message = "env is at most 4 characters."
  }
  validation {
    condition     = lower(var.env) == var.env
    error_message = "env is lower case."
  }
}
"#,
    );
    let run = plan(&p, &["-var", "env=staging"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let e = &run.stderr;
    assert!(
        e.contains("invalid value for variable \"env\": env must be dev or prod, not staging."),
        "{e}"
    );
    assert!(
        e.contains("invalid value for variable \"env\": env is at most 4 characters."),
        "{e}"
    );
    assert!(!e.contains("lower case"), "{e}");
    assert_eq!(e.matches("main.hcl:2:1").count(), 2, "{e}");
    assert!(e.contains("2 problems"), "{e}");
    plan(&p, &["-var", "env=dev"]).ok();
}

#[test]
fn nullable_false_uses_the_default_for_null_and_refuses_null_otherwise() {
    let p = Project::new("vars-null");
    p.write(
        "main.hcl",
        r#"
variable "a" {
  nullable = false
  default  = "fallback"
}
variable "b" {
  nullable = false
}
variable "c" {
  default = "not used"
}
output "o" {
  value = "${var.a}/${var.c == null ? "null" : var.c}"
}
"#,
    );
    p.write("terraform.tfvars", "a = null\nc = null\n");
    let run = plan(&p, &["-var", "b=x"]).ok();
    assert!(run.stdout.contains("\"fallback/null\""), "{}", run.stdout);
    p.write("terraform.tfvars", "b = null\n");
    let run = plan(&p, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("variable \"b\" must not be null, but ")
            && run.stderr.contains("terraform.tfvars gave null"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_required_variable_without_a_terminal_is_a_clear_error() {
    let p = Project::new("vars-missing");
    p.write("main.hcl", "variable \"region\" {}\n");
    let run = plan(&p, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("no value for required variable \"region\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("-var-file"), "{}", run.stderr);
}

#[test]
fn a_var_for_an_undeclared_variable_is_an_error_with_a_suggestion() {
    let p = Project::new("vars-undeclared");
    p.write("main.hcl", TYPED);
    let run = plan(&p, &["-var", "teir=x"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("-var sets \"teir\"") && run.stderr.contains("did you mean tier?"),
        "{}",
        run.stderr
    );
    let missing = p.dir().join("nope.tfvars");
    let run = plan(&p, &["-var-file", missing.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("nope.tfvars does not exist"),
        "{}",
        run.stderr
    );
}

/// Drives keel on a pseudo-terminal (through python3's pty module, which the moto
/// harness already requires) and returns everything the terminal showed.
fn on_a_terminal(p: &Project, args: &[&str], answers: &[&str]) -> String {
    let script = r#"
import os, pty, select, sys, time
argv = sys.argv[1:]
answers = os.environ["ANSWERS"].split("\x1f")
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
def pump(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
    return True
for a in answers:
    # Wait for the prompt before answering.
    deadline = time.time() + 20
    seen = out.count(b"Enter a value:")
    while out.count(b"Enter a value:") == seen and time.time() < deadline:
        if not pump(0.1):
            break
    os.write(fd, (a + "\n").encode())
while pump(0.5):
    pass
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_keel"))
        .args(args)
        .arg(p.dir())
        .current_dir(p.root.path())
        .env("NO_COLOR", "1")
        .env("ANSWERS", answers.join("\x1f"));
    let out = cmd.output().expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn missing_variables_are_asked_for_on_a_terminal_and_secrets_are_not_echoed() {
    let p = Project::new("vars-prompt");
    p.write(
        "main.hcl",
        r#"
variable "team" {
  description = "Who owns the stack."
}
variable "token" {
  type      = string
  sensitive = true
}
output "who" {
  value = "team ${var.team}"
}
"#,
    );
    let shown = on_a_terminal(
        &p,
        &["plan", "-refresh=false"],
        &["ml-infra", "s3cr3t-t0ken"],
    );
    assert!(
        shown.contains("var.team\r\n  Who owns the stack."),
        "{shown}"
    );
    assert!(shown.contains("var.token"), "{shown}");
    // The ordinary answer is echoed by the terminal, the sensitive one is not.
    assert!(shown.contains("ml-infra"), "{shown}");
    assert!(!shown.contains("s3cr3t-t0ken"), "{shown}");
    assert!(shown.contains("\"team ml-infra\""), "{shown}");
    // -input=false never asks.
    let shown = on_a_terminal(&p, &["plan", "-refresh=false", "-input=false"], &[]);
    assert!(
        shown.contains("no value for required variable \"team\""),
        "{shown}"
    );
}
