//! `aws_instance`: launched into a subnet, security group, placement group and instance
//! profile with an encrypted gp3 root volume and IMDSv2; read back through the SDK; changed
//! in place (type and user data by stop, modify, start; groups, IMDS, monitoring,
//! termination protection, profile, root volume size, tags); put back after a change made
//! by hand; imported by id; kept by termination protection from a replacement, with EC2's
//! error; replaced on a new AMI; terminated.

use super::{AMI, OTHER_AMI, apply, attrs, id, import, owned, plan_replaces};
use super::{plan_updates_in_place, tag_pairs};
use crate::fixture::Project;
use crate::moto::{REGION, moto};
use aws_sdk_ec2::types::{Filter, HttpTokensState, Instance, InstanceAttributeName, Volume};
use base64::Engine as _;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtxS6ukNUmK8vdY8RYnHkMdFbwFZ9ugkCrTUdIaWLhw ops@example";

struct Node<'a> {
    stack: &'a str,
    ami: &'a str,
    instance_type: &'a str,
    groups: &'a str,
    profile: &'a str,
    user_data: &'a str,
    monitoring: bool,
    protect: bool,
    size: u32,
    hop_limit: u32,
    team: &'a str,
    name: &'a str,
}

impl Node<'_> {
    fn hcl(&self) -> String {
        let Node {
            stack,
            ami,
            instance_type,
            groups,
            profile,
            user_data,
            monitoring,
            protect,
            size,
            hop_limit,
            team,
            name,
        } = self;
        format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.91.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.91.1.0/24"
}}

resource "aws_security_group" "a" {{
  name   = "{stack}-a"
  vpc_id = aws_vpc.main.id
}}

resource "aws_security_group" "b" {{
  name   = "{stack}-b"
  vpc_id = aws_vpc.main.id
}}

resource "aws_placement_group" "pg" {{
  name     = "{stack}"
  strategy = "cluster"
}}

resource "aws_key_pair" "ops" {{
  key_name   = "{stack}"
  public_key = "{KEY}"
}}

resource "aws_instance" "node" {{
  ami                     = "{ami}"
  instance_type           = "{instance_type}"
  subnet_id               = aws_subnet.a.id
  vpc_security_group_ids  = [{groups}]
  iam_instance_profile    = "{profile}"
  placement_group         = aws_placement_group.pg.name
  key_name                = aws_key_pair.ops.key_name
  user_data               = "{user_data}"
  monitoring              = {monitoring}
  disable_api_termination = {protect}

  root_block_device {{
    volume_size = {size}
    volume_type = "gp3"
    encrypted   = true
    iops        = 4000
    throughput  = 250
  }}

  metadata_options {{
    http_tokens                 = "required"
    http_put_response_hop_limit = {hop_limit}
  }}

  volume_tags = {{ team = "{team}" }}
  tags        = {{ Name = "{name}" }}
}}
"#
        )
    }
}

async fn iam() -> aws_sdk_iam::Client {
    let creds =
        aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "keel-tests");
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(&moto().endpoint)
        .credentials_provider(creds)
        .load()
        .await;
    aws_sdk_iam::Client::new(&conf)
}

/// An instance profile made outside the stack, as IAM stacks hand them over.
async fn profile(name: &str) -> String {
    iam()
        .await
        .create_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .unwrap()
        .instance_profile()
        .unwrap()
        .arn()
        .to_string()
}

pub async fn instance(id: &str) -> Instance {
    moto()
        .ec2()
        .await
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .clone()
}

fn state_of(i: &Instance) -> &str {
    i.state()
        .and_then(|s| s.name())
        .map(|s| s.as_str())
        .unwrap_or_default()
}

