//! State in S3: two keels racing for one stack's lock (one wins, the other is told who
//! holds it), a lock left by a killed keel that only force-unlock breaks, a writer whose
//! lock was broken that cannot overwrite the state, a missing bucket, encrypted state in
//! the bucket, and moving state between a local file and S3. The bucket is read back
//! through the SDK, never through keel.

use crate::fixture::{Project, Run, unique};
use crate::moto::{REGION, moto};
use keel::state::crypto::{Encryption, EncryptionSettings};
use keel::state::{Backend, S3Settings, S3Store, State, StateError, Store};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "team state passphrase, long enough";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

async fn bucket() -> String {
    let name = unique("state").to_lowercase();
    moto()
        .s3()
        .await
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create the state bucket");
    name
}

/// The object's bytes, or None.
async fn object(bucket: &str, key: &str) -> Option<Vec<u8>> {
    match moto()
        .s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
    {
        Ok(o) => Some(o.body.collect().await.expect("body").into_bytes().to_vec()),
        Err(_) => None,
    }
}

fn backend_block(bucket: &str, key: &str) -> String {
    format!(
        r#"
terraform {{
  backend "s3" {{
    bucket = "{bucket}"
    key    = "{key}"
    region = "{REGION}"
  }}
}}
"#
    )
}

fn vpc_stack(tag: &str, subnets: usize) -> String {
    let mut s = format!(
        r#"
provider "aws" {{
  region = "{REGION}"
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.61.0.0/16"
  tags = {{
    round = "{tag}"
  }}
}}
"#
    );
    for i in 0..subnets {
        s.push_str(&format!(
            r#"
resource "aws_subnet" "s{i}" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.61.{i}.0/24"
  tags = {{
    round = "{tag}"
  }}
}}
"#
        ));
    }
    s
}

fn state_of(bucket: &str, key: &str) -> serde_json::Value {
    let bytes = block_on(object(bucket, key)).expect("state object exists");
    serde_json::from_slice(&bytes).expect("state is JSON")
}

