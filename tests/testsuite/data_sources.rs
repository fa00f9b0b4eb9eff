//! Data sources against moto: the caller's identity and region, availability zones
//! feeding subnets through for_each, an AMI found by filters and most_recent, policy
//! documents feeding a role's trust policy and a bucket policy (one read during apply,
//! since it names the bucket being created) that plan no changes afterwards. The cloud
//! is read back through the SDK, never through keel's state.

use crate::fixture::{Project, unique};
use crate::moto::{REGION, moto, stack_filter};
use serde_json::Value as Json;
use std::collections::BTreeSet;

fn policy_json(raw: &str) -> Json {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        // IAM answers URL-encoded documents.
        let mut out = Vec::new();
        let b = raw.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&raw[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    serde_json::from_str(&text).unwrap()
}

fn stack_hcl(bucket: &str, role: &str) -> String {
    format!(
        r#"
data "aws_caller_identity" "me" {{}}

data "aws_region" "here" {{}}

data "aws_availability_zones" "az" {{
  state         = "available"
  exclude_names = ["us-east-1e", "us-east-1f"]
}}

locals {{
  azs = slice(data.aws_availability_zones.az.names, 0, 3)
}}

resource "aws_vpc" "v" {{
  cidr_block = "10.61.0.0/16"
}}

resource "aws_subnet" "private" {{
  for_each          = toset(local.azs)
  vpc_id            = aws_vpc.v.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(aws_vpc.v.cidr_block, 8, index(local.azs, each.key))
}}

data "aws_iam_policy_document" "assume" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }}
  }}
}}

resource "aws_iam_role" "reader" {{
  name               = "{role}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}}

resource "aws_s3_bucket" "data" {{
  bucket        = "{bucket}"
  force_destroy = true
}}

data "aws_iam_policy_document" "bucket" {{
  statement {{
    sid       = "ReaderReads"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn, "${{aws_s3_bucket.data.arn}}/*"]
    principals {{
      type        = "AWS"
      identifiers = [aws_iam_role.reader.arn]
    }}
  }}

  statement {{
    sid       = "AccountLocates"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.data.arn]
    principals {{
      type        = "AWS"
      identifiers = ["arn:aws:iam::${{data.aws_caller_identity.me.account_id}}:root"]
    }}
  }}
}}

resource "aws_s3_bucket_policy" "data" {{
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.bucket.json
}}

output "account_id" {{
  value = data.aws_caller_identity.me.account_id
}}