async fn root_volume(instance_id: &str) -> Option<Volume> {
    moto()
        .ec2()
        .await
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .values(instance_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .volumes()
        .first()
        .cloned()
}

async fn volume_exists(volume_id: &str) -> bool {
    moto()
        .ec2()
        .await
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("volume-id")
                .values(volume_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .volumes()
        .iter()
        .any(|v| v.volume_id() == Some(volume_id))
}

async fn user_data(id: &str) -> String {
    let out = moto()
        .ec2()
        .await
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let b64 = out.user_data().and_then(|v| v.value()).unwrap_or_default();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn instance_lifecycle() {
    let p = Project::new("ec2");
    let stack = p.stack.clone();
    let addr = "aws_instance.node";
    let (one, two) = (format!("{stack}-one"), format!("{stack}-two"));
    let (arn_one, arn_two) = (profile(&one).await, profile(&two).await);
    let mut node = Node {
        stack: &stack,
        ami: AMI,
        instance_type: "g5.xlarge",
        groups: "aws_security_group.a.id",
        profile: &one,
        user_data: "#!/bin/bash\\necho one",
        monitoring: false,
        protect: false,
        size: 100,
        hop_limit: 2,
        team: "ml",
        name: "node-a",
    };
    p.write("main.hcl", &node.hcl());
    apply(&p);
    let iid = id(&p, addr);
    let i = instance(&iid).await;
    assert_eq!(state_of(&i), "running");
    assert_eq!(i.image_id(), Some(AMI));
    assert_eq!(i.instance_type().map(|t| t.as_str()), Some("g5.xlarge"));
    assert_eq!(i.subnet_id(), Some(id(&p, "aws_subnet.a").as_str()));
    let group_ids = |i: &Instance| {
        let mut g: Vec<String> = i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        g.sort();
        g
    };
    assert_eq!(group_ids(&i), [id(&p, "aws_security_group.a")]);
    assert_eq!(
        i.iam_instance_profile().and_then(|p| p.arn()),
        Some(arn_one.as_str())
    );
    let placement = i.placement().unwrap();
    assert_eq!(placement.group_name(), Some(stack.as_str()));
    assert_eq!(i.key_name(), Some(stack.as_str()));
    let meta = i.metadata_options().unwrap();
    assert_eq!(meta.http_tokens(), Some(&HttpTokensState::Required));
    assert_eq!(meta.http_put_response_hop_limit(), Some(2));
    assert_eq!(
        i.monitoring().and_then(|m| m.state()).map(|s| s.as_str()),
        Some("disabled")
    );
    assert_eq!(tag_pairs(i.tags()), owned(&p, addr, &[("Name", "node-a")]));
    assert_eq!(user_data(&iid).await, "#!/bin/bash\necho one");
    let v = root_volume(&iid).await.expect("a root volume");
    assert_eq!(
        (v.size(), v.iops(), v.throughput(), v.encrypted()),
        (Some(100), Some(4000), Some(250), Some(true))
    );
    assert_eq!(v.volume_type().map(|t| t.as_str()), Some("gp3"));
    // The volumes carry keel's ownership tags as well as volume_tags.
    assert_eq!(tag_pairs(v.tags()), owned(&p, addr, &[("team", "ml")]));
    let recorded = attrs(&p, addr);
    assert_eq!(
        recorded["arn"],
        format!("arn:aws:ec2:{REGION}:123456789012:instance/{iid}")
    );
    assert_eq!(recorded["instance_state"], "running");
    assert_eq!(
        recorded["root_block_device"][0]["volume_id"].as_str(),
        v.volume_id()
    );
    p.assert_no_changes();

    // Everything that changes in place, at once; the instance type and user data by a
    // stop, modify, start.
    node.instance_type = "g6.xlarge";
    node.user_data = "#!/bin/bash\\necho two";
    node.groups = "aws_security_group.a.id, aws_security_group.b.id";
    node.profile = &two;
    node.monitoring = true;
    node.protect = true;
    node.size = 200;
    node.hop_limit = 3;
    node.team = "research";
    node.name = "node-b";
    p.write("main.hcl", &node.hcl());
    plan_updates_in_place(&p, addr);
    apply(&p);
    assert_eq!(id(&p, addr), iid, "the same instance");
    let i = instance(&iid).await;
    assert_eq!(state_of(&i), "running", "started again after the change");
    assert_eq!(i.instance_type().map(|t| t.as_str()), Some("g6.xlarge"));
    assert_eq!(user_data(&iid).await, "#!/bin/bash\necho two");
    let mut both = vec![
        id(&p, "aws_security_group.a"),
        id(&p, "aws_security_group.b"),
    ];
    both.sort();
    assert_eq!(group_ids(&i), both);
    assert_eq!(
        i.iam_instance_profile().and_then(|p| p.arn()),
        Some(arn_two.as_str())
    );
    assert_eq!(
        i.monitoring().and_then(|m| m.state()).map(|s| s.as_str()),
        Some("enabled")
    );
    assert_eq!(
        i.metadata_options().unwrap().http_put_response_hop_limit(),
        Some(3)
    );
    assert_eq!(tag_pairs(i.tags()), owned(&p, addr, &[("Name", "node-b")]));
    let protected = moto()
        .ec2()
        .await
        .describe_instance_attribute()
        .instance_id(&iid)
        .attribute(InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .unwrap();
    assert_eq!(
        protected.disable_api_termination().and_then(|b| b.value()),
        Some(true)
    );
    let v = root_volume(&iid).await.unwrap();
    assert_eq!(v.size(), Some(200), "resized in place");
    assert_eq!(
        tag_pairs(v.tags()),
        owned(&p, addr, &[("team", "research")])
    );
    p.assert_no_changes();

    // IMDSv1 switched back on by hand is planned back to IMDSv2 and put back.
    moto()
        .ec2()
        .await
        .modify_instance_metadata_options()
        .instance_id(&iid)
        .http_tokens(HttpTokensState::Optional)
        .send()
        .await
        .unwrap();
    let plan = plan_updates_in_place(&p, addr);
    assert!(plan.contains("metadata_options"), "{plan}");
    apply(&p);
    assert_eq!(
        instance(&iid)
            .await
            .metadata_options()
            .unwrap()
            .http_tokens(),
        Some(&HttpTokensState::Required)
    );

    // Import by id: the state holding only the id reads back the whole instance.
    let recorded = attrs(&p, addr);
    assert_eq!(import(&p, addr), recorded);
    p.assert_no_changes();

    // A replacement creates the new instance first and deletes the old one last; the old
    // one's termination protection stops that closing delete, with EC2's own code and
    // message. The replacement stands and the old instance stays recorded (deposed).
    node.ami = OTHER_AMI;
    p.write("main.hcl", &node.hcl());
    plan_replaces(&p, addr, "ami");
    let failed = p.keel(&["apply", "-auto-approve"]);
    assert_ne!(failed.code, 0);
    let output = format!("{}{}", failed.stdout, failed.stderr);
    assert!(output.contains("OperationNotPermitted"), "{output}");
    assert!(output.contains("TerminateInstances"), "{output}");
    assert!(output.contains("a closing delete failed"), "{output}");
    assert_eq!(state_of(&instance(&iid).await), "running");
    let replacement = id(&p, addr);
    assert_ne!(replacement, iid);
    assert_eq!(p.state()["deposed"][0]["id"], iid.as_str());

    // Once the old instance's protection is lifted, the next apply deletes it.
    moto()
        .ec2()
        .await
        .modify_instance_attribute()
        .instance_id(&iid)
        .disable_api_termination(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    apply(&p);
    assert_eq!(state_of(&instance(&iid).await), "terminated");
    assert!(p.state().get("deposed").is_none());

    // Protection off (in place), then a new AMI replaces the instance.
    node.protect = false;
    p.write("main.hcl", &node.hcl());
    plan_updates_in_place(&p, addr);
    apply(&p);
    node.ami = AMI;
    p.write("main.hcl", &node.hcl());
    plan_replaces(&p, addr, "ami");
    apply(&p);
    let new_id = id(&p, addr);
    assert_ne!(new_id, replacement);
    assert_eq!(state_of(&instance(&replacement).await), "terminated");
    let old_volume = recorded["root_block_device"][0]["volume_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!volume_exists(&old_volume).await, "deleted on termination");
    let i = instance(&new_id).await;
    assert_eq!(i.image_id(), Some(AMI));
    assert_eq!(state_of(&i), "running");
    p.assert_no_changes();

    let new_volume = attrs(&p, addr)["root_block_device"][0]["volume_id"]
        .as_str()
        .unwrap()
        .to_string();
    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_eq!(state_of(&instance(&new_id).await), "terminated");
    assert!(!volume_exists(&new_volume).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_launch_failure_names_ec2s_code_and_launches_nothing() {
    let p = Project::new("ec2fail");
    let group = format!("{}-missing", p.stack);
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_instance" "node" {{
  ami             = "{AMI}"
  instance_type   = "p4d.24xlarge"
  placement_group = "{group}"
}}

# About EC2's launch error, not the guardrails (tests/testsuite/guard.rs).
policy {{
  rule "gpu-private-subnet" {{
    enabled = false
  }}
  rule "imdsv2" {{
    enabled = false
  }}
  rule "ebs-encryption" {{
    enabled = false
  }}
}}
"#
        ),
    );
    let run = p.keel(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let output = format!("{}{}", run.stdout, run.stderr);
    let expected = format!(
        "InvalidPlacementGroup.Unknown: RunInstances: The Placement Group '{group}' is unknown."
    );
    assert!(output.contains(&expected), "{output}");
    let launched = moto()
        .ec2()
        .await
        .describe_instances()
        .filters(crate::moto::stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert!(launched.reservations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spot_instance_reads_back_as_spot_and_new_spot_options_replace_it() {
    let p = Project::new("spot");
    let stack = |price: &str| {
        format!(
            r#"
resource "aws_instance" "node" {{
  ami           = "{AMI}"
  instance_type = "g6.xlarge"

  instance_market_options {{
    market_type = "spot"
    spot_options {{
      max_price = "{price}"
    }}
  }}
}}

# About spot options, not the guardrails (tests/testsuite/guard.rs).
policy {{
  rule "gpu-private-subnet" {{
    enabled = false
  }}
  rule "imdsv2" {{
    enabled = false
  }}
  rule "ebs-encryption" {{
    enabled = false
  }}
}}
"#
        )
    };
    p.write("main.hcl", &stack("2.50"));
    apply(&p);
    let iid = id(&p, "aws_instance.node");
    let i = instance(&iid).await;
    assert_eq!(i.instance_lifecycle().map(|l| l.as_str()), Some("spot"));
    assert_eq!(attrs(&p, "aws_instance.node")["instance_lifecycle"], "spot");
    p.assert_no_changes();

    p.write("main.hcl", &stack("3.00"));
    plan_replaces(&p, "aws_instance.node", "instance_market_options");
    apply(&p);
    assert_ne!(id(&p, "aws_instance.node"), iid);
    assert_eq!(state_of(&instance(&iid).await), "terminated");
    p.keel(&["destroy", "-auto-approve"]).ok();
}
