//! `aws_vpc_security_group_ingress_rule` and `..._egress_rule` against moto: rules are
//! created with their own ids and tags, changed in place, replaced on a new group, and
//! deleted; a group with no inline rules leaves them alone, and `ingress = []` revokes
//! only the group's own rules.

use crate::fixture::Project;
use crate::moto::moto;
use crate::vpc_isolation::{filter, forces, id, plan_then_apply};
use aws_sdk_ec2::types::{IpPermission, IpRange, SecurityGroupRule};

fn stack(group: &str, port: u16, desc: &str, inline: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.77.0.0/16"
}}

resource "aws_security_group" "app" {{
  name   = "app"
  vpc_id = aws_vpc.main.id
  {inline}
}}

resource "aws_security_group" "other" {{
  name   = "other"
  vpc_id = aws_vpc.main.id
}}

resource "aws_vpc_security_group_ingress_rule" "https" {{
  security_group_id = aws_security_group.{group}.id
  cidr_ipv4         = aws_vpc.main.cidr_block
  ip_protocol       = "tcp"
  from_port         = {port}
  to_port           = {port}
  description       = "{desc}"
  tags              = {{ Name = "https" }}
}}

resource "aws_vpc_security_group_egress_rule" "all" {{
  security_group_id = aws_security_group.app.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}}
"#
    )
}

async fn rule(id: &str) -> Option<SecurityGroupRule> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_security_group_rules()
        .filters(filter("security-group-rule-id", id))
        .send()
        .await
        .unwrap();
    out.security_group_rules().first().cloned()
}

/// (protocol, from, to, cidrs) of each permission of one direction of a group.
async fn permissions(group: &str, egress: bool) -> Vec<(String, i32, i32, Vec<String>)> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let g = &out.security_groups()[0];
    let perms = if egress {
        g.ip_permissions_egress()
    } else {
        g.ip_permissions()
    };
    let mut v: Vec<_> = perms
        .iter()
        .map(|p| {
            let mut cidrs: Vec<String> = p
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_string))
                .collect();
            cidrs.sort();
            (
                p.ip_protocol().unwrap_or_default().to_string(),
                p.from_port().unwrap_or(-1),
                p.to_port().unwrap_or(-1),
                cidrs,
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_rules_are_their_own_resources_and_the_group_leaves_them_alone() {
    let p = Project::new("sgr");
    p.write("main.hcl", &stack("app", 443, "https from the VPC", ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    let (app, other) = (
        id(&p, "aws_security_group.app"),
        id(&p, "aws_security_group.other"),
    );
    let first = id(&p, "aws_vpc_security_group_ingress_rule.https");
    assert!(first.starts_with("sgr-"), "{first}");
    let r = rule(&first).await.expect("the rule exists");
    assert_eq!(r.group_id(), Some(app.as_str()));
    assert_eq!(r.is_egress(), Some(false));
    assert_eq!(r.cidr_ipv4(), Some("10.77.0.0/16"));
    assert_eq!((r.from_port(), r.to_port()), (Some(443), Some(443)));
    assert_eq!(r.description(), Some("https from the VPC"));
    let tags: Vec<(&str, &str)> = r
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert!(tags.contains(&("Name", "https")), "{tags:?}");
    assert!(
        tags.contains(&("keel:address", "aws_vpc_security_group_ingress_rule.https")),
        "{tags:?}"
    );
    let state = p.state();
    let attrs = &state["resources"]["aws_vpc_security_group_ingress_rule.https"]["attributes"];
    assert_eq!(attrs["security_group_rule_id"], first.as_str());
    assert!(
        attrs["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":security-group-rule/{first}"))
    );
    // The group itself, with no inline rules, holds exactly the two rule resources: AWS's
    // default egress rule is gone and nothing revoked the rules.
    assert_eq!(
        permissions(&app, false).await,
        [(
            "tcp".to_string(),
            443,
            443,
            vec!["10.77.0.0/16".to_string()]
        )]
    );
    assert_eq!(
        permissions(&app, true).await,
        [("-1".to_string(), -1, -1, vec!["0.0.0.0/0".to_string()])]
    );
    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // Ports and description change in place, keeping the rule's id.
    p.write("main.hcl", &stack("app", 8443, "https, moved", ""));
    plan_then_apply(
        &p,
        "aws_vpc_security_group_ingress_rule.https",
        "will be updated in-place",
    );
    assert_eq!(id(&p, "aws_vpc_security_group_ingress_rule.https"), first);
    let r = rule(&first).await.unwrap();
    assert_eq!((r.from_port(), r.to_port()), (Some(8443), Some(8443)));
    assert_eq!(r.description(), Some("https, moved"));
    p.assert_no_changes();

    // A rule opened by hand on a group with no inline rules: not the group's to manage
    // (as in Terraform), but drift all the same.
    let ec2 = moto().ec2().await;
    ec2.authorize_security_group_ingress()
        .group_id(&app)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(
        drift.stdout.contains("aws_security_group.app"),
        "{}",
        drift.stdout
    );

    // `ingress = []` manages the group's inline rules as none: the hand-made rule goes,
    // the rule resource's stays.
    p.write(
        "main.hcl",
        &stack("app", 8443, "https, moved", "ingress = []"),
    );
    plan_then_apply(&p, "aws_security_group.app", "will be updated in-place");
    assert_eq!(
        permissions(&app, false).await,
        [(
            "tcp".to_string(),
            8443,
            8443,
            vec!["10.77.0.0/16".to_string()]
        )]
    );
    assert!(rule(&first).await.is_some());
    p.assert_no_changes();

    // Another group is another rule.
    p.write(
        "main.hcl",
        &stack("other", 8443, "https, moved", "ingress = []"),
    );
    let plan = plan_then_apply(
        &p,
        "aws_vpc_security_group_ingress_rule.https",
        "must be replaced",
    );
    assert!(forces(&plan, "security_group_id"), "{plan}");
    let second = id(&p, "aws_vpc_security_group_ingress_rule.https");
    assert_ne!(second, first);
    assert!(rule(&first).await.is_none(), "the old rule is revoked");
    assert_eq!(
        rule(&second).await.unwrap().group_id(),
        Some(other.as_str())
    );
    assert_eq!(permissions(&app, false).await, []);
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(rule(&second).await.is_none());
    let left = ec2
        .describe_security_groups()
        .filters(filter("group-id", &app))
        .send()
        .await
        .unwrap();
    assert!(left.security_groups().is_empty());
}

#[test]
fn a_rule_written_both_as_an_argument_and_as_blocks_is_an_error() {
    let p = Project::new("sgr-both");
    p.write(
        "main.hcl",
        r#"
resource "aws_security_group" "app" {
  name    = "app"
  ingress = []
  ingress {
    from_port = 22
    to_port   = 22
    protocol  = "tcp"
  }
}
"#,
    );
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "\"ingress\" in aws_security_group.app is written both as an argument and as blocks"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:5:"), "{}", run.stderr);
}
