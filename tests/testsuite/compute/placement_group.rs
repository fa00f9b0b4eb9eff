//! `aws_placement_group`: created, read back, retagged in place, imported by name,
//! replaced on a new strategy, deleted.

use super::{apply, attrs, id, import, owned, plan_replaces, plan_updates_in_place, tag_pairs};
use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::types::{Filter, PlacementGroup};

fn stack(name: &str, strategy: &str, extra: &str, tags: &str) -> String {
    format!(
        r#"
resource "aws_placement_group" "pg" {{
  name     = "{name}"
  strategy = "{strategy}"
  {extra}
  tags     = {{ {tags} }}
}}
"#
    )
}

async fn group(name: &str) -> Option<PlacementGroup> {
    moto()
        .ec2()
        .await
        .describe_placement_groups()
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .unwrap()
        .placement_groups()
        .first()
        .cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn placement_group_lifecycle() {
    let p = Project::new("pg");
    let name = p.stack.clone();
    let addr = "aws_placement_group.pg";
    p.write(
        "main.hcl",
        &stack(&name, "partition", "partition_count = 3", r#"Name = "a""#),
    );
    apply(&p);
    assert_eq!(id(&p, addr), name, "Terraform's id is the group's name");
    let g = group(&name).await.expect("the group exists");
    assert_eq!(g.strategy().map(|s| s.as_str()), Some("partition"));
    assert_eq!(g.partition_count(), Some(3));
    assert_eq!(tag_pairs(g.tags()), owned(&p, addr, &[("Name", "a")]));
    let recorded = attrs(&p, addr);
    assert_eq!(recorded["placement_group_id"].as_str(), g.group_id());
    assert_eq!(recorded["arn"].as_str(), g.group_arn());
    p.assert_no_changes();

    // Tags change in place, on the same group.
    p.write(
        "main.hcl",
        &stack(&name, "partition", "partition_count = 3", r#"Name = "b""#),
    );
    plan_updates_in_place(&p, addr);
    apply(&p);
    let g2 = group(&name).await.unwrap();
    assert_eq!(g2.group_id(), g.group_id());
    assert_eq!(tag_pairs(g2.tags()), owned(&p, addr, &[("Name", "b")]));

    // Import by name: a state holding only the id reads back the whole group.
    let imported = import(&p, addr);
    assert_eq!(imported, recorded_with_tags(&recorded, "b"));
    p.assert_no_changes();

    // A new strategy replaces the group.
    p.write("main.hcl", &stack(&name, "spread", "", r#"Name = "b""#));
    plan_replaces(&p, addr, "strategy");
    apply(&p);
    let g3 = group(&name).await.unwrap();
    assert_eq!(g3.strategy().map(|s| s.as_str()), Some("spread"));
    assert_ne!(g3.group_id(), g.group_id(), "a new group");
    assert_eq!(attrs(&p, addr)["spread_level"], "rack");
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(group(&name).await.is_none(), "destroy deletes the group");
}

fn recorded_with_tags(recorded: &serde_json::Value, name: &str) -> serde_json::Value {
    let mut v = recorded.clone();
    v["tags"]["Name"] = name.into();
    v["tags_all"]["Name"] = name.into();
    v
}
