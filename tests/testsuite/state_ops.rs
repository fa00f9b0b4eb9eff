//! Local state operations through the `keel` command: list, show, rm and mv (checked
//! against the cloud, which they must not touch), damaged state reported and left alone,
//! client-side encryption with a passphrase or a KMS data key, rotation with
//! `keel state rekey`, and encrypted saved plans.

use crate::fixture::Project;
use crate::moto::{REGION, moto, stack_filter};

const PASSPHRASE: &str = "correct horse battery staple";
const NEW_PASSPHRASE: &str = "a brand new state passphrase";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn stack(name: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "{REGION}"
}}

resource "aws_vpc" "{name}" {{
  cidr_block = "10.62.0.0/16"
}}

resource "aws_subnet" "private" {{
  count      = 2
  vpc_id     = aws_vpc.{name}.id
  cidr_block = cidrsubnet("10.62.0.0/16", 8, count.index)
}}
"#
    )
}

async fn vpc_count(stack: &str) -> usize {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .expect("describe vpcs");
    out.vpcs().len()
}

#[test]
fn list_show_mv_and_rm_change_the_record_only() {
    let p = Project::new("ops");
    p.write("main.tf", &stack("main"));
    p.keel(&["apply", "-auto-approve"]).ok();

    let list = p.keel(&["state", "list"]).ok();
    assert_eq!(
        list.stdout,
        "aws_subnet.private[0]\naws_subnet.private[1]\naws_vpc.main\n"
    );
    let some = p
        .keel(&["state", "list", "-address", "aws_subnet.private"])
        .ok();
    assert_eq!(some.stdout.lines().count(), 2);

    let vpc_id = p.state()["resources"]["aws_vpc.main"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let show = p.keel(&["state", "show", "aws_vpc.main"]).ok();
    assert!(
        show.stdout
            .starts_with("# aws_vpc.main:\nresource \"aws_vpc\" \"main\" {\n"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains(&format!("\"{vpc_id}\"")),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("cidr_block"), "{}", show.stdout);
    let missing = p.keel(&["state", "show", "aws_vpc.nope"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("no resource in state matches aws_vpc.nope")
    );

    // Rename in configuration and in state: no changes, nothing replaced.
    p.write("main.tf", &stack("core"));
    let before_mv = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(before_mv.code, 2, "renaming alone plans a replacement");
    let mv = p
        .keel(&["state", "mv", "aws_vpc.main", "aws_vpc.core"])
        .ok();
    assert!(
        mv.stdout
            .contains("Move \"aws_vpc.main\" to \"aws_vpc.core\""),
        "{}",
        mv.stdout
    );
    let state = p.state();
    assert_eq!(state["resources"]["aws_vpc.core"]["id"], vpc_id.as_str());
    assert_eq!(
        state["resources"]["aws_subnet.private[0]"]["dependencies"],
        serde_json::json!(["aws_vpc.core"])
    );
    // Only keel's own address tag follows the move (an in-place update); nothing is
    // replaced.
    let after = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(after.code, 2, "{}{}", after.stdout, after.stderr);
    assert!(
        after
            .stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains("keel:address"), "{}", after.stdout);
    p.keel(&["apply", "-auto-approve"]).ok();
    assert_eq!(
        p.state()["resources"]["aws_vpc.core"]["id"],
        vpc_id.as_str()
    );
    p.assert_no_changes();
    let clash = p.keel(&[
        "state",
        "mv",
        "aws_subnet.private[0]",
        "aws_subnet.private[1]",
    ]);
    assert_eq!(clash.code, 1);
    assert!(
        clash.stderr.contains("already in state"),
        "{}",
        clash.stderr
    );
    let retype = p.keel(&["state", "mv", "aws_vpc.core", "aws_subnet.core"]);
    assert!(
        retype.stderr.contains("cannot change its type"),
        "{}",
        retype.stderr
    );

    // Forget the subnets: the objects stay in the cloud.
    let rm = p.keel(&["state", "rm", "aws_subnet.private"]).ok();
    assert!(
        rm.stdout
            .contains("Successfully removed 2 resource instance(s)"),
        "{}",
        rm.stdout
    );
    assert_eq!(p.keel(&["state", "list"]).ok().stdout, "aws_vpc.core\n");
    let subnets = block_on(async {
        moto()
            .ec2()
            .await
            .describe_subnets()
            .filters(stack_filter(&p.stack))
            .send()
            .await
            .expect("describe subnets")
    });
    assert_eq!(
        subnets.subnets().len(),
        2,
        "rm must not delete cloud objects"
    );
    assert_eq!(block_on(vpc_count(&p.stack)), 1);
    // A backup of the previous version sits beside the state.
    let backup: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.state_path().with_extension("json.backup")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        backup["serial"].as_u64().unwrap() + 1,
        p.state()["serial"].as_u64().unwrap()
    );
    assert!(backup["resources"]["aws_subnet.private[0]"].is_object());
}

#[test]
fn damaged_state_is_reported_with_what_to_do_and_never_overwritten() {
    let p = Project::new("damaged");
    p.write("main.tf", &stack("main"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let whole = std::fs::read(p.state_path()).unwrap();
    let cases: [(&[u8], &str); 4] = [
        (&whole[..whole.len() / 2], "cut off"),
        (b"{ not json", "not valid JSON"),
        (
            b"{\"version\": 99, \"lineage\": \"x\"}",
            "format version 99, newer than this keel",
        ),
        (
            b"{\"version\": 4, \"terraform_version\": \"1.9.0\", \"resources\": []}",
            "keel state import-terraform",
        ),
    ];
    for (bytes, want) in cases {
        std::fs::write(p.state_path(), bytes).unwrap();
        for args in [
            &["plan"][..],
            &["apply", "-auto-approve"],
            &["state", "rm", "aws_vpc.main"],
        ] {
            let run = p.keel(args);
            assert_eq!(run.code, 1, "{args:?}: {}", run.stdout);
            assert!(
                run.stderr.contains(want),
                "{args:?} {want:?}:\n{}",
                run.stderr
            );
            assert_eq!(
                std::fs::read(p.state_path()).unwrap(),
                bytes,
                "{args:?} changed the file"
            );
        }
    }
    let damaged = p.keel(&["plan"]);
    assert!(damaged.stderr.contains(".backup"), "{}", damaged.stderr);
    std::fs::write(p.state_path(), &whole).unwrap();
    p.assert_no_changes();
}

#[test]
fn passphrase_encryption_rotation_and_decryption() {
    let p = Project::new("enc");
    p.write("main.tf", &stack("main"));
    let env = [("KEEL_STATE_PASSPHRASE", PASSPHRASE)];
    p.keel_env(&["apply", "-auto-approve"], &env).ok();
    let sealed = std::fs::read_to_string(p.state_path()).unwrap();
    assert!(sealed.contains("\"provider\": \"passphrase\""), "{sealed}");
    assert!(sealed.contains("\"kdf\": \"argon2id\""), "{sealed}");
    assert!(
        !sealed.contains("vpc-") && !sealed.contains("10.62.0.0"),
        "{sealed}"
    );

    let none = p.keel(&["state", "list"]);
    assert_eq!(none.code, 1);
    assert!(
        none.stderr.contains("KEEL_STATE_PASSPHRASE is not set"),
        "{}",
        none.stderr
    );
    let short = p.keel_env(&["state", "list"], &[("KEEL_STATE_PASSPHRASE", "tooshort")]);
    assert!(short.stderr.contains("shorter than 16"), "{}", short.stderr);
    assert!(!short.stderr.contains("tooshort"));

    // Rotate: new passphrase, the old one only to open.
    let rotate = [
        ("KEEL_STATE_PASSPHRASE", NEW_PASSPHRASE),
        ("KEEL_STATE_OLD_PASSPHRASE", PASSPHRASE),
    ];
    let rekey = p.keel_env(&["state", "rekey"], &rotate).ok();
    assert!(
        rekey.stdout.contains("is now encrypted with a passphrase"),
        "{}",
        rekey.stdout
    );
    let old = p.keel_env(&["state", "list"], &env);
    assert!(old.stderr.contains("passphrase is wrong"), "{}", old.stderr);
    let old_backup = p.keel_env(
        &[
            "state",
            "list",
            "-state",
            p.state_path()
                .with_extension("json.backup")
                .to_str()
                .unwrap(),
        ],
        &env,
    );
    assert_eq!(
        old_backup.code, 1,
        "the backup must be rekeyed too: {}",
        old_backup.stdout
    );
    let new = [("KEEL_STATE_PASSPHRASE", NEW_PASSPHRASE)];
    let listed = p.keel_env(&["state", "list"], &new).ok();
    assert_eq!(listed.stdout.lines().count(), 3);
    let plan = p.keel_env(&["plan", "-detailed-exitcode"], &new);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    // Turn encryption off: the old passphrase opens, nothing seals.
    p.keel_env(
        &["state", "rekey"],
        &[("KEEL_STATE_OLD_PASSPHRASE", NEW_PASSPHRASE)],
    )
    .ok();
    assert!(p.state()["resources"]["aws_vpc.main"].is_object());
    p.assert_no_changes();

    // Configured in the stack: plain state is refused until rekeyed.
    p.write(
        "enc.tf",
        "terraform {\n  encryption {\n    key_provider = \"passphrase\"\n  }\n}\n",
    );
    let unset = p.keel(&["plan"]);
    assert!(
        unset.stderr.contains("KEEL_STATE_PASSPHRASE is not set"),
        "{}",
        unset.stderr
    );
    let plain = p.keel_env(&["plan"], &env);
    assert!(
        plain
            .stderr
            .contains("it is not encrypted, but encryption is configured"),
        "{}",
        plain.stderr
    );
    p.keel_env(&["state", "rekey"], &env).ok();
    let ok = p.keel_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
}

#[test]
fn kms_encryption_and_encrypted_saved_plans() {
    let p = Project::new("kms");
    let key_id = block_on(async {
        let kms = moto().kms().await;
        let key = kms.create_key().send().await.expect("create key");
        let id = key.key_metadata().unwrap().key_id().to_string();
        kms.create_alias()
            .alias_name(format!("alias/{}", p.stack))
            .target_key_id(&id)
            .send()
            .await
            .expect("alias");
        id
    });
    p.write(
        "enc.tf",
        &format!(
            "terraform {{\n  encryption {{\n    key_provider = \"aws_kms\"\n    kms_key_id   = \"alias/{}\"\n  }}\n}}\n",
            p.stack
        ),
    );
    p.write("main.tf", &stack("main"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let sealed: serde_json::Value = p.state();
    assert_eq!(sealed["key"]["provider"], "aws_kms");
    assert!(
        sealed["key"]["key_id"].as_str().unwrap().contains(&key_id),
        "{sealed}"
    );
    assert!(sealed["resources"].is_null());
    p.assert_no_changes();

    // A saved plan is sealed too, and keel show opens it.
    p.write(
        "main.tf",
        &stack("main").replace("count      = 2", "count      = 3"),
    );
    let plan_file = p.root.path().join("plan.out");
    p.keel(&["plan", "-out", plan_file.to_str().unwrap()]).ok();
    let saved = std::fs::read_to_string(&plan_file).unwrap();
    assert!(saved.contains("keel-encrypted/1") && saved.contains("\"content\": \"plan\""));
    assert!(!saved.contains("aws_subnet.private[2]"), "{saved}");
    let shown = crate::fixture::run_keel(p.root.path(), &["show", "-json"], &plan_file).ok();
    assert!(
        shown.stdout.contains("aws_subnet.private[2]"),
        "{}",
        shown.stdout
    );

    // A state sealed under KMS cannot pass for a plan, nor be read with a wrong key.
    let as_plan = crate::fixture::run_keel(p.root.path(), &["show", "-json"], &p.state_path());
    assert_eq!(as_plan.code, 1);
    assert!(
        as_plan
            .stderr
            .contains("holds an encrypted state, not plan"),
        "{}",
        as_plan.stderr
    );
}
