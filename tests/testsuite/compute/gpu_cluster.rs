//! A GPU training cluster: a cluster placement group, a launch template (IMDSv2 required,
//! encrypted gp3 root volume, an EFA interface in a private subnet, spot market options)
//! and two p5.48xlarge instances launched from it into the group. It applies, plans no
//! changes, and destroys to nothing.

use super::{AMI, apply, id};
use crate::fixture::Project;
use crate::moto::{moto, stack_filter};
use aws_sdk_ec2::types::Filter;

fn stack(name: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.92.0.0/16"
}}

resource "aws_subnet" "private" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.92.1.0/24"
}}

# EFA traffic flows between the nodes only: the group lets in and out what comes from itself.
resource "aws_security_group" "efa" {{
  name   = "{name}-efa"
  vpc_id = aws_vpc.main.id

  ingress {{
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }}

  egress {{
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }}
}}

resource "aws_iam_role" "node" {{
  name = "{name}-node"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ Service = "ec2.amazonaws.com" }}, Action = "sts:AssumeRole" }}]
  }})
}}

resource "aws_iam_instance_profile" "node" {{
  name = "{name}-node"
  role = aws_iam_role.node.name
}}

resource "aws_placement_group" "cluster" {{
  name     = "{name}"
  strategy = "cluster"
}}

resource "aws_launch_template" "gpu" {{
  name                   = "{name}"
  image_id               = "{AMI}"
  instance_type          = "p5.48xlarge"
  update_default_version = true

  iam_instance_profile {{
    name = aws_iam_instance_profile.node.name
  }}

  metadata_options {{
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }}

  block_device_mappings {{
    device_name = "/dev/xvda"
    ebs {{
      volume_size           = 500
      volume_type           = "gp3"
      encrypted             = true
      iops                  = 16000
      throughput            = 1000
      delete_on_termination = true
    }}
  }}

  network_interfaces {{
    device_index          = 0
    network_card_index    = 0
    interface_type        = "efa"
    subnet_id             = aws_subnet.private.id
    security_groups       = [aws_security_group.efa.id]
    delete_on_termination = true
  }}

  instance_market_options {{
    market_type = "spot"
    spot_options {{
      max_price                      = "60.00"
      spot_instance_type             = "one-time"
      instance_interruption_behavior = "terminate"
    }}
  }}

  placement {{
    group_name = aws_placement_group.cluster.name
  }}

  tag_specifications {{
    resource_type = "volume"
    tags          = {{ team = "ml" }}
  }}
}}

resource "aws_instance" "node" {{
  count           = 2
  placement_group = aws_placement_group.cluster.name

  launch_template {{
    id      = aws_launch_template.gpu.id
    version = aws_launch_template.gpu.latest_version
  }}

  tags = {{ Name = "gpu-${{count.index}}" }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn gpu_cluster_applies_replans_clean_and_destroys_to_nothing() {
    let p = Project::new("gpu");
    let name = p.stack.clone();
    p.write("main.hcl", &stack(&name));
    apply(&p);
    let ec2 = moto().ec2().await;
    let lt = id(&p, "aws_launch_template.gpu");
    let subnet = id(&p, "aws_subnet.private");
    let efa_group = id(&p, "aws_security_group.efa");

    // moto does not carry a launch template's spot settings onto the instances it
    // launches (EC2 does), so the template's settings are checked where EC2 stored
    // them: the template's version data.
    let data = ec2
        .describe_launch_template_versions()
        .launch_template_id(&lt)
        .versions("$Default")
        .send()
        .await
        .unwrap()
        .launch_template_versions()[0]
        .launch_template_data()
        .unwrap()
        .clone();
    let meta = data.metadata_options().unwrap();
    assert_eq!(meta.http_tokens().map(|t| t.as_str()), Some("required"));
    assert_eq!(meta.http_put_response_hop_limit(), Some(1));
    let root = data.block_device_mappings()[0].ebs().unwrap();
    assert_eq!(root.encrypted(), Some(true));
    assert_eq!(root.volume_type().map(|t| t.as_str()), Some("gp3"));
    assert_eq!(
        (root.volume_size(), root.iops(), root.throughput()),
        (Some(500), Some(16000), Some(1000))
    );
    let nic = &data.network_interfaces()[0];
    assert_eq!(nic.interface_type(), Some("efa"));
    assert_eq!(nic.subnet_id(), Some(subnet.as_str()));
    assert_eq!(nic.groups(), std::slice::from_ref(&efa_group));
    assert_eq!(
        (nic.device_index(), nic.network_card_index()),
        (Some(0), Some(0))
    );
    let market = data.instance_market_options().unwrap();
    assert_eq!(market.market_type().map(|t| t.as_str()), Some("spot"));
    assert_eq!(
        market.spot_options().and_then(|s| s.max_price()),
        Some("60.00")
    );
    assert_eq!(
        data.iam_instance_profile().and_then(|p| p.name()),
        Some(format!("{name}-node").as_str())
    );
    assert_eq!(
        data.placement().and_then(|p| p.group_name()),
        Some(name.as_str())
    );

    // The two nodes: p5.48xlarge from the template, running, in the cluster group.
    for n in 0..2 {
        let addr = format!("aws_instance.node[{n}]");
        let i = super::instance::instance(&id(&p, &addr)).await;
        assert_eq!(
            i.state().and_then(|s| s.name()).map(|s| s.as_str()),
            Some("running")
        );
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("p5.48xlarge"));
        assert_eq!(
            i.placement().and_then(|p| p.group_name()),
            Some(name.as_str())
        );
        let tag = |k: &str| {
            i.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        assert_eq!(tag("aws:ec2launchtemplate:id"), Some(lt.clone()));
        assert_eq!(tag("keel:address"), Some(addr.clone()));
        assert_eq!(tag("Name"), Some(format!("gpu-{n}")));
    }
    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(
        drift.code, 0,
        "no drift, nothing unmanaged: {}",
        drift.stdout
    );

    p.keel(&["destroy", "-auto-approve"]).ok();
    let running = ec2
        .describe_instances()
        .filters(stack_filter(&name))
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(running.reservations().is_empty(), "no instance left");
    let volumes = ec2
        .describe_volumes()
        .filters(stack_filter(&name))
        .send()
        .await
        .unwrap();
    assert!(volumes.volumes().is_empty(), "no volume left");
    let groups = ec2
        .describe_placement_groups()
        .filters(Filter::builder().name("group-name").values(&name).build())
        .send()
        .await
        .unwrap();
    assert!(
        groups.placement_groups().is_empty(),
        "no placement group left"
    );
    let templates = ec2
        .describe_launch_templates()
        .filters(
            Filter::builder()
                .name("launch-template-name")
                .values(&name)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        templates.launch_templates().is_empty(),
        "no launch template left"
    );
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(&name))
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "no VPC left");
    assert!(
        p.state()["resources"].as_object().unwrap().is_empty(),
        "state holds nothing"
    );
}
