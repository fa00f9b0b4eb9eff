//! IAM types against moto: each created, read back through the SDK (not keel's state),
//! updated in place, replaced on a force-new change and deleted; policy documents
//! compared by meaning; deletes that IAM refuses until something is detached; reads
//! from an id alone; and the calls a refresh takes.
//!
//! What moto does not model, and how it is covered: moto stores policy documents as sent
//! where IAM re-serialises them (an out-of-band UpdateAssumeRolePolicy with reordered JSON
//! stands in for that below); moto answers GetPolicyVersion without URL-encoding (keel
//! decodes either way; GetRole and GetRolePolicy are encoded, as in IAM); moto never
//! answers NoSuchEntity for something just created (the wait for it is unit-tested in
//! src/providers/aws/iam/common.rs). Policy delete conflicts, IAM's tag characters and
//! trust-policy principals that have not propagated are patched into moto
//! (tests/moto/keel_moto.py, patch D).

use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_iam::Client;
use aws_sdk_iam::error::ProvideErrorMetadata;
use serde_json::Value as Json;
use std::collections::BTreeMap;

const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const READ_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

/// A policy document the way IAM hands it back: URL-encoded, or not (moto varies).
pub fn doc(raw: &str) -> Json {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        let mut out = Vec::new();
        let b = raw.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&raw[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    serde_json::from_str(&text).unwrap()
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap()
}

async fn iam() -> Client {
    moto().iam().await
}

fn tags(list: &[aws_sdk_iam::types::Tag]) -> BTreeMap<String, String> {
    list.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn assert_missing<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) {
    match r {
        Err(e) => assert_eq!(e.code(), Some("NoSuchEntity"), "{e:?}"),
        Ok(v) => panic!("expected NoSuchEntity, found {v:?}"),
    }
}

/// The plan line that marks `attr` as forcing a replacement.
fn forces(plan: &str, attr: &str) -> bool {
    plan.lines().any(|l| {
        l.trim_start().starts_with(&format!("~ {attr} ")) && l.contains("# forces replacement")
    })
}

fn role_hcl(name: &str, path: &str, description: &str, max: u32, trust: &str) -> String {
    format!(
        r#"
resource "aws_iam_role" "app" {{
  name                 = "{name}"
  path                 = "{path}"
  description          = "{description}"
  max_session_duration = {max}
  assume_role_policy   = <<EOF
{trust}
EOF
  tags = {{ team = "ml" }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn role_is_created_updated_in_place_replaced_and_deleted() {
    let p = Project::new("role");
    let name = p.stack.clone();
    p.write("main.hcl", &role_hcl(&name, "/", "first", 3600, TRUST_EC2));
    p.keel(&["apply", "-auto-approve"]).ok();
    let iam = iam().await;
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.description(), Some("first"));
    assert_eq!(role.max_session_duration(), Some(3600));
    assert_eq!(
        doc(role.assume_role_policy_document().unwrap()),
        json(TRUST_EC2)
    );
    let t = tags(role.tags());
    assert_eq!(t["team"], "ml");
    assert_eq!(t["keel:stack"], p.stack);
    assert_eq!(t["keel:address"], "aws_iam_role.app");
    let state = p.state();
    let recorded = &state["resources"]["aws_iam_role.app"]["attributes"];
    assert_eq!(recorded["arn"], role.arn());
    assert_eq!(recorded["unique_id"], role.role_id());
    assert_eq!(recorded["id"], name.as_str());
    p.assert_no_changes();
    // What the create recorded is what a read finds: no drift.
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // Trust policy, description and session length change in place.
    p.write(
        "main.hcl",
        &role_hcl(&name, "/", "second", 7200, TRUST_LAMBDA),
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_iam_role.app will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let after = iam.get_role().role_name(&name).send().await.unwrap();
    let after = after.role().unwrap();
    assert_eq!(after.role_id(), role.role_id(), "updated, not replaced");
    assert_eq!(after.description(), Some("second"));
    assert_eq!(after.max_session_duration(), Some(7200));
    assert_eq!(
        doc(after.assume_role_policy_document().unwrap()),
        json(TRUST_LAMBDA)
    );
    p.assert_no_changes();

    // A new path replaces the role, and the plan says which attribute forces it.
    p.write(
        "main.hcl",
        &role_hcl(&name, "/team/", "second", 7200, TRUST_LAMBDA),
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(forces(&plan.stdout, "path"), "{}", plan.stdout);
    p.keel(&["apply", "-auto-approve"]).ok();
    let replaced = iam.get_role().role_name(&name).send().await.unwrap();
    let replaced = replaced.role().unwrap();
    assert_eq!(replaced.path(), "/team/");
    assert_ne!(replaced.role_id(), role.role_id(), "a new role");
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(iam.get_role().role_name(&name).send().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn permissions_boundary_and_tags_change_in_place() {
    let p = Project::new("boundary");
    let hcl = |boundary: &str, team: &str| {
        format!(
            r#"
resource "aws_iam_policy" "boundary" {{
  name   = "{stack}-boundary"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "s3:*", Resource = "*" }}]
  }})
}}

resource "aws_iam_role" "app" {{
  name_prefix          = "bnd-"
  assume_role_policy   = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
  {boundary}
  tags = {{ team = "{team}" }}
}}
"#,
            stack = p.stack
        )
    };
    p.write("main.hcl", &hcl("", "a"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let name = p.state()["resources"]["aws_iam_role.app"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with("bnd-") && name.len() == 4 + 26, "{name}");
    let iam = iam().await;
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    assert!(role.role().unwrap().permissions_boundary().is_none());
    p.assert_no_changes();

    p.write(
        "main.hcl",
        &hcl("permissions_boundary = aws_iam_policy.boundary.arn", "b"),
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_iam_role.app will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    let role = role.role().unwrap();
    let boundary = role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
        .unwrap();
    assert!(
        boundary.ends_with(&format!(":policy/{}-boundary", p.stack)),
        "{boundary}"
    );
    let t = tags(role.tags());
    assert_eq!(t["team"], "b");
    assert_eq!(t["keel:address"], "aws_iam_role.app");
    p.assert_no_changes();

    // Removing the boundary removes it from the role.
    p.write("main.hcl", &hcl("", "b"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    assert!(role.role().unwrap().permissions_boundary().is_none());
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(iam.get_role().role_name(&name).send().await);
}

fn policy_hcl(stack: &str, description: &str, action: &str) -> String {
    format!(
        r#"
resource "aws_iam_policy" "read" {{
  name        = "{stack}"
  path        = "/keel/"
  description = "{description}"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "{action}", Resource = "*" }}]
  }})
  tags = {{ team = "ml" }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_documents_become_versions_kept_to_five() {
    let p = Project::new("policy");
    p.write("main.hcl", &policy_hcl(&p.stack, "reads", "s3:GetObject"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let iam = iam().await;
    let arn = p.state()["resources"]["aws_iam_policy.read"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let policy = policy.policy().unwrap();
    assert_eq!(policy.path(), Some("/keel/"));
    assert_eq!(policy.description(), Some("reads"));
    let t = tags(policy.tags());
    assert_eq!(t["keel:stack"], p.stack);
    assert_eq!(t["keel:address"], "aws_iam_policy.read");
    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // Each new document is a new default version; the sixth pushes out the oldest.
    let actions = [
        "s3:PutObject",
        "s3:ListBucket",
        "s3:DeleteObject",
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
    ];
    for (i, action) in actions.iter().enumerate() {
        p.write("main.hcl", &policy_hcl(&p.stack, "reads", action));
        if i == 0 {
            let plan = p.keel(&["plan"]).ok();
            assert!(
                plan.stdout
                    .contains("aws_iam_policy.read will be updated in-place"),
                "{}",
                plan.stdout
            );
        }
        p.keel(&["apply", "-auto-approve"]).ok();
    }
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    ids.sort();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
    let default = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let default = default
        .policy()
        .unwrap()
        .default_version_id()
        .unwrap()
        .to_string();
    assert_eq!(default, "v6");
    let v = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(&default)
        .send()
        .await
        .unwrap();
    let document = doc(v.policy_version().unwrap().document().unwrap());
    assert_eq!(document["Statement"][0]["Action"], "s3:PutObjectTagging");
    p.assert_no_changes();

    // The description forces a new policy.
    p.write(
        "main.hcl",
        &policy_hcl(&p.stack, "reads and writes", "s3:PutObjectTagging"),
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(forces(&plan.stdout, "description"), "{}", plan.stdout);
    // The old policy has five versions: moto (patched like IAM) refuses to delete it until
    // keel deletes the four that are not the default.
    p.keel(&["apply", "-auto-approve"]).ok();
    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(
        policy.policy().unwrap().description(),
        Some("reads and writes")
    );
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1, "a fresh policy");

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(iam.get_policy().policy_arn(&arn).send().await);
}

/// The same three documents as the user first wrote them...
const FIRST: &str = r#"
resource "aws_iam_role" "app" {
  name               = "NAME"
  assume_role_policy = <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]}
EOF
}

resource "aws_iam_policy" "p" {
  name   = "NAME"
  policy = <<EOF
{"Version": "2012-10-17", "Statement": [
  {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
  {"Sid": "Logs", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
]}
EOF
}

resource "aws_iam_role_policy" "inline" {
  name   = "inline"
  role   = aws_iam_role.app.name
  policy = <<EOF
{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}
EOF
}
"#;

/// ...and rewritten: keys reordered, whitespace changed, one-element lists as single
/// values and back, statements reordered.
const REWRITTEN: &str = r#"
resource "aws_iam_role" "app" {
  name               = "NAME"
  assume_role_policy = <<EOF
{
  "Statement": [
    { "Action": "sts:AssumeRole", "Principal": { "Service": "ec2.amazonaws.com" }, "Effect": "Allow" }
  ],
  "Version": "2012-10-17"
}
EOF
}

resource "aws_iam_policy" "p" {
  name   = "NAME"
  policy = <<EOF
{
  "Statement": [
    {"Resource": "*", "Action": ["logs:PutLogEvents"], "Effect": "Allow", "Sid": "Logs"},
    {"Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"], "Action": ["s3:ListBucket", "s3:GetObject"], "Effect": "Allow", "Sid": "Read"}
  ],
  "Version": "2012-10-17"
}
EOF
}

resource "aws_iam_role_policy" "inline" {
  name   = "inline"
  role   = aws_iam_role.app.name
  policy = <<EOF
{"Statement": [{"Resource": ["*"], "Action": ["sqs:SendMessage"], "Effect": "Allow"}], "Version": "2012-10-17"}
EOF
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn policy_documents_compare_by_meaning_and_state_keeps_the_users_text() {
    let p = Project::new("docs");
    let first = FIRST.replace("NAME", &p.stack);
    p.write("main.hcl", &first);
    p.keel(&["apply", "-auto-approve"]).ok();
    let state = p.state();
    let text = |addr: &str, attr: &str| {
        state["resources"][addr]["attributes"][attr]
            .as_str()
            .unwrap()
            .to_string()
    };
    // State holds the user's text, not IAM's re-serialised, URL-encoded copy.
    assert!(text("aws_iam_role.app", "assume_role_policy").contains(r#"["ec2.amazonaws.com"]"#));
    assert!(text("aws_iam_policy.p", "policy").contains("\n  {\"Sid\": \"Read\""));
    assert!(text("aws_iam_role_policy.inline", "policy").contains(r#""Statement": {"#));
    assert_eq!(
        state["resources"]["aws_iam_role_policy.inline"]["id"],
        format!("{}:inline", p.stack).as_str()
    );
    p.assert_no_changes();

    // The same documents written differently plan nothing.
    p.write("main.hcl", &REWRITTEN.replace("NAME", &p.stack));
    p.assert_no_changes();

    // Someone rewrites the trust policy in the cloud with the same meaning (as IAM itself
    // re-serialises documents, which moto does not): still nothing.
    let iam = iam().await;
    iam.update_assume_role_policy()
        .role_name(&p.stack)
        .policy_document(TRUST_EC2)
        .send()
        .await
        .unwrap();
    p.assert_no_changes();

    // A different grant in the cloud is a change to put back.
    iam.update_assume_role_policy()
        .role_name(&p.stack)
        .policy_document(TRUST_LAMBDA)
        .send()
        .await
        .unwrap();
    let plan = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("aws_iam_role.app will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let role = iam.get_role().role_name(&p.stack).send().await.unwrap();
    assert_eq!(
        doc(role.role().unwrap().assume_role_policy_document().unwrap()),
        json(TRUST_EC2)
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
}

fn attach_hcl(stack: &str, action: &str, attach: &str) -> String {
    format!(
        r#"
resource "aws_iam_role" "app" {{
  name               = "{stack}"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_policy" "a" {{
  name   = "{stack}-a"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }}]
  }})
}}

resource "aws_iam_policy" "b" {{
  name   = "{stack}-b"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "s3:PutObject", Resource = "*" }}]
  }})
}}

resource "aws_iam_role_policy" "inline" {{
  role   = aws_iam_role.app.id
  name   = "queue"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "{action}", Resource = "*" }}]
  }})
}}

