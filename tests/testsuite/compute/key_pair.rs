//! `aws_key_pair`: imported, read back, retagged in place, imported by name, replaced on a
//! new public key, deleted; and a name made from `key_name_prefix`.

use super::{apply, attrs, id, import, owned, plan_replaces, plan_updates_in_place, tag_pairs};
use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::types::{Filter, KeyPairInfo};

const KEY_A: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtxS6ukNUmK8vdY8RYnHkMdFbwFZ9ugkCrTUdIaWLhw ops@example";
const KEY_B: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0esskFNb+M2fup++kdFpTSr9Sg3p8LRwUE3GUEzwLO ops@example";

fn stack(name: &str, key: &str, tag: &str) -> String {
    format!(
        r#"
resource "aws_key_pair" "ops" {{
  key_name   = "{name}"
  public_key = "{key}"
  tags       = {{ team = "{tag}" }}
}}

resource "aws_key_pair" "prefixed" {{
  key_name_prefix = "{name}-p-"
  public_key      = "{KEY_A}"
}}
"#
    )
}

async fn key(name: &str) -> Option<KeyPairInfo> {
    moto()
        .ec2()
        .await
        .describe_key_pairs()
        .filters(Filter::builder().name("key-name").values(name).build())
        .include_public_key(true)
        .send()
        .await
        .unwrap()
        .key_pairs()
        .first()
        .cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn key_pair_lifecycle() {
    let p = Project::new("key");
    let name = p.stack.clone();
    let addr = "aws_key_pair.ops";
    p.write("main.hcl", &stack(&name, KEY_A, "ml"));
    apply(&p);
    assert_eq!(id(&p, addr), name);
    let k = key(&name).await.expect("the key exists");
    assert_eq!(k.public_key().map(str::trim), Some(KEY_A));
    assert_eq!(tag_pairs(k.tags()), owned(&p, addr, &[("team", "ml")]));
    let recorded = attrs(&p, addr);
    assert_eq!(recorded["fingerprint"].as_str(), k.key_fingerprint());
    assert_eq!(recorded["key_pair_id"].as_str(), k.key_pair_id());
    assert_eq!(recorded["key_type"], "ed25519");
    assert_eq!(
        recorded["arn"],
        format!("arn:aws:ec2:us-east-1:123456789012:key-pair/{name}")
    );
    let prefixed = id(&p, "aws_key_pair.prefixed");
    assert!(prefixed.starts_with(&format!("{name}-p-")), "{prefixed}");
    assert!(key(&prefixed).await.is_some());
    p.assert_no_changes();

    p.write("main.hcl", &stack(&name, KEY_A, "infra"));
    plan_updates_in_place(&p, addr);
    apply(&p);
    let k2 = key(&name).await.unwrap();
    assert_eq!(k2.key_pair_id(), k.key_pair_id(), "the same key, retagged");
    assert_eq!(tag_pairs(k2.tags()), owned(&p, addr, &[("team", "infra")]));

    let imported = import(&p, addr);
    assert_eq!(imported["public_key"], KEY_A);
    assert_eq!(imported["fingerprint"], recorded["fingerprint"]);
    assert_eq!(imported["tags"]["team"], "infra");
    p.assert_no_changes();

    p.write("main.hcl", &stack(&name, KEY_B, "infra"));
    plan_replaces(&p, addr, "public_key");
    apply(&p);
    let k3 = key(&name).await.unwrap();
    assert_eq!(k3.public_key().map(str::trim), Some(KEY_B));
    assert_ne!(k3.key_pair_id(), k.key_pair_id());
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(key(&name).await.is_none());
    assert!(key(&prefixed).await.is_none());
}