output "region" {{
  value = "${{data.aws_region.here.name}} (${{data.aws_region.here.description}})"
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn data_sources_feed_subnets_a_role_and_a_bucket_policy() {
    let p = Project::new("data");
    let bucket = unique("keel-data");
    let role = p.stack.clone();
    p.write("main.hcl", &stack_hcl(&bucket, &role));

    // The policy naming the bucket and role being created is read during apply; the
    // others are read now and their values feed the plan.
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains(
            "  # data.aws_iam_policy_document.bucket will be read during apply\n  # (config refers to values not yet known)"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        !plan
            .stdout
            .contains("data.aws_iam_policy_document.assume will be read"),
        "{}",
        plan.stdout
    );
    for az in ["us-east-1a", "us-east-1b", "us-east-1c"] {
        assert!(
            plan.stdout
                .contains(&format!("aws_subnet.private[\"{az}\"] will be created")),
            "{}",
            plan.stdout
        );
    }
    assert!(plan.stdout.contains("Plan: 7 to add"), "{}", plan.stdout);
    let json = p.keel(&["plan", "-json"]).ok();
    let doc: Json = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["data_reads"][0]["address"],
        "data.aws_iam_policy_document.bucket"
    );
    assert_eq!(doc["data_reads"][0]["reason"], "config_unknown");

    let apply = p.keel(&["apply", "-auto-approve"]).ok();
    assert!(
        apply
            .stdout
            .contains("data.aws_iam_policy_document.bucket: Reading..."),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("account_id = \"123456789012\""),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("region = \"us-east-1 (US East (N. Virginia))\""),
        "{}",
        apply.stdout
    );

    // The subnets sit in the zones the data source listed.
    let ec2 = moto().ec2().await;
    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    let zones: BTreeSet<String> = subnets
        .subnets()
        .iter()
        .map(|s| s.availability_zone().unwrap().to_string())
        .collect();
    assert_eq!(
        zones,
        BTreeSet::from([
            "us-east-1a".into(),
            "us-east-1b".into(),
            "us-east-1c".into()
        ])
    );

    // The role trusts EC2, as the rendered document says.
    let iam = moto().iam().await;
    let got = iam.get_role().role_name(&role).send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(
        policy_json(got.assume_role_policy_document().unwrap()),
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": { "Service": "ec2.amazonaws.com" }
            }]
        })
    );
    // The bucket policy names the real bucket and role, rendered as Terraform renders it.
    let s3 = moto().s3().await;
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    let role_arn = got.arn();
    let expected = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "ReaderReads",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::{bucket}/*",
        "arn:aws:s3:::{bucket}"
      ],
      "Principal": {{
        "AWS": "{role_arn}"
      }}
    }},
    {{
      "Sid": "AccountLocates",
      "Effect": "Allow",
      "Action": "s3:GetBucketLocation",
      "Resource": "arn:aws:s3:::{bucket}",
      "Principal": {{
        "AWS": "arn:aws:iam::123456789012:root"
      }}
    }}
  ]
}}"#
    );
    assert_eq!(
        serde_json::from_str::<Json>(policy.policy().unwrap()).unwrap(),
        serde_json::from_str::<Json>(&expected).unwrap()
    );
    let state = p.state();
    assert_eq!(
        state["resources"]["aws_s3_bucket_policy.data"]["attributes"]["policy"],
        expected.as_str(),
        "state keeps the text the data source rendered"
    );
    // Nothing of a data source is recorded in state.
    assert!(
        state["resources"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.contains("data.")),
        "{state:#}"
    );

    // Planning again reads every data source now (all arguments known) and finds the
    // cloud as configured; so does a plan without a refresh, which still reads them.
    p.assert_no_changes();
    let stale = p.keel(&["plan", "-refresh=false", "-detailed-exitcode"]);
    assert_eq!(stale.code, 0, "{}{}", stale.stdout, stale.stderr);

    // keel validate reads nothing: the zones are unknown there, and that is fine.
    let valid = p.keel(&["validate"]);
    assert_eq!(valid.code, 0, "{}{}", valid.stdout, valid.stderr);

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err());
    let _ = REGION;
}

/// Makes an image named `name` from a running instance of one of moto's AMIs.
async fn make_image(ec2: &aws_sdk_ec2::Client, instance: &str, name: &str) -> String {
    ec2.create_image()
        .instance_id(instance)
        .name(name)
        .description("made by the data source test")
        .send()
        .await
        .expect("create image")
        .image_id()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ami_is_found_by_filters_and_most_recent() {
    let ec2 = moto().ec2().await;
    let family = unique("keel-gpu");
    let run = ec2
        .run_instances()
        .image_id(crate::compute::AMI)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("run instance");
    let instance = run.instances()[0].instance_id().unwrap().to_string();
    let old = make_image(&ec2, &instance, &format!("{family}-v1")).await;
    // Creation dates have a resolution of one second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let new = make_image(&ec2, &instance, &format!("{family}-v2")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Newer still, but the name_regex leaves it out.
    let other = make_image(&ec2, &instance, &format!("{family}-v3-rc")).await;
    assert!(old != new && new != other);

    let p = Project::new("ami");
    let config = |most_recent: bool| {
        format!(
            r#"
data "aws_ami" "gpu" {{
  most_recent = {most_recent}
  owners      = ["self"]
  name_regex  = "^{family}-v\\d+$"

  filter {{
    name   = "name"
    values = ["{family}-*"]
  }}

  filter {{
    name   = "state"
    values = ["available"]
  }}
}}

resource "aws_launch_template" "gpu" {{
  name     = "{family}"
  image_id = data.aws_ami.gpu.id
}}

output "ami" {{
  value = data.aws_ami.gpu.image_id
}}

output "ami_name" {{
  value = data.aws_ami.gpu.name
}}
"#
        )
    };
    p.write("main.hcl", &config(true));
    let apply = p.keel(&["apply", "-auto-approve"]).ok();
    assert!(
        apply.stdout.contains(&format!("ami = \"{new}\"")),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains(&format!("ami_name = \"{family}-v2\"")),
        "{}",
        apply.stdout
    );
    // The launch template was made from the image the data source found.
    let lt = ec2
        .describe_launch_template_versions()
        .launch_template_name(&family)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lt.launch_template_versions()[0]
            .launch_template_data()
            .unwrap()
            .image_id(),
        Some(new.as_str())
    );
    p.assert_no_changes();

    // Two images match without most_recent: Terraform's error, at the data block.
    p.write("main.hcl", &config(false));
    let err = p.keel(&["plan"]);
    assert_eq!(err.code, 1, "{}{}", err.stdout, err.stderr);
    assert!(
        err.stderr.contains("reading data.aws_ami.gpu failed: Your query returned more than one result. Please try a more specific search criteria, or set `most_recent` attribute to true."),
        "{}",
        err.stderr
    );
    assert!(err.stderr.contains("main.hcl:2:1"), "{}", err.stderr);

    p.write("main.hcl", &config(true));
    p.keel(&["destroy", "-auto-approve"]).ok();
}