#[test]
fn racing_applies_one_wins_the_other_is_told_who_holds_the_lock() {
    let p = Project::new("race");
    let bucket = block_on(bucket());
    let key = format!("stacks/{}.json", p.stack);
    p.write("backend.tf", &backend_block(&bucket, &key));
    p.write("main.tf", &vpc_stack("0", 4));
    p.keel(&["apply", "-auto-approve"]).ok();

    let rounds = 20;
    for round in 1..=rounds {
        p.write("main.tf", &vpc_stack(&round.to_string(), 4));
        let spawn = || -> Child {
            p.command(&["apply", "-auto-approve"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn keel")
        };
        let (a, b) = (spawn(), spawn());
        let runs: Vec<Run> = [a, b]
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait").into())
            .collect();
        let winners: Vec<&Run> = runs.iter().filter(|r| r.code == 0).collect();
        let losers: Vec<&Run> = runs.iter().filter(|r| r.code != 0).collect();
        assert_eq!(
            (winners.len(), losers.len()),
            (1, 1),
            "round {round}: exactly one apply must win\n{}",
            runs.iter()
                .map(|r| format!("exit {}:\n{}{}", r.code, r.stdout, r.stderr))
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        let loser = losers[0];
        assert_eq!(loser.code, 1, "round {round}: {}", loser.stderr);
        assert!(
            loser
                .stderr
                .contains(&format!("state s3://{bucket}/{key} is locked by"))
                && loser.stderr.contains("keel apply")
                && loser.stderr.contains("lock id")
                && loser.stderr.contains("keel force-unlock"),
            "round {round}: the loser must name the holder:\n{}",
            loser.stderr
        );
        assert!(
            !loser.stdout.contains("Modifying"),
            "round {round}: the loser changed something:\n{}",
            loser.stdout
        );
        assert!(
            winners[0].stdout.contains("Apply complete!"),
            "{}",
            winners[0].stdout
        );
        // The winner released its lock, and its work is recorded.
        assert!(block_on(object(&bucket, &format!("{key}.lock"))).is_none());
        let state = state_of(&bucket, &key);
        assert_eq!(
            state["resources"]["aws_vpc.main"]["attributes"]["tags"]["round"],
            round.to_string()
        );
    }
    // The cloud agrees with the last winner.
    let state = state_of(&bucket, &key);
    let vpc_id = state["resources"]["aws_vpc.main"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let vpcs = block_on(async {
        moto()
            .ec2()
            .await
            .describe_vpcs()
            .vpc_ids(&vpc_id)
            .send()
            .await
            .expect("describe")
    });
    let tags = vpcs.vpcs()[0].tags();
    assert!(
        tags.iter()
            .any(|t| t.key() == Some("round") && t.value() == Some(&*rounds.to_string()))
    );
    p.assert_no_changes();
}

#[test]
fn a_killed_keel_leaves_a_lock_that_only_force_unlock_breaks() {
    let p = Project::new("stale");
    let bucket = block_on(bucket());
    let key = format!("{}.json", p.stack);
    let lock_key = format!("{key}.lock");
    p.write("backend.tf", &backend_block(&bucket, &key));
    p.write("main.tf", &vpc_stack("a", 3));

    let mut child = p
        .command(&["apply", "-auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keel");
    let started = Instant::now();
    let lock: serde_json::Value = loop {
        if let Some(bytes) = block_on(object(&bucket, &lock_key)) {
            break serde_json::from_slice(&bytes).expect("the lock holds JSON");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "keel never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    child.kill().expect("SIGKILL keel");
    child.wait().expect("reap keel");
    let id = lock["id"].as_str().expect("lock id").to_string();
    assert_eq!(lock["operation"], "apply");
    assert!(lock["who"].as_str().unwrap().contains('@'));
    assert!(lock["created"].as_str().is_some());

    // Every later command is refused, naming the dead holder, however long it waits.
    let plan = p.keel(&["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(plan.stderr.contains(&id), "{}", plan.stderr);
    assert!(plan.stderr.contains("ago"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains(&format!("keel force-unlock {id}")),
        "{}",
        plan.stderr
    );

    // Only the right id, and only when confirmed, breaks it.
    let wrong = p.keel(&["force-unlock", "-force", "not-the-id"]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains(&format!("locked under id {id}")),
        "{}",
        wrong.stderr
    );
    let unasked = p.keel(&["force-unlock", &id]);
    assert_eq!(unasked.code, 1);
    assert!(unasked.stderr.contains("pass -force"), "{}", unasked.stderr);
    let no = p.keel_with_input(&["force-unlock", &id], "no\n");
    assert_eq!(no.code, 1);
    assert!(
        block_on(object(&bucket, &lock_key)).is_some(),
        "the lock must survive"
    );

    let yes = p.keel_with_input(&["force-unlock", &id], "yes\n").ok();
    assert!(
        yes.stdout.contains("successfully unlocked"),
        "{}",
        yes.stdout
    );
    assert!(block_on(object(&bucket, &lock_key)).is_none());
    let again = p.keel(&["force-unlock", "-force", &id]);
    assert!(again.stderr.contains("is not locked"), "{}", again.stderr);

    // The stack carries on from whatever the killed apply recorded.
    p.keel(&["apply", "-auto-approve"]).ok();
    p.assert_no_changes();
}

/// A backend over the bucket, named after it (so files it saves aside are unique).
async fn s3_backend(bucket: &str, key: &str) -> Backend {
    let settings = S3Settings {
        bucket: bucket.into(),
        key: key.into(),
        region: Some(REGION.into()),
        ..Default::default()
    };
    let client = moto().s3().await;
    Backend::new(
        Store::S3(S3Store::with_client(client, settings)),
        Encryption::new(EncryptionSettings::default()),
        bucket,
    )
}

#[test]
fn a_writer_whose_lock_was_broken_cannot_overwrite_the_state() {
    let bucket = block_on(bucket());
    let key = "lost.json";
    block_on(async {
        let a = s3_backend(&bucket, key).await;
        let b = s3_backend(&bucket, key).await;
        let lock_a = a.lock("apply").await.unwrap();
        let mut state_a = a
            .read()
            .await
            .unwrap()
            .unwrap_or_else(|| State::new("lost"));
        a.write(&lock_a, &mut state_a).await.unwrap();

        // B breaks A's lock, takes it and writes.
        match b.lock("apply").await.unwrap_err() {
            StateError::Locked { holder, remote, .. } => {
                assert!(remote);
                assert_eq!(holder.id, lock_a.info.id);
            }
            other => panic!("expected a held lock, got {other}"),
        }
        b.force_unlock(&lock_a.info.id).await.unwrap();
        let lock_b = b.lock("apply").await.unwrap();
        let mut state_b = b.read().await.unwrap().unwrap();
        state_b.outputs.insert(
            "owner".into(),
            keel::state::OutputState {
                value: "b".into(),
                sensitive: false,
            },
        );
        b.write(&lock_b, &mut state_b).await.unwrap();

        // A, unaware, writes again: refused, and what it meant to write is kept aside
        // (in the working directory, as Terraform's errored.tfstate).
        let err = a.write(&lock_a, &mut state_a).await.unwrap_err();
        let StateError::Conflict {
            saved: Some(saved), ..
        } = &err
        else {
            panic!("expected a conflict with the state saved aside, got {err}");
        };
        let kept: serde_json::Value =
            serde_json::from_slice(&std::fs::read(saved).unwrap()).unwrap();
        std::fs::remove_file(saved).unwrap();
        assert_eq!(kept["serial"], state_a.serial);
        assert!(err.to_string().contains("did not overwrite"), "{err}");
        drop(lock_a); // its release must not delete B's lock
        assert!(object(&bucket, &format!("{key}.lock")).await.is_some());

        let stored: serde_json::Value =
            serde_json::from_slice(&object(&bucket, key).await.unwrap()).unwrap();
        assert_eq!(stored["outputs"]["owner"]["value"], "b");
        assert_eq!(stored["serial"], state_b.serial);
        // The backup is exactly the version B replaced.
        let backup: serde_json::Value =
            serde_json::from_slice(&object(&bucket, &format!("{key}.backup")).await.unwrap())
                .unwrap();
        assert_eq!(backup["serial"], state_b.serial - 1);
        drop(lock_b);
        assert!(object(&bucket, &format!("{key}.lock")).await.is_none());
    });
}

#[test]
fn a_missing_bucket_is_named() {
    let p = Project::new("nobucket");
    let bucket = unique("absent").to_lowercase();
    p.write("backend.tf", &backend_block(&bucket, "x.json"));
    p.write("main.tf", &vpc_stack("a", 0));
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("the S3 bucket \"{bucket}\""))
            && run.stderr.contains("does not exist")
            && run.stderr.contains("create it"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_backend_settings_point_at_the_line() {
    let p = Project::new("badbackend");
    p.write(
        "backend.tf",
        "terraform {\n  backend \"s3\" {\n    bucket         = var.b\n    dynamodb_table = \"locks\"\n  }\n}\n",
    );
    p.write("main.tf", &vpc_stack("a", 0));
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1);
    for want in [
        "bucket must be a plain string",
        "backend.tf:3:5",
        "does not lock state with DynamoDB",
        "backend \"s3\" needs key",
    ] {
        assert!(
            run.stderr.contains(want),
            "missing {want:?}:\n{}",
            run.stderr
        );
    }
}

#[test]
fn encrypted_state_in_s3_cannot_be_read_without_the_key() {
    let p = Project::new("s3enc");
    let bucket = block_on(bucket());
    let key = format!("{}.json", p.stack);
    p.write("backend.tf", &backend_block(&bucket, &key));
    p.write("main.tf", &vpc_stack("secret-tag", 1));
    let env = [("KEEL_STATE_PASSPHRASE", PASSPHRASE)];
    p.keel_env(&["apply", "-auto-approve"], &env).ok();

    let raw = block_on(object(&bucket, &key)).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.contains("keel-encrypted/1"), "{text}");
    for leak in ["vpc-", "10.61.0.0/16", "secret-tag", PASSPHRASE] {
        assert!(
            !text.contains(leak),
            "{leak} is readable in the stored state"
        );
    }
    let backup = block_on(object(&bucket, &format!("{key}.backup"))).unwrap();
    assert!(
        String::from_utf8(backup)
            .unwrap()
            .contains("keel-encrypted/1")
    );

    let without = p.keel(&["plan"]);
    assert_eq!(without.code, 1);
    assert!(
        without.stderr.contains("KEEL_STATE_PASSPHRASE is not set"),
        "{}",
        without.stderr
    );
    let wrong = p.keel_env(
        &["apply", "-auto-approve"],
        &[("KEEL_STATE_PASSPHRASE", "a wrong but long passphrase")],
    );
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("passphrase is wrong"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains("a wrong but long passphrase"));
    assert_eq!(
        block_on(object(&bucket, &key)).unwrap(),
        raw,
        "nothing was written"
    );

    let right = p.keel_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(right.code, 0, "{}{}", right.stdout, right.stderr);
}

#[test]
fn state_moves_from_a_local_file_to_s3_and_back() {
    let p = Project::new("migrate");
    p.write("main.tf", &vpc_stack("m", 1));
    p.keel(&["apply", "-auto-approve"]).ok();
    let local = p.state();
    let bucket = block_on(bucket());
    let key = format!("teams/{}.json", p.stack);
    p.write("backend.tf", &backend_block(&bucket, &key));

    // Without migrating, keel refuses to start an empty state beside the local one.
    let plan = p.keel(&["plan"]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr.contains("keel init -migrate-state"),
        "{}",
        plan.stderr
    );
    let init = p.keel(&["init"]);
    assert_eq!(init.code, 1);

    let moved = p.keel(&["init", "-migrate-state"]).ok();
    assert!(
        moved.stdout.contains("Moved the state (2 resource(s))"),
        "{}",
        moved.stdout
    );
    assert!(!p.state_path().exists());
    let in_s3 = state_of(&bucket, &key);
    assert_eq!(in_s3["lineage"], local["lineage"]);
    assert_eq!(in_s3["resources"], local["resources"]);
    p.assert_no_changes();
    let init = p.keel(&["init"]).ok();
    assert!(
        init.stdout.contains(&format!("s3://{bucket}/{key}")),
        "{}",
        init.stdout
    );

    // And back to a local file.
    std::fs::remove_file(p.dir().join("backend.tf")).unwrap();
    let back = p
        .keel(&[
            "init",
            "-migrate-state",
            "-from",
            &format!("s3://{bucket}/{key}"),
        ])
        .ok();
    assert!(back.stdout.contains("left in place"), "{}", back.stdout);
    assert_eq!(p.state()["resources"], local["resources"]);
    assert_eq!(p.state()["lineage"], local["lineage"]);
    p.assert_no_changes();
}

/// What one state write costs: the engine writes after every resource operation.
#[test]
fn cost_of_a_state_write() {
    let bucket = block_on(bucket());
    let n = 40;
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::new("cost");
    for i in 0..20 {
        state.resources.insert(
            format!("aws_subnet.s[{i}]").parse().unwrap(),
            keel::state::ResourceState {
                type_: "aws_subnet".into(),
                id: format!("subnet-{i:08x}"),
                attributes: serde_json::json!({"id": format!("subnet-{i:08x}"), "cidr_block": "10.0.0.0/24", "tags": {"a": "b"}}),
                dependencies: vec![],
                provider: Default::default(),
                sensitive_attributes: vec![],
            },
        );
    }
    let passphrase = EncryptionSettings {
        provider: Some(keel::state::crypto::KeyProvider::Passphrase),
        passphrase: Some(keel::state::crypto::Secret::new(PASSPHRASE)),
        plans: true,
        ..Default::default()
    };
    let local = Backend::local(dir.path().join("cost.json"), "cost");
    let s3 = block_on(s3_backend(&bucket, "cost.json"));
    let s3_sealed = Backend::new(
        Store::S3(S3Store::with_client(
            block_on(moto().s3()),
            S3Settings {
                bucket: bucket.clone(),
                key: "cost-sealed.json".into(),
                ..Default::default()
            },
        )),
        Encryption::new(passphrase),
        "cost",
    );
    let mut figures = Vec::new();
    for (name, backend) in [
        ("local file", &local),
        ("S3", &s3),
        ("S3, encrypted", &s3_sealed),
    ] {
        let per_write = block_on(async {
            let lock = backend.lock("cost").await.unwrap();
            let mut s = backend
                .read()
                .await
                .unwrap()
                .unwrap_or_else(|| state.clone());
            backend.write(&lock, &mut s).await.unwrap(); // first write: key derivation, object creation
            let start = Instant::now();
            for _ in 0..n {
                backend.write(&lock, &mut s).await.unwrap();
            }
            start.elapsed() / n
        });
        figures.push(format!(
            "{name}: {:.1} ms",
            per_write.as_secs_f64() * 1000.0
        ));
    }
    eprintln!(
        "state write (20 resources), mean of {n}: {} [S3: CopyObject to .backup + conditional PutObject]",
        figures.join(", ")
    );
}
