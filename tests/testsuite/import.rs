//! Bringing objects keel did not create under keel: `keel import ADDR ID` for objects
//! made through the SDK, and `keel state import-terraform` for a hand-written Terraform
//! (format version 4) state of such objects. Both must leave a state against which
//! `keel plan` finds nothing to do; the cloud is read back through the SDK.

use crate::fixture::{Project, unique};
use crate::moto::{REGION, moto};
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, Tag, TagSpecification};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn tags(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            pairs
                .iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .build()
}

/// Objects made outside keel: (vpc id, subnet ids, security group id).
struct Made {
    vpc: String,
    subnets: Vec<String>,
    group: String,
}

async fn make(cidr16: &str, group_name: &str, bucket: &str, bucket_tags: &[(&str, &str)]) -> Made {
    let ec2 = moto().ec2().await;
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("{cidr16}.0.0/16"))
        .tag_specifications(tags(ResourceType::Vpc, &[("Name", "legacy-net")]))
        .send()
        .await
        .expect("create vpc");
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("{cidr16}.{i}.0/24"))
            .availability_zone(*az)
            .tag_specifications(tags(
                ResourceType::Subnet,
                &[("Name", &format!("legacy-{i}"))],
            ))
            .send()
            .await
            .expect("create subnet");
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let group = ec2
        .create_security_group()
        .group_name(group_name)
        .description("legacy web")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("create group")
        .group_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip(format!("{cidr16}.0.0/16"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("authorize ingress");
    let s3 = moto().s3().await;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
    if !bucket_tags.is_empty() {
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .set_tag_set(Some(
                bucket_tags
                    .iter()
                    .map(|(k, v)| {
                        aws_sdk_s3::types::Tag::builder()
                            .key(*k)
                            .value(*v)
                            .build()
                            .unwrap()
                    })
                    .collect(),
            ))
            .build()
            .unwrap();
        s3.put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await
            .expect("tag bucket");
    }
    Made {
        vpc,
        subnets,
        group,
    }
}

fn config(cidr16: &str, group_name: &str, bucket: &str, bucket_tags: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "{REGION}"
}}

resource "aws_vpc" "main" {{
  cidr_block = "{cidr16}.0.0/16"
  tags = {{
    Name = "legacy-net"
  }}
}}

resource "aws_subnet" "private" {{
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = "{cidr16}.${{count.index}}.0/24"
  availability_zone = ["us-east-1a", "us-east-1b"][count.index]
  tags = {{
    Name = "legacy-${{count.index}}"
  }}
}}

resource "aws_security_group" "web" {{
  name        = "{group_name}"
  description = "legacy web"
  vpc_id      = aws_vpc.main.id

  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["{cidr16}.0.0/16"]
  }}

  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

resource "aws_s3_bucket" "data" {{
  bucket = "{bucket}"
  {bucket_tags}
}}

output "vpc_id" {{
  value = aws_vpc.main.id
}}
"#
    )
}

async fn vpc_tags(id: &str) -> Vec<(String, String)> {
    let out = moto()
        .ec2()
        .await
        .describe_vpcs()
        .vpc_ids(id)
        .send()
        .await
        .expect("describe vpc");
    let mut t: Vec<(String, String)> = out.vpcs()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    t.sort();
    t
}

