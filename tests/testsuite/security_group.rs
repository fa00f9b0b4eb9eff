//! `aws_security_group` against moto: inline rules created, read back through the SDK,
//! changed in place, the group replaced on a new name, and deleted.

use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::types::IpPermission;

fn stack(name: &str, extra_rule: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.80.0.0/16"
}}

resource "aws_security_group" "app" {{
  name   = "{name}"
  vpc_id = aws_vpc.main.id

  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.80.0.0/16"]
  }}
  {extra_rule}
}}
"#
    )
}

/// (protocol, from, to, sorted cidrs) of each permission.
fn rules(perms: &[IpPermission]) -> Vec<(String, i32, i32, Vec<String>)> {
    let mut out: Vec<_> = perms
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
    out.sort();
    out
}

async fn group(id: &str) -> aws_sdk_ec2::types::SecurityGroup {
    moto()
        .ec2()
        .await
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_rules_are_created_changed_in_place_and_the_group_replaced() {
    let p = Project::new("sg");
    let name = p.stack.clone();
    p.write("main.hcl", &stack(&name, ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    let id = p.state()["resources"]["aws_security_group.app"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let g = group(&id).await;
    assert_eq!(g.group_name(), Some(name.as_str()));
    assert_eq!(
        rules(g.ip_permissions()),
        [(
            "tcp".to_string(),
            443,
            443,
            vec!["10.80.0.0/16".to_string()]
        )]
    );
    // AWS's default allow-all egress rule is gone: the group allows what the stack says.
    assert_eq!(rules(g.ip_permissions_egress()), []);
    p.assert_no_changes();

    // A second rule, with CIDRs in another order than AWS keeps them, is an in-place update.
    let ssh = r#"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.80.2.0/24", "10.80.1.0/24"]
    description = "bastion"
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["10.80.0.0/16"]
  }"#;
    p.write("main.hcl", &stack(&name, ssh));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("aws_security_group.app will be updated in-place"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let g = group(&id).await;
    assert_eq!(
        rules(g.ip_permissions()),
        [
            (
                "tcp".to_string(),
                22,
                22,
                vec!["10.80.1.0/24".to_string(), "10.80.2.0/24".to_string()]
            ),
            (
                "tcp".to_string(),
                443,
                443,
                vec!["10.80.0.0/16".to_string()]
            ),
        ]
    );
    assert_eq!(
        rules(g.ip_permissions_egress()),
        [("-1".to_string(), -1, -1, vec!["10.80.0.0/16".to_string()])]
    );
    p.assert_no_changes();

    // A new name replaces the group.
    p.write("main.hcl", &stack(&format!("{name}-b"), ""));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let new_id = p.state()["resources"]["aws_security_group.app"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id);
    let old = moto()
        .ec2()
        .await
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await;
    assert!(old.is_err(), "the old group is deleted");

    p.keel(&["destroy", "-auto-approve"]).ok();
    let gone = moto()
        .ec2()
        .await
        .describe_security_groups()
        .group_ids(&new_id)
        .send()
        .await;
    assert!(gone.is_err(), "destroy deletes the group");
}
