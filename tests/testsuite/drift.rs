//! `keel drift` against moto: changes made with the SDK behind keel's back each show up
//! once, in the right category, and a freshly applied stack shows none.

use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

fn stack(bucket: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.60.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.60.1.0/24"
  tags = {{ tier = "private" }}
}}

resource "aws_subnet" "b" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.60.2.0/24"
}}

resource "aws_s3_bucket" "data" {{
  bucket = "{bucket}"
}}

resource "aws_security_group" "app" {{
  vpc_id = aws_vpc.main.id
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.60.0.0/16"]
  }}
}}

resource "aws_s3_bucket_versioning" "data" {{
  bucket = aws_s3_bucket.data.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_reports_each_change_made_outside_keel_once() {
    let p = Project::new("drift");
    p.write("main.hcl", &stack(&p.stack));
    p.keel(&["apply", "-auto-approve"]).ok();

    let clean = p.keel(&["drift"]);
    assert_eq!(
        clean.code, 0,
        "no drift right after apply:\n{}{}",
        clean.stdout, clean.stderr
    );
    assert!(clean.stdout.contains("No drift"), "{}", clean.stdout);

    let state = p.state();
    let id = |addr: &str| state["resources"][addr]["id"].as_str().unwrap().to_string();
    let ec2 = moto().ec2().await;
    // A subnet's tag edited, another subnet deleted, a subnet added inside the managed VPC,
    // and a security group created with the stack's tag.
    ec2.create_tags()
        .resources(id("aws_subnet.a"))
        .tags(Tag::builder().key("tier").value("public").build())
        .send()
        .await
        .unwrap();
    ec2.delete_subnet()
        .subnet_id(id("aws_subnet.b"))
        .send()
        .await
        .unwrap();
    let extra = ec2
        .create_subnet()
        .vpc_id(id("aws_vpc.main"))
        .cidr_block("10.60.9.0/24")
        .send()
        .await
        .unwrap();
    let extra_id = extra.subnet().unwrap().subnet_id().unwrap().to_string();
    let sg = ec2
        .create_security_group()
        .group_name(format!("{}-debug", p.stack))
        .description("opened by hand")
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(Tag::builder().key("keel:stack").value(&p.stack).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sg_id = sg.group_id().unwrap().to_string();
    // SSH opened to the world on the stack's security group.
    ec2.authorize_security_group_ingress()
        .group_id(id("aws_security_group.app"))
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Bucket versioning suspended by hand.
    moto()
        .s3()
        .await
        .put_bucket_versioning()
        .bucket(&p.stack)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // An instance launched with the stack's tag, outside the stack's VPC.
    let images = ec2.describe_images().owners("amazon").send().await.unwrap();
    let ami = images.images()[0].image_id().unwrap().to_string();
    let launched = ec2
        .run_instances()
        .image_id(ami)
        .instance_type(aws_sdk_ec2::types::InstanceType::G5Xlarge)
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("keel:stack").value(&p.stack).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let instance_id = launched.instances()[0].instance_id().unwrap().to_string();

    let metrics = p.root.path().join("drift.prom");
    let run = p.keel(&["drift", "-json", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["format_version"], "keel-drift/1");
    assert_eq!(
        doc["missing"],
        serde_json::json!([{"address": "aws_subnet.b", "id": id("aws_subnet.b")}])
    );
    let changed = doc["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert_eq!(changed[0]["address"], "aws_s3_bucket_versioning.data");
    assert_eq!(
        changed[0]["attributes"][0]["name"],
        "versioning_configuration"
    );
    assert_eq!(
        changed[0]["attributes"][0]["actual"][0]["status"],
        "Suspended"
    );
    assert_eq!(
        changed[0]["attributes"][0]["recorded"][0]["status"],
        "Enabled"
    );
    assert_eq!(changed[1]["address"], "aws_security_group.app");
    let sg_attrs: Vec<&str> = changed[1]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(sg_attrs, ["ingress"]);
    let opened: Vec<&serde_json::Value> = changed[1]["attributes"][0]["actual"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["from_port"] == 22)
        .collect();
    assert_eq!(opened.len(), 1, "{:?}", changed[1]);
    assert_eq!(opened[0]["cidr_blocks"], serde_json::json!(["0.0.0.0/0"]));
    let changed = &changed[2..];
    assert_eq!(changed[0]["address"], "aws_subnet.a");
    let attrs: Vec<&str> = changed[0]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(attrs, ["tags", "tags_all"]);
    assert_eq!(changed[0]["attributes"][0]["actual"]["tier"], "public");
    let unmanaged: Vec<(String, String)> = doc["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["type"].as_str().unwrap().to_string(),
                u["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        unmanaged,
        [
            ("aws_instance".to_string(), instance_id),
            ("aws_security_group".to_string(), sg_id),
            ("aws_subnet".to_string(), extra_id)
        ]
    );

    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains(&format!(
            "keel_drift_resources{{stack=\"{}\",kind=\"missing\"}} 1",
            p.stack
        )),
        "{prom}"
    );
    assert!(
        prom.contains(&format!(
            "keel_drift_resources{{stack=\"{}\",kind=\"unmanaged\"}} 3",
            p.stack
        )),
        "{prom}"
    );

    // The human report names each one too.
    let human = p.keel(&["drift"]);
    assert_eq!(human.code, 2);
    assert!(human.stdout.contains("aws_subnet.b"), "{}", human.stdout);
    assert!(
        human.stdout.contains(
            r#"tags: {"tier" = "private"} (recorded) -> {"tier" = "public"} (in the cloud)"#
        ),
        "{}",
        human.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refresh_only_records_the_cloud_and_changes_nothing_in_it() {
    let p = Project::new("refreshonly");
    p.write("main.hcl", &stack(&p.stack));
    p.keel(&["apply", "-auto-approve"]).ok();
    let subnet_a = p.state()["resources"]["aws_subnet.a"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ec2 = moto().ec2().await;
    ec2.create_tags()
        .resources(&subnet_a)
        .tags(Tag::builder().key("tier").value("public").build())
        .send()
        .await
        .unwrap();

    let declined = p.keel(&["apply", "-refresh-only"]);
    assert_eq!(declined.code, 1, "no answer, no write");
    assert_eq!(
        p.state()["resources"]["aws_subnet.a"]["attributes"]["tags"]["tier"],
        "private"
    );

    let run = p.keel(&["apply", "-refresh-only", "-auto-approve"]).ok();
    assert!(run.stdout.contains("aws_subnet.a"), "{}", run.stdout);
    assert!(run.stdout.contains("recorded 1 changed"), "{}", run.stdout);
    assert_eq!(
        p.state()["resources"]["aws_subnet.a"]["attributes"]["tags"]["tier"],
        "public"
    );
    // The cloud kept the hand-made tag, and drift is gone from the record.
    let out = ec2
        .describe_subnets()
        .subnet_ids(&subnet_a)
        .send()
        .await
        .unwrap();
    let tier = out.subnets()[0]
        .tags()
        .iter()
        .find(|t| t.key() == Some("tier"))
        .and_then(|t| t.value())
        .map(str::to_string);
    assert_eq!(tier.as_deref(), Some("public"));
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    // The configuration still says private, so a normal plan puts it back.
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains(r#"~ "tier" = "public" -> "private""#),
        "{}",
        plan.stdout
    );
}
