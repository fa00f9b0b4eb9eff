//! Bad input: a clear error with file:line:column, exit 1, and state left exactly as it was.

use crate::fixture::Project;

const GOOD: &str = r#"resource "aws_vpc" "main" {
  cidr_block = "10.40.0.0/16"
}
"#;

/// Applies a good stack, then checks that `plan` and `apply` of `bad` fail with every
/// `expected` text in their error output and leave the state file's bytes untouched.
fn rejects(bad: &str, expected: &[&str]) {
    let p = Project::new("errors");
    p.write("main.hcl", GOOD);
    p.keel(&["apply", "-auto-approve"]).ok();
    let state_before = std::fs::read(p.state_path()).unwrap();
    p.write("main.hcl", bad);
    for cmd in [&["plan"][..], &["apply", "-auto-approve"][..]] {
        let run = p.keel(cmd);
        assert_eq!(
            run.code, 1,
            "{cmd:?} should fail:\n{}{}",
            run.stdout, run.stderr
        );
        for e in expected {
            let e = e.replace("STACK", &p.stack);
            assert!(
                run.stderr.contains(&e),
                "{cmd:?}: expected {e:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(
            std::fs::read(p.state_path()).unwrap(),
            state_before,
            "state untouched by {cmd:?}"
        );
    }
}

#[test]
fn a_syntax_error_points_at_its_line_and_column() {
    rejects(
        "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.40.0.0/16\n}\n",
        &["syntax error", "STACK/main.hcl:2:"],
    );
}

#[test]
fn an_unknown_reference_is_named_with_a_suggestion() {
    rejects(
        r#"resource "aws_vpc" "main" {
  cidr_block = "10.40.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.mian.id
  cidr_block = "10.40.1.0/24"
}
"#,
        &[
            "reference to undeclared resource aws_vpc.mian",
            "did you mean aws_vpc.main?",
            "STACK/main.hcl:6:16",
        ],
    );
}

#[test]
fn a_cycle_names_every_address_in_it() {
    rejects(
        r#"resource "aws_vpc" "main" {
  cidr_block = "10.40.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.40.1.0/24"
  tags = { peer = aws_subnet.b.id }
}

resource "aws_subnet" "b" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.40.2.0/24"
  tags = { peer = aws_subnet.a.id }
}
"#,
        &[
            "dependency cycle between",
            "aws_subnet.a (STACK/main.hcl:5:1)",
            "aws_subnet.b (STACK/main.hcl:11:1)",
        ],
    );
}

#[test]
fn an_unknown_resource_type_says_what_is_supported() {
    rejects(
        r#"resource "aws_vpcc" "main" {
  cidr_block = "10.40.0.0/16"
}
"#,
        &[
            "keel does not support resource type \"aws_vpcc\"",
            "did you mean \"aws_vpc\"?",
            "STACK/main.hcl:1:10",
        ],
    );
}

#[test]
fn an_unknown_argument_is_pointed_at() {
    rejects(
        r#"resource "aws_vpc" "main" {
  cidr_blok = "10.40.0.0/16"
}
"#,
        &[
            "unsupported argument \"cidr_blok\"",
            "did you mean \"cidr_block\"?",
            "STACK/main.hcl:2:3",
        ],
    );
}

/// A CI template that leaves AWS_ENDPOINT_URL empty must not crash keel: an empty setting
/// means no custom endpoint. With moto's endpoint given as the S3-specific setting only,
/// the EC2 call goes to AWS's own endpoint, which this machine cannot reach: keel must fail
/// with an error, not a panic.
#[test]
fn an_empty_endpoint_setting_is_no_endpoint() {
    let p = crate::fixture::Project::new("empty-endpoint");
    p.write(
        "main.hcl",
        "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.60.0.0/16\"\n  tags       = { team = \"t\" }\n}\n",
    );
    let run: crate::fixture::Run = p
        .command(&["apply", "-auto-approve"])
        .env("AWS_ENDPOINT_URL", "")
        .env("AWS_ENDPOINT_URL_EC2", "")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .output()
        .expect("run keel")
        .into();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("aws_vpc.main") && out.contains("rror"),
        "{out}"
    );
}

#[test]
fn an_unreachable_endpoint_is_named_in_words_not_an_sdk_dump() {
    let p = crate::fixture::Project::new("unreachable");
    p.write(
        "main.hcl",
        "data \"aws_caller_identity\" \"me\" {}\noutput \"account\" { value = data.aws_caller_identity.me.account_id }\n",
    );
    let run: crate::fixture::Run = p
        .command(&["plan"])
        // Nothing listens on port 9 of the loopback address.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("run keel")
        .into();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot reach the AWS endpoint"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("data.aws_caller_identity.me"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("DispatchFailure("), "{}", run.stderr);
}

#[test]
fn missing_credentials_say_how_to_provide_them() {
    let p = crate::fixture::Project::new("nocreds");
    p.write(
        "main.hcl",
        "data \"aws_caller_identity\" \"me\" {}\noutput \"account\" { value = data.aws_caller_identity.me.account_id }\n",
    );
    let home = tempfile::tempdir().unwrap();
    let run: crate::fixture::Run = p
        .command(&["plan"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("run keel")
        .into();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no AWS credentials could be loaded"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", run.stderr);
    assert!(!run.stderr.contains("DispatchFailure("), "{}", run.stderr);
}
