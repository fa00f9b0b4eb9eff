//! stacks/data-lake with its defaults: raw, curated and feature buckets, each with its
//! own key, and one role per team reaching exactly its zones: ingest writes raw;
//! analytics reads raw and writes curated; ml reads curated and writes features.

use super::Deployed;
use super::checks::{self, RolePolicy, bucket_arns};
use crate::moto::moto;
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test(flavor = "multi_thread")]
async fn data_lake_segments_teams_converges_and_destroys_to_nothing() {
    let s = Deployed::new("data-lake", "dl");
    let name = s.name.clone();
    s.apply(36);
    let out = s.outputs();

    let mut keys = BTreeMap::new();
    for zone in ["raw", "curated", "features"] {
        let bucket = format!("{name}-{zone}");
        assert_eq!(out["buckets"][zone], bucket.as_str());
        let key = checks::assert_encrypted_bucket(&bucket, "data-platform").await;
        assert_eq!(out["kms_key_arns"][zone], key.as_str());
        keys.insert(zone, key);
    }
    assert_eq!(
        keys.values().collect::<BTreeSet<_>>().len(),
        3,
        "every zone has its own key"
    );

    // team -> (zones it reads only, zones it writes)
    let teams: [(&str, &[&str], &[&str]); 3] = [
        ("ingest", &[], &["raw"]),
        ("analytics", &["raw"], &["curated"]),
        ("ml", &["curated"], &["features"]),
    ];
    let iam = moto().iam().await;
    for (team, reads, writes) in teams {
        let role = format!("{name}-{team}");
        let policy = RolePolicy::of(&role).await;
        policy.assert_least_privilege();
        checks::assert_trusts(&role, &["ec2.amazonaws.com"]).await;
        let objects = |zones: &[&str]| -> BTreeSet<String> {
            zones
                .iter()
                .map(|z| bucket_arns(&format!("{name}-{z}"))[1].clone())
                .collect()
        };
        let key_set = |zones: &[&str]| -> BTreeSet<String> {
            zones.iter().map(|z| keys[z].clone()).collect()
        };
        let all: Vec<&str> = reads.iter().chain(writes).copied().collect();
        let mut expected: BTreeSet<String> = all
            .iter()
            .flat_map(|z| bucket_arns(&format!("{name}-{z}")))
            .collect();
        expected.extend(key_set(&all));
        assert_eq!(
            policy.all_resources(),
            expected,
            "{team} reaches only its zones"
        );
        assert_eq!(policy.resources("s3:GetObject"), objects(&all), "{team}");
        assert_eq!(policy.resources("s3:PutObject"), objects(writes), "{team}");
        assert_eq!(policy.resources("kms:Decrypt"), key_set(&all), "{team}");
        assert_eq!(
            policy.resources("kms:GenerateDataKey"),
            key_set(writes),
            "{team}"
        );

        // The role's cost goes to the team.
        let tags = iam.list_role_tags().role_name(&role).send().await.unwrap();
        let team_tag = tags.tags().iter().find(|t| t.key() == "team");
        assert_eq!(team_tag.map(|t| t.value()), Some(team), "{role}");
        assert_eq!(
            out["team_role_arns"][team]
                .as_str()
                .map(|a| a.ends_with(&format!("/{role}"))),
            Some(true)
        );
    }

    s.assert_converged();
    s.destroy();
    checks::assert_gone(
        &s.name,
        &["raw", "curated", "features"].map(|z| format!("{name}-{z}")),
        &["ingest", "analytics", "ml"].map(|t| format!("{name}-{t}")),
        &keys.into_values().collect::<Vec<_>>(),
    )
    .await;
}