#[test]
fn keel_import_brings_sdk_made_objects_under_keel_with_no_changes_left() {
    let p = Project::new("import");
    let group = unique("legacy-web");
    let bucket = unique("legacy-data").to_lowercase();
    let made = block_on(make("10.63", &group, &bucket, &[("team", "ml")]));
    // No outputs here: import records resources, and outputs come with the next apply.
    p.write(
        "main.tf",
        &config("10.63", &group, &bucket, "tags = {\n    team = \"ml\"\n  }")
            .replace("output \"vpc_id\" {\n  value = aws_vpc.main.id\n}\n", ""),
    );

    let not_in_config = p.keel(&["import", "aws_vpc.other", &made.vpc]);
    assert_eq!(not_in_config.code, 1);
    assert!(
        not_in_config
            .stderr
            .contains("no resource \"aws_vpc\" \"other\""),
        "{}",
        not_in_config.stderr
    );
    let bad_key = p.keel(&["import", "aws_subnet.private", &made.subnets[0]]);
    assert!(
        bad_key.stderr.contains("needs an index"),
        "{}",
        bad_key.stderr
    );
    let absent = p.keel(&["import", "aws_vpc.main", "vpc-0000000000deadbee"]);
    assert_eq!(absent.code, 1);
    assert!(
        absent
            .stderr
            .contains("no aws_vpc with id \"vpc-0000000000deadbee\""),
        "{}",
        absent.stderr
    );

    let imports = [
        ("aws_vpc.main", made.vpc.as_str()),
        ("aws_subnet.private[0]", made.subnets[0].as_str()),
        ("aws_subnet.private[1]", made.subnets[1].as_str()),
        ("aws_security_group.web", made.group.as_str()),
        ("aws_s3_bucket.data", bucket.as_str()),
    ];
    for (addr, id) in imports {
        let run = p.keel(&["import", addr, id]).ok();
        assert!(run.stdout.contains("Import successful!"), "{}", run.stdout);
        assert_eq!(p.state()["resources"][addr]["id"], id);
    }
    let twice = p.keel(&["import", "aws_vpc.main", &made.vpc]);
    assert!(
        twice.stderr.contains("already in state"),
        "{}",
        twice.stderr
    );

    p.assert_no_changes();
    // Nothing was recreated, and keel now marks the objects as its own.
    assert_eq!(
        p.state()["resources"]["aws_vpc.main"]["id"],
        made.vpc.as_str()
    );
    let t = block_on(vpc_tags(&made.vpc));
    assert!(t.contains(&("keel:stack".into(), p.stack.clone())), "{t:?}");
    assert!(
        t.contains(&("keel:address".into(), "aws_vpc.main".into())),
        "{t:?}"
    );
    assert!(t.contains(&("Name".into(), "legacy-net".into())), "{t:?}");
    let bucket_tags = block_on(async {
        moto()
            .s3()
            .await
            .get_bucket_tagging()
            .bucket(&bucket)
            .send()
            .await
            .expect("tags")
    });
    let keys: Vec<&str> = bucket_tags.tag_set().iter().map(|t| t.key()).collect();
    assert!(
        keys.contains(&"team") && keys.contains(&"keel:stack"),
        "{keys:?}"
    );

    // Another stack cannot import what this one owns.
    let other = Project::new("import-other");
    other.write("main.tf", &config("10.63", &group, &bucket, ""));
    let stolen = other.keel(&["import", "aws_vpc.main", &made.vpc]);
    assert_eq!(stolen.code, 1);
    assert!(
        stolen.stderr.contains("already belongs to keel stack"),
        "{}",
        stolen.stderr
    );
}

fn tfstate(made: &Made, bucket: &str, lineage: &str) -> String {
    let aws = r#"provider[\"registry.terraform.io/hashicorp/aws\"]"#;
    let subnet = |i: usize| {
        format!(
            r#"{{"index_key": {i}, "schema_version": 1, "attributes": {{
                "id": "{id}", "arn": "arn:aws:ec2:us-east-1:123456789012:subnet/{id}",
                "vpc_id": "{vpc}", "cidr_block": "10.64.{i}.0/24",
                "availability_zone": "{az}", "map_public_ip_on_launch": false,
                "assign_ipv6_address_on_creation": false, "ipv6_cidr_block": "",
                "tags": {{"Name": "legacy-{i}"}}, "tags_all": {{"Name": "legacy-{i}"}}
              }}, "sensitive_attributes": [], "dependencies": ["aws_vpc.main"]}}"#,
            id = made.subnets[i],
            vpc = made.vpc,
            az = ["us-east-1a", "us-east-1b"][i],
        )
    };
    format!(
        r#"{{
  "version": 4,
  "terraform_version": "1.9.5",
  "serial": 41,
  "lineage": "{lineage}",
  "outputs": {{ "vpc_id": {{ "value": "{vpc}", "type": "string" }} }},
  "resources": [
    {{ "mode": "data", "type": "aws_caller_identity", "name": "me", "provider": "{aws}",
       "instances": [{{ "schema_version": 0, "attributes": {{ "account_id": "123456789012", "id": "123456789012" }} }}] }},
    {{ "mode": "managed", "type": "aws_vpc", "name": "main", "provider": "{aws}",
       "instances": [{{ "schema_version": 1, "attributes": {{
          "id": "{vpc}", "arn": "arn:aws:ec2:us-east-1:123456789012:vpc/{vpc}",
          "cidr_block": "10.64.0.0/16", "instance_tenancy": "default",
          "enable_dns_support": true, "enable_dns_hostnames": false,
          "assign_generated_ipv6_cidr_block": false, "ipv4_ipam_pool_id": null,
          "tags": {{ "Name": "legacy-net" }}, "tags_all": {{ "Name": "legacy-net" }}
       }}, "sensitive_attributes": [] }}] }},
    {{ "mode": "managed", "type": "aws_subnet", "name": "private", "provider": "{aws}",
       "instances": [{s0}, {s1}] }},
    {{ "mode": "managed", "type": "aws_security_group", "name": "web", "provider": "{aws}",
       "instances": [{{ "schema_version": 1, "attributes": {{
          "id": "{group}", "name": "{group_name}", "description": "legacy web", "vpc_id": "{vpc}",
          "revoke_rules_on_delete": false, "tags": null, "tags_all": {{}}
       }}, "dependencies": ["aws_vpc.main"] }}] }},
    {{ "mode": "managed", "type": "aws_s3_bucket", "name": "data", "provider": "{aws}",
       "instances": [{{ "schema_version": 0, "attributes": {{
          "id": "{bucket}", "bucket": "{bucket}", "force_destroy": false,
          "arn": "arn:aws:s3:::{bucket}", "tags": {{}}, "tags_all": {{}}
       }} }}] }}
  ]
}}"#,
        vpc = made.vpc,
        group = made.group,
        group_name = "{group_name}",
        s0 = subnet(0),
        s1 = subnet(1),
    )
}

