//! An instance launched with an instance profile created in the same apply: EC2 does not
//! see a new profile at once (tests/moto/keel_moto.py, patch L, makes moto behave so), so
//! keel must wait for it rather than fail, and launch exactly one instance.

use super::{AMI, apply, id};
use crate::fixture::Project;
use crate::moto::{moto, stack_filter};

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_waits_for_its_new_instance_profile_to_reach_ec2() {
    let p = Project::new("profile");
    let stack = p.stack.clone();
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_iam_role" "node" {{
  name = "{stack}"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_instance_profile" "node" {{
  name = "{stack}"
  role = aws_iam_role.node.name
}}

resource "aws_instance" "node" {{
  ami                  = "{AMI}"
  instance_type        = "t3.micro"
  iam_instance_profile = aws_iam_instance_profile.node.name

  metadata_options {{
    http_tokens = "required"
  }}

  root_block_device {{
    encrypted   = true
    volume_size = 20
  }}
}}
"#
        ),
    );
    let run = apply(&p);
    assert!(run.stdout.contains("3 added"), "{}", run.stdout);

    let ec2 = moto().ec2().await;
    let found = ec2
        .describe_instances()
        .filters(stack_filter(&stack))
        .send()
        .await
        .unwrap();
    let instances: Vec<_> = found
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated"))
        .collect();
    assert_eq!(instances.len(), 1, "exactly one instance was launched");
    assert_eq!(
        instances[0].instance_id(),
        Some(id(&p, "aws_instance.node").as_str())
    );
    let arn = instances[0]
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .unwrap_or_default();
    assert!(arn.ends_with(&format!("/{stack}")), "{arn}");

    p.keel(&["destroy", "-auto-approve"]).ok();
}