resource "aws_iam_role_policy_attachment" "app" {{
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.{attach}.arn
}}
"#
    )
}

async fn attached(iam: &Client, role: &str) -> Vec<String> {
    let out = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    out.attached_policies()
        .iter()
        .filter_map(|a| a.policy_name().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_policies_update_in_place_and_attachments_are_replaced() {
    let p = Project::new("attach");
    let role = p.stack.clone();
    p.write("main.hcl", &attach_hcl(&role, "sqs:SendMessage", "a"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let iam = iam().await;
    let inline = iam
        .get_role_policy()
        .role_name(&role)
        .policy_name("queue")
        .send()
        .await
        .unwrap();
    assert_eq!(
        doc(inline.policy_document())["Statement"][0]["Action"],
        "sqs:SendMessage"
    );
    assert_eq!(attached(&iam, &role).await, [format!("{role}-a")]);
    // The attachment's id is Terraform's: the role name and a unique suffix.
    let id = p.state()["resources"]["aws_iam_role_policy_attachment.app"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        id.starts_with(&format!("{role}-")) && id.len() == role.len() + 1 + 26,
        "{id}"
    );
    p.assert_no_changes();

    p.write("main.hcl", &attach_hcl(&role, "sqs:ReceiveMessage", "a"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_iam_role_policy.inline will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let inline = iam
        .get_role_policy()
        .role_name(&role)
        .policy_name("queue")
        .send()
        .await
        .unwrap();
    assert_eq!(
        doc(inline.policy_document())["Statement"][0]["Action"],
        "sqs:ReceiveMessage"
    );

    // Another policy ARN is another attachment.
    p.write("main.hcl", &attach_hcl(&role, "sqs:ReceiveMessage", "b"));
    let plan = p.keel(&["plan"]).ok();
    assert!(forces(&plan.stdout, "policy_arn"), "{}", plan.stdout);
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(attached(&iam, &role).await, [format!("{role}-b")]);
    p.assert_no_changes();

    // An attachment removed behind keel's back is planned again.
    let arn_b = p.state()["resources"]["aws_iam_policy.b"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    iam.detach_role_policy()
        .role_name(&role)
        .policy_arn(&arn_b)
        .send()
        .await
        .unwrap();
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_iam_role_policy_attachment.app will be created"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(attached(&iam, &role).await, [format!("{role}-b")]);

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(iam.get_role().role_name(&role).send().await);
    assert_missing(iam.get_policy().policy_arn(&arn_b).send().await);
}

fn profile_hcl(stack: &str, role: &str, path: &str) -> String {
    format!(
        r#"
resource "aws_iam_role" "a" {{
  name               = "{stack}-a"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_role" "b" {{
  name               = "{stack}-b"
  assume_role_policy = aws_iam_role.a.assume_role_policy
}}

resource "aws_iam_instance_profile" "gpu" {{
  name = "{stack}"
  path = "{path}"
  role = aws_iam_role.{role}.name
  tags = {{ team = "ml" }}
}}
"#
    )
}

async fn profile_roles(iam: &Client, name: &str) -> Vec<String> {
    let out = iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .unwrap();
    out.instance_profile()
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn instance_profile_swaps_its_role_in_place() {
    let p = Project::new("profile");
    let name = p.stack.clone();
    p.write("main.hcl", &profile_hcl(&name, "a", "/"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let iam = iam().await;
    assert_eq!(profile_roles(&iam, &name).await, [format!("{name}-a")]);
    let out = iam
        .get_instance_profile()
        .instance_profile_name(&name)
        .send()
        .await
        .unwrap();
    let profile = out.instance_profile().unwrap();
    let t = tags(profile.tags());
    assert_eq!(t["team"], "ml");
    assert_eq!(t["keel:address"], "aws_iam_instance_profile.gpu");
    let first_id = profile.instance_profile_id().to_string();
    let state = p.state();
    let recorded = &state["resources"]["aws_iam_instance_profile.gpu"]["attributes"];
    assert_eq!(recorded["arn"], profile.arn());
    assert_eq!(recorded["unique_id"], first_id.as_str());
    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    p.write("main.hcl", &profile_hcl(&name, "b", "/"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_iam_instance_profile.gpu will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(profile_roles(&iam, &name).await, [format!("{name}-b")]);
    p.assert_no_changes();

    p.write("main.hcl", &profile_hcl(&name, "b", "/gpu/"));
    let plan = p.keel(&["plan"]).ok();
    assert!(forces(&plan.stdout, "path"), "{}", plan.stdout);
    p.keel(&["apply", "-auto-approve"]).ok();
    let out = iam
        .get_instance_profile()
        .instance_profile_name(&name)
        .send()
        .await
        .unwrap();
    let profile = out.instance_profile().unwrap();
    assert_eq!(profile.path(), "/gpu/");
    assert_ne!(profile.instance_profile_id(), first_id);
    assert_eq!(profile_roles(&iam, &name).await, [format!("{name}-b")]);

    // The profile still holds role b: keel takes it out before deleting either.
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(
        iam.get_instance_profile()
            .instance_profile_name(&name)
            .send()
            .await,
    );
    assert_missing(iam.get_role().role_name(format!("{name}-b")).send().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_holding_policies_is_deleted_only_with_force_detach_policies() {
    let p = Project::new("detach");
    let role = p.stack.clone();
    let hcl = |force: bool| {
        format!(
            r#"
resource "aws_iam_role" "app" {{
  name                  = "{role}"
  force_detach_policies = {force}
  assume_role_policy    = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}
"#
        )
    };
    p.write("main.hcl", &hcl(false));
    p.keel(&["apply", "-auto-approve"]).ok();

    // Someone attaches a managed policy and adds an inline one outside keel.
    let iam = iam().await;
    let outside = iam
        .create_policy()
        .policy_name(format!("{role}-outside"))
        .policy_document(READ_S3)
        .send()
        .await
        .unwrap();
    let outside_arn = outside.policy().unwrap().arn().unwrap().to_string();
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(&outside_arn)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("by-hand")
        .policy_document(READ_S3)
        .send()
        .await
        .unwrap();

    let run = p.keel(&["destroy", "-auto-approve"]);
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(out.contains("DeleteConflict"), "{out}");
    assert!(
        out.contains(&outside_arn),
        "names the attached policy: {out}"
    );
    assert!(out.contains("by-hand"), "names the inline policy: {out}");
    assert!(out.contains("force_detach_policies = true"), "{out}");
    assert!(!out.contains("SdkError"), "no SDK debug dump: {out}");
    iam.get_role().role_name(&role).send().await.unwrap();
    assert_eq!(attached(&iam, &role).await, [format!("{role}-outside")]);

    p.write("main.hcl", &hcl(true));
    p.keel(&["apply", "-auto-approve"]).ok();
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(iam.get_role().role_name(&role).send().await);
    // The managed policy was detached, not deleted.
    let kept = iam
        .get_policy()
        .policy_arn(&outside_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.policy().unwrap().attachment_count(), Some(0));
    iam.delete_policy()
        .policy_arn(&outside_arn)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trust_policy_naming_a_role_just_created_waits_for_it() {
    // moto, patched like IAM, calls a role an invalid principal for a second after its
    // creation; without keel's wait the second role's CreateRole fails.
    let p = Project::new("trust");
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_iam_role" "first" {{
  name               = "{stack}-first"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_role" "second" {{
  name               = "{stack}-second"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ AWS = aws_iam_role.first.arn }} }}]
  }})
}}
"#,
            stack = p.stack
        ),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let iam = iam().await;
    let first = iam
        .get_role()
        .role_name(format!("{}-first", p.stack))
        .send()
        .await
        .unwrap();
    let second = iam
        .get_role()
        .role_name(format!("{}-second", p.stack))
        .send()
        .await
        .unwrap();
    let trust = doc(second
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap());
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        first.role().unwrap().arn()
    );
    p.assert_no_changes();
    p.keel(&["destroy", "-auto-approve"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_read_from_their_ids_alone_come_back_whole() {
    // What an import does: state knows only each object's id, and refresh reads the rest.
    let p = Project::new("import");
    let s = p.stack.clone();
    let iam = iam().await;
    let keel_tags = |addr: &str| {
        vec![
            aws_sdk_iam::types::Tag::builder()
                .key("keel:stack")
                .value(&s)
                .build()
                .unwrap(),
            aws_sdk_iam::types::Tag::builder()
                .key("keel:address")
                .value(addr)
                .build()
                .unwrap(),
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("ml")
                .build()
                .unwrap(),
        ]
    };
    iam.create_role()
        .role_name(&s)
        .description("made by hand")
        .assume_role_policy_document(TRUST_EC2)
        .set_tags(Some(keel_tags("aws_iam_role.app")))
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name(&s)
        .policy_document(READ_S3)
        .set_tags(Some(keel_tags("aws_iam_policy.read")))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    iam.put_role_policy()
        .role_name(&s)
        .policy_name("inline")
        .policy_document(READ_S3)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(&s)
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name(&s)
        .set_tags(Some(keel_tags("aws_iam_instance_profile.gpu")))
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name(&s)
        .role_name(&s)
        .send()
        .await
        .unwrap();

    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_iam_role" "app" {{
  name               = "{s}"
  description        = "made by hand"
  assume_role_policy = <<EOF
{TRUST_EC2}
EOF
  tags = {{ team = "ml" }}
}}

resource "aws_iam_policy" "read" {{
  name   = "{s}"
  policy = <<EOF
{READ_S3}
EOF
  tags = {{ team = "ml" }}
}}

resource "aws_iam_role_policy" "inline" {{
  role   = aws_iam_role.app.name
  name   = "inline"
  policy = <<EOF
{READ_S3}
EOF
}}

resource "aws_iam_role_policy_attachment" "read" {{
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}}

resource "aws_iam_instance_profile" "gpu" {{
  name = "{s}"
  role = aws_iam_role.app.name
  tags = {{ team = "ml" }}
}}
"#
        ),
    );
    let ids = [
        ("aws_iam_role.app", s.clone()),
        ("aws_iam_policy.read", arn.clone()),
        ("aws_iam_role_policy.inline", format!("{s}:inline")),
        ("aws_iam_role_policy_attachment.read", format!("{s}/{arn}")),
        ("aws_iam_instance_profile.gpu", s.clone()),
    ];
    let resources: serde_json::Map<String, Json> = ids
        .iter()
        .map(|(addr, id)| {
            (
                addr.to_string(),
                serde_json::json!({
                    "type": addr.split('.').next().unwrap(),
                    "id": id,
                    "attributes": { "id": id },
                    "dependencies": [],
                }),
            )
        })
        .collect();
    std::fs::create_dir_all(p.state_path().parent().unwrap()).unwrap();
    std::fs::write(
        p.state_path(),
        serde_json::to_string_pretty(&serde_json::json!({
            "version": 1,
            "lineage": uuid::Uuid::new_v4().to_string(),
            "serial": 1,
            "keel_version": "0.1.0",
            "stack": s,
            "resources": resources,
        }))
        .unwrap(),
    )
    .unwrap();

    p.keel(&["apply", "-refresh-only", "-auto-approve"]).ok();
    let state = p.state();
    let attrs = |addr: &str| state["resources"][addr]["attributes"].clone();
    let role = attrs("aws_iam_role.app");
    assert!(
        role["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":role/{s}"))
    );
    assert!(role["unique_id"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(role["description"], "made by hand");
    assert_eq!(
        json(role["assume_role_policy"].as_str().unwrap()),
        json(TRUST_EC2)
    );
    assert_eq!(role["tags"], serde_json::json!({ "team": "ml" }));
    assert_eq!(role["tags_all"]["keel:address"], "aws_iam_role.app");
    let policy = attrs("aws_iam_policy.read");
    assert_eq!(policy["arn"], arn.as_str());
    assert_eq!(policy["name"], s.as_str());
    assert_eq!(json(policy["policy"].as_str().unwrap()), json(READ_S3));
    assert!(policy["policy_id"].as_str().is_some());
    let inline = attrs("aws_iam_role_policy.inline");
    assert_eq!(inline["role"], s.as_str());
    assert_eq!(inline["name"], "inline");
    assert_eq!(json(inline["policy"].as_str().unwrap()), json(READ_S3));
    let attachment = attrs("aws_iam_role_policy_attachment.read");
    assert_eq!(attachment["role"], s.as_str());
    assert_eq!(attachment["policy_arn"], arn.as_str());
    let profile = attrs("aws_iam_instance_profile.gpu");
    assert_eq!(profile["role"], s.as_str());
    assert!(
        profile["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":instance-profile/{s}"))
    );

    // What was read matches the configuration: nothing to do.
    p.assert_no_changes();
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_missing(iam.get_role().role_name(&s).send().await);
    assert_missing(iam.get_policy().policy_arn(&arn).send().await);
}

/// The calls of one phase and operation in a drift metrics file.
fn calls(prom: &str, operation: &str) -> u64 {
    prom.lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{"))
        .filter(|l| {
            l.contains("phase=\"refresh\"") && l.contains(&format!("operation=\"{operation}\""))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn refreshing_iam_takes_the_calls_the_formula_says() {
    // n of each type; every attachment is on the first role. Expected refresh calls:
    // n GetRole + n GetPolicy + n GetPolicyVersion + n GetRolePolicy + n GetInstanceProfile
    // + 1 ListAttachedRolePolicies (one per distinct role) = 5n + 1.
    let n = 4;
    let p = Project::new("iamcalls");
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_iam_role" "w" {{
  count              = {n}
  name               = "{s}-${{count.index}}"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_policy" "p" {{
  count  = {n}
  name   = "{s}-${{count.index}}"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }}]
  }})
}}

resource "aws_iam_role_policy" "i" {{
  count  = {n}
  role   = aws_iam_role.w[count.index].name
  name   = "inline"
  policy = aws_iam_policy.p[count.index].policy
}}

resource "aws_iam_role_policy_attachment" "a" {{
  count      = {n}
  role       = aws_iam_role.w[0].name
  policy_arn = aws_iam_policy.p[count.index].arn
}}

resource "aws_iam_instance_profile" "g" {{
  count = {n}
  name  = "{s}-${{count.index}}"
  role  = aws_iam_role.w[count.index].name
}}
"#,
            s = p.stack
        ),
    );
    // The policies are attached after they are created, so their attachment_count moves
    // on; it is a volatile counter, so the drift run below must still find no drift.
    p.keel(&["apply", "-auto-approve"]).ok();

    // keel:address of a counted resource holds brackets, which IAM tag values may not:
    // IAM stores it encoded, state holds it as written.
    let iam = iam().await;
    let role = iam
        .get_role()
        .role_name(format!("{}-0", p.stack))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(role.role().unwrap().tags())["keel:address"],
        "aws_iam_role.w+5B0+5D"
    );
    assert_eq!(
        p.state()["resources"]["aws_iam_role.w[0]"]["attributes"]["tags_all"]["keel:address"],
        "aws_iam_role.w[0]"
    );

    let metrics = p.root.path().join("drift.prom");
    let run = p.keel(&["drift", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let prom = std::fs::read_to_string(&metrics).unwrap();
    for op in [
        "GetRole",
        "GetPolicy",
        "GetPolicyVersion",
        "GetRolePolicy",
        "GetInstanceProfile",
    ] {
        assert_eq!(calls(&prom, op), n, "{op}: {prom}");
    }
    assert_eq!(calls(&prom, "ListAttachedRolePolicies"), 1, "{prom}");
    let total: u64 = prom
        .lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{") && l.contains("phase=\"refresh\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 5 * n + 1, "{prom}");
    p.assert_no_changes();
    p.keel(&["destroy", "-auto-approve"]).ok();
}
