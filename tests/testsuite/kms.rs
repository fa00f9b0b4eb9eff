//! KMS keys and aliases against moto, each step checked through the SDK: created,
//! updated in place, replaced when a force-new attribute changes, and destroyed (a key is
//! scheduled for deletion, never deleted at once).

use crate::fixture::{Project, Run};
use crate::moto::moto;
use aws_sdk_kms::types::{KeySpec, KeyState};
use std::collections::BTreeMap;

/// The key keel recorded for `addr` in state.
fn state_id(p: &Project, addr: &str) -> String {
    p.state()["resources"][addr]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{addr} in state"))
        .to_string()
}

/// The plan line for `attr`, which must say it forces replacement.
fn assert_forces(plan: &Run, attr: &str) {
    assert!(
        plan.stdout
            .lines()
            .any(|l| l.contains(attr) && l.contains("# forces replacement")),
        "{attr} should force replacement:\n{}",
        plan.stdout
    );
}

async fn key_tags(id: &str) -> BTreeMap<String, String> {
    let out = moto()
        .kms()
        .await
        .list_resource_tags()
        .key_id(id)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect()
}

fn key_stack(body: &str) -> String {
    format!(
        r#"
resource "aws_kms_key" "data" {{
{body}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_key_is_created_updated_in_place_replaced_and_scheduled_for_deletion() {
    let p = Project::new("kms-key");
    let kms = moto().kms().await;
    p.write(
        "main.hcl",
        &key_stack(
            r#"
  description             = "training data"
  enable_key_rotation     = true
  rotation_period_in_days = 180
  deletion_window_in_days = 7
  tags = { team = "ml" }
"#,
        ),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let id = state_id(&p, "aws_kms_key.data");
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    let meta = meta.key_metadata().unwrap();
    assert_eq!(meta.description(), Some("training data"));
    assert_eq!(meta.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert!(meta.enabled());
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled());
    assert_eq!(rotation.rotation_period_in_days(), Some(180));
    let tags = key_tags(&id).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("ml"));
    assert_eq!(tags.get("keel:stack"), Some(&p.stack));
    assert_eq!(
        tags.get("keel:address").map(String::as_str),
        Some("aws_kms_key.data")
    );
    // No policy configured: the key has AWS's default one, read back and never a change.
    let policy = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap().contains("kms:*"));
    let state = p.state();
    let attrs = &state["resources"]["aws_kms_key.data"]["attributes"];
    assert_eq!(attrs["key_id"], id.as_str());
    assert_eq!(attrs["arn"], meta.arn().unwrap());
    assert!(attrs["policy"].as_str().unwrap().contains("kms:*"));
    p.assert_no_changes();

    // In place: description, a policy, rotation off, disabled, tags.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Describe","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"kms:DescribeKey","Resource":"*"}]}"#;
    p.write(
        "main.hcl",
        &key_stack(&format!(
            r#"
  description             = "training data, v2"
  enable_key_rotation     = false
  is_enabled              = false
  deletion_window_in_days = 7
  policy                  = {policy:?}
  tags = {{ team = "research" }}
"#
        )),
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_kms_key.data will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        state_id(&p, "aws_kms_key.data"),
        id,
        "updated, not replaced"
    );
    let meta = kms.describe_key().key_id(&id).send().await.unwrap();
    let meta = meta.key_metadata().unwrap();
    assert_eq!(meta.description(), Some("training data, v2"));
    assert!(!meta.enabled());
    assert_eq!(meta.key_state(), Some(&KeyState::Disabled));
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!rotation.key_rotation_enabled());
    let stored = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert!(stored.policy().unwrap().contains("role/reader"));
    let tags = key_tags(&id).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("research"));
    assert_eq!(tags.get("keel:stack"), Some(&p.stack));
    p.assert_no_changes();

    // The key spec forces a new key; the old one is scheduled for deletion.
    p.write(
        "main.hcl",
        &key_stack(
            r#"
  description              = "signing"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "RSA_2048"
  deletion_window_in_days  = 7
"#,
        ),
    );
    let plan = p.keel(&["plan"]).ok();
    assert_forces(&plan, "customer_master_key_spec");
    assert_forces(&plan, "key_usage");
    p.keel(&["apply", "-auto-approve"]).ok();
    let new_id = state_id(&p, "aws_kms_key.data");
    assert_ne!(new_id, id);
    let old = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        old.key_metadata().unwrap().key_state(),
        Some(&KeyState::PendingDeletion)
    );
    let new = kms.describe_key().key_id(&new_id).send().await.unwrap();
    assert_eq!(
        new.key_metadata().unwrap().key_spec(),
        Some(&KeySpec::Rsa2048)
    );
    p.assert_no_changes();

    // multi_region forces a new key too.
    p.write(
        "main.hcl",
        &key_stack(
            r#"
  description              = "signing"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "RSA_2048"
  deletion_window_in_days  = 7
  multi_region             = true
"#,
        ),
    );
    assert_forces(&p.keel(&["plan"]).ok(), "multi_region");
    p.keel(&["apply", "-auto-approve"]).ok();
    let mrk = state_id(&p, "aws_kms_key.data");
    assert!(mrk.starts_with("mrk-"), "{mrk}");

    // Destroy schedules the deletion with the configured window.
    let before = std::time::SystemTime::now();
    p.keel(&["destroy", "-auto-approve"]).ok();
    let gone = kms.describe_key().key_id(&mrk).send().await.unwrap();
    let gone = gone.key_metadata().unwrap();
    assert_eq!(gone.key_state(), Some(&KeyState::PendingDeletion));
    let when = gone.deletion_date().unwrap().secs();
    let in_days = (when
        - before
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64) as f64
        / 86400.0;
    assert!((6.9..7.1).contains(&in_days), "deletion in {in_days} days");
    assert!(p.state()["resources"].as_object().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_values_are_checked_at_plan_time_and_aws_errors_keep_their_code() {
    let p = Project::new("kms-check");
    p.write(
        "main.hcl",
        &key_stack(
            r#"
  deletion_window_in_days = 45
  rotation_period_in_days = 30
"#,
        ),
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for e in [
        "\"deletion_window_in_days\" in aws_kms_key.data: must be a whole number from 7 to 30, got 45",
        "\"rotation_period_in_days\" in aws_kms_key.data: must be a whole number from 90 to 2560, got 30",
        "main.hcl:4:",
        "main.hcl:5:",
    ] {
        assert!(run.stderr.contains(e), "expected {e:?} in:\n{}", run.stderr);
    }
    // A rotation period without rotation would never stick: refused before any call.
    p.write(
        "main.hcl",
        &key_stack(
            r#"
  rotation_period_in_days = 90
"#,
        ),
    );
    let run = p.keel(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("set enable_key_rotation = true"),
        "{}{}",
        run.stdout,
        run.stderr
    );

    // What AWS refuses comes back with its code and message, naming the resource.
    p.write(
        "main.hcl",
        r#"
resource "aws_kms_alias" "data" {
  name          = "alias/keel-missing-target"
  target_key_id = "00000000-0000-0000-0000-000000000000"
}
"#,
    );
    let run = p.keel(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("aws_kms_alias.data")
            && out.contains("NotFoundException: CreateAlias: Key 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000' does not exist"),
        "{out}"
    );
}

fn alias_stack(name_attr: &str, target: &str) -> String {
    format!(
        r#"
resource "aws_kms_key" "a" {{
  description             = "a"
  deletion_window_in_days = 7
}}

resource "aws_kms_key" "b" {{
  description             = "b"
  deletion_window_in_days = 7
}}

resource "aws_kms_alias" "data" {{
  {name_attr}
  target_key_id = {target}
}}
"#
    )
}

/// alias name -> target key id, as KMS lists them.
async fn aliases() -> BTreeMap<String, String> {
    let out = moto().kms().await.list_aliases().send().await.unwrap();
    out.aliases()
        .iter()
        .filter_map(|a| Some((a.alias_name()?.to_string(), a.target_key_id()?.to_string())))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_alias_checks_its_name_retargets_in_place_and_is_replaced_on_rename() {
    let p = Project::new("kms-alias");
    let name = format!("alias/{}", p.stack);

    // A name outside alias/ is refused at plan time, at the attribute.
    p.write(
        "main.hcl",
        &alias_stack(&format!("name = \"{}\"", p.stack), "aws_kms_key.a.key_id"),
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("must start with \"alias/\"") && run.stderr.contains("main.hcl:13:"),
        "{}",
        run.stderr
    );

    p.write(
        "main.hcl",
        &alias_stack(&format!("name = \"{name}\""), "aws_kms_key.a.key_id"),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let a = state_id(&p, "aws_kms_key.a");
    let b = state_id(&p, "aws_kms_key.b");
    assert_eq!(aliases().await.get(&name), Some(&a));
    let state = p.state();
    let attrs = &state["resources"]["aws_kms_alias.data"]["attributes"];
    assert_eq!(attrs["id"], name.as_str());
    assert_eq!(
        attrs["arn"],
        format!("arn:aws:kms:us-east-1:123456789012:{name}").as_str()
    );
    assert_eq!(
        attrs["target_key_arn"],
        format!("arn:aws:kms:us-east-1:123456789012:key/{a}").as_str()
    );
    p.assert_no_changes();

    // A new target is UpdateAlias; given as the key's ARN, it plans no change afterwards.
    p.write(
        "main.hcl",
        &alias_stack(&format!("name = \"{name}\""), "aws_kms_key.b.arn"),
    );
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_kms_alias.data will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(aliases().await.get(&name), Some(&b));
    p.assert_no_changes();

    // A new name replaces the alias.
    let renamed = format!("{name}-2");
    p.write(
        "main.hcl",
        &alias_stack(&format!("name = \"{renamed}\""), "aws_kms_key.b.arn"),
    );
    assert_forces(&p.keel(&["plan"]).ok(), "name");
    p.keel(&["apply", "-auto-approve"]).ok();
    let now = aliases().await;
    assert!(!now.contains_key(&name), "{now:?}");
    assert_eq!(now.get(&renamed), Some(&b));

    // name_prefix generates the name.
    p.write(
        "main.hcl",
        &alias_stack(
            &format!("name_prefix = \"{name}-\""),
            "aws_kms_key.b.key_id",
        ),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let generated = state_id(&p, "aws_kms_alias.data");
    assert!(generated.starts_with(&format!("{name}-")), "{generated}");
    assert_eq!(aliases().await.get(&generated), Some(&b));
    assert!(!aliases().await.contains_key(&renamed));
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(!aliases().await.contains_key(&generated));
    for key in [&a, &b] {
        let k = moto()
            .kms()
            .await
            .describe_key()
            .key_id(key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            k.key_metadata().unwrap().key_state(),
            Some(&KeyState::PendingDeletion)
        );
    }
}
