//! Batched refresh of the compute types: reading n resources of a type takes one Describe
//! call per page of 200 ids and a constant, plus the per-instance attribute reads EC2 has
//! no batch for, and only for the instances whose state sets them. keel counts its calls
//! and `keel drift --metrics` reports them.

use super::AMI;
use crate::fixture::Project;
use crate::moto::moto;

/// The refresh calls of one operation in a drift metrics file.
fn calls(prom: &str, operation: &str) -> u64 {
    prom.lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{"))
        .filter(|l| l.contains("phase=\"refresh\""))
        .filter(|l| l.contains(&format!("operation=\"{operation}\"")))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtxS6ukNUmK8vdY8RYnHkMdFbwFZ9ugkCrTUdIaWLhw ops@example";

#[tokio::test(flavor = "multi_thread")]
async fn refreshing_compute_takes_a_call_per_type_not_per_resource() {
    let p = Project::new("cbatch");
    let name = p.stack.clone();
    p.write(
        "main.hcl",
        &format!(
            r##"
resource "aws_vpc" "main" {{
  cidr_block = "10.93.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.93.1.0/24"
}}

resource "aws_placement_group" "pg" {{
  count    = 2
  name     = "{name}-${{count.index}}"
  strategy = "cluster"
}}

resource "aws_key_pair" "k" {{
  count      = 2
  key_name   = "{name}-${{count.index}}"
  public_key = "{KEY}"
}}

resource "aws_launch_template" "t" {{
  count         = 3
  name          = "{name}-${{count.index}}"
  image_id      = "{AMI}"
  instance_type = "g5.xlarge"
  metadata_options {{
    http_tokens = "required"
  }}
}}

resource "aws_instance" "plain" {{
  count           = 4
  ami             = "{AMI}"
  instance_type   = "g5.xlarge"
  subnet_id       = aws_subnet.a.id
  placement_group = aws_placement_group.pg[0].name
}}

resource "aws_instance" "booted" {{
  count         = 2
  ami           = "{AMI}"
  instance_type = "g5.xlarge"
  subnet_id     = aws_subnet.a.id
  user_data     = "#!/bin/bash\necho ${{count.index}}"
}}

# Counting refresh calls, not judging the instances (tests/testsuite/guard.rs does).
policy {{
  rule "imdsv2" {{
    enabled = false
  }}
  rule "ebs-encryption" {{
    enabled = false
  }}
}}
"##
        ),
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let metrics = p.root.path().join("drift.prom");
    let run = p.keel(&["drift", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let prom = std::fs::read_to_string(&metrics).unwrap();

    // 6 instances: one DescribeInstances and one DescribeVolumes (their root volumes), and
    // one DescribeInstanceAttribute (user data) for each of the 2 that set user data; the
    // 4 others leave user data, termination protection and shutdown behaviour at EC2's
    // defaults and cost nothing more.
    assert_eq!(calls(&prom, "DescribeInstances"), 1, "{prom}");
    assert_eq!(calls(&prom, "DescribeVolumes"), 1, "{prom}");
    assert_eq!(calls(&prom, "DescribeInstanceAttribute"), 2, "{prom}");
    // 3 templates: one DescribeLaunchTemplates, one region-wide $Latest listing.
    assert_eq!(calls(&prom, "DescribeLaunchTemplates"), 1, "{prom}");
    assert_eq!(calls(&prom, "DescribeLaunchTemplateVersions"), 1, "{prom}");
    // 2 key pairs: one DescribeKeyPairs, one GetCallerIdentity for their ARNs.
    assert_eq!(calls(&prom, "DescribeKeyPairs"), 1, "{prom}");
    assert_eq!(calls(&prom, "GetCallerIdentity"), 1, "{prom}");
    // 2 placement groups: one DescribePlacementGroups.
    assert_eq!(calls(&prom, "DescribePlacementGroups"), 1, "{prom}");

    // One of each deleted behind keel's back: the batched reads find the rest and report
    // these as missing. EC2 fails a DescribeLaunchTemplates naming a deleted id, so that
    // page is split until the deleted one is found: 3 ids take at most 5 calls.
    let ec2 = moto().ec2().await;
    let id = |addr: &str| super::id(&p, addr);
    ec2.terminate_instances()
        .instance_ids(id("aws_instance.plain[0]"))
        .send()
        .await
        .unwrap();
    ec2.delete_launch_template()
        .launch_template_id(id("aws_launch_template.t[1]"))
        .send()
        .await
        .unwrap();
    ec2.delete_key_pair()
        .key_name(id("aws_key_pair.k[1]"))
        .send()
        .await
        .unwrap();
    ec2.delete_placement_group()
        .group_name(id("aws_placement_group.pg[1]"))
        .send()
        .await
        .unwrap();
    let run = p.keel(&["drift", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("0 changed, 4 missing, 0 unmanaged"),
        "{}",
        run.stdout
    );
    for addr in [
        "aws_instance.plain[0]",
        "aws_launch_template.t[1]",
        "aws_key_pair.k[1]",
        "aws_placement_group.pg[1]",
    ] {
        assert!(
            run.stdout.contains(&format!("- {addr} [id=")),
            "{addr} missing:\n{}",
            run.stdout
        );
    }
    let prom = std::fs::read_to_string(&metrics).unwrap();
    let templates = calls(&prom, "DescribeLaunchTemplates");
    assert!((2..=5).contains(&templates), "{prom}");
    assert_eq!(calls(&prom, "DescribeInstances"), 1, "{prom}");
    assert_eq!(calls(&prom, "DescribeKeyPairs"), 1, "{prom}");
    assert_eq!(calls(&prom, "DescribePlacementGroups"), 1, "{prom}");
}