#[test]
fn a_terraform_state_becomes_keel_state_with_no_changes_left() {
    let p = Project::new("tfimport");
    let group = unique("tf-web");
    let bucket = unique("tf-data").to_lowercase();
    let made = block_on(make("10.64", &group, &bucket, &[]));
    p.write("main.tf", &config("10.64", &group, &bucket, ""));
    let lineage = uuid::Uuid::new_v4().to_string();
    let tf = tfstate(&made, &bucket, &lineage).replace("{group_name}", &group);
    let tf_path = p.root.path().join("terraform.tfstate");

    // A resource keel does not manage: refused, listed, nothing written.
    let with_lambda = tf.replacen(
        "\"resources\": [",
        "\"resources\": [ { \"mode\": \"managed\", \"type\": \"aws_lambda_function\", \"name\": \"f\", \"provider\": \"provider[\\\"registry.terraform.io/hashicorp/aws\\\"]\", \"instances\": [{ \"attributes\": { \"id\": \"f\" } }] },",
        1,
    );
    std::fs::write(&tf_path, &with_lambda).unwrap();
    let tf_arg = tf_path.to_str().unwrap();
    let refused = p.keel(&["state", "import-terraform", tf_arg]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("aws_lambda_function.f"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("-skip-unsupported"),
        "{}",
        refused.stderr
    );
    assert!(!p.state_path().exists(), "nothing may be written");

    let run = p
        .keel(&["state", "import-terraform", tf_arg, "-skip-unsupported"])
        .ok();
    assert!(
        run.stdout.contains("Imported 5 resource(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Skipped aws_lambda_function.f"),
        "{}",
        run.stdout
    );
    let state = p.state();
    assert_eq!(state["lineage"], lineage.as_str());
    assert!(state["serial"].as_u64().unwrap() > 41);
    assert_eq!(
        state["resources"]["aws_subnet.private[1]"]["id"],
        made.subnets[1].as_str()
    );
    assert_eq!(
        state["resources"]["aws_subnet.private[0]"]["dependencies"],
        serde_json::json!(["aws_vpc.main"])
    );
    let out = p.keel(&["output", "-name", "vpc_id"]).ok();
    assert_eq!(out.stdout.trim(), made.vpc);

    p.assert_no_changes();
    let again = p.keel(&["state", "import-terraform", tf_arg]);
    assert!(
        again.stderr.contains("already records 5 resource(s)"),
        "{}",
        again.stderr
    );

    let version3 = p.root.path().join("old.tfstate");
    std::fs::write(
        &version3,
        "{\"version\": 3, \"terraform_version\": \"0.11.14\", \"modules\": []}",
    )
    .unwrap();
    let old = p.keel(&["state", "import-terraform", version3.to_str().unwrap()]);
    assert!(old.stderr.contains("format version 3"), "{}", old.stderr);
}
