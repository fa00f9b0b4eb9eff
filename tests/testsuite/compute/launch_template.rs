//! `aws_launch_template`: created, read back version by version, imported by id, changed
//! in place by new versions (made the default only with `update_default_version`),
//! retagged without a new version, replaced on a new name, deleted.

use super::{
    AMI, apply, attrs, id, import, owned, plan_replaces, plan_updates_in_place, tag_pairs,
};
use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{LaunchTemplate, ResponseLaunchTemplateData};

struct Template<'a> {
    name: &'a str,
    instance_type: &'a str,
    hop_limit: u32,
    team: &'a str,
    update_default: &'a str,
}

impl Template<'_> {
    fn hcl(&self) -> String {
        let Template {
            name,
            instance_type,
            hop_limit,
            team,
            update_default,
        } = self;
        format!(
            r##"
resource "aws_launch_template" "gpu" {{
  name          = "{name}"
  description   = "training nodes"
  image_id      = "{AMI}"
  instance_type = "{instance_type}"
  user_data     = base64encode("#!/bin/bash\necho ready")
  {update_default}

  metadata_options {{
    http_tokens                 = "required"
    http_put_response_hop_limit = {hop_limit}
  }}

  block_device_mappings {{
    device_name = "/dev/xvda"
    ebs {{
      volume_size = 200
      volume_type = "gp3"
      encrypted   = true
      throughput  = 500
    }}
  }}

  tags = {{ team = "{team}" }}
}}
"##
        )
    }
}

async fn template(id: &str) -> Result<LaunchTemplate, String> {
    moto()
        .ec2()
        .await
        .describe_launch_templates()
        .launch_template_ids(id)
        .send()
        .await
        .map(|out| out.launch_templates()[0].clone())
        .map_err(|e| e.code().unwrap_or_default().to_string())
}

/// The data of one version, as EC2 stored it.
async fn version(id: &str, version: &str) -> ResponseLaunchTemplateData {
    moto()
        .ec2()
        .await
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions(version)
        .send()
        .await
        .unwrap()
        .launch_template_versions()[0]
        .launch_template_data()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn launch_template_versions_and_lifecycle() {
    let p = Project::new("lt");
    let name = p.stack.clone();
    let addr = "aws_launch_template.gpu";
    let mut t = Template {
        name: &name,
        instance_type: "g5.12xlarge",
        hop_limit: 2,
        team: "ml",
        update_default: "",
    };
    p.write("main.hcl", &t.hcl());
    apply(&p);
    let lt = id(&p, addr);
    let got = template(&lt).await.unwrap();
    assert_eq!(got.launch_template_name(), Some(name.as_str()));
    assert_eq!(
        (got.latest_version_number(), got.default_version_number()),
        (Some(1), Some(1))
    );
    assert_eq!(tag_pairs(got.tags()), owned(&p, addr, &[("team", "ml")]));
    let v1 = version(&lt, "1").await;
    assert_eq!(v1.image_id(), Some(AMI));
    assert_eq!(v1.instance_type().map(|t| t.as_str()), Some("g5.12xlarge"));
    let meta = v1.metadata_options().unwrap();
    assert_eq!(meta.http_tokens().map(|t| t.as_str()), Some("required"));
    assert_eq!(meta.http_put_response_hop_limit(), Some(2));
    let ebs = v1.block_device_mappings()[0].ebs().unwrap();
    assert_eq!(
        (ebs.volume_size(), ebs.encrypted(), ebs.throughput()),
        (Some(200), Some(true), Some(500))
    );
    // Terraform's launch template takes user data base64-encoded, and EC2 keeps it so.
    assert_eq!(v1.user_data(), Some("IyEvYmluL2Jhc2gKZWNobyByZWFkeQ=="));
    p.assert_no_changes();

    // Import by id: the state holding only the id reads back the whole template.
    let recorded = attrs(&p, addr);
    assert_eq!(import(&p, addr), recorded);
    p.assert_no_changes();

    // New data makes version 2, in place; without update_default_version the default
    // stays at 1.
    t.instance_type = "g6.12xlarge";
    p.write("main.hcl", &t.hcl());
    plan_updates_in_place(&p, addr);
    apply(&p);
    assert_eq!(id(&p, addr), lt, "the same template");
    let got = template(&lt).await.unwrap();
    assert_eq!(
        (got.latest_version_number(), got.default_version_number()),
        (Some(2), Some(1))
    );
    let v2 = version(&lt, "2").await;
    assert_eq!(v2.instance_type().map(|t| t.as_str()), Some("g6.12xlarge"));
    assert_eq!(
        version(&lt, "1").await.instance_type().map(|t| t.as_str()),
        Some("g5.12xlarge")
    );
    assert_eq!(attrs(&p, addr)["latest_version"], 2);
    p.assert_no_changes();

    // With update_default_version, the new version becomes the default.
    t.hop_limit = 3;
    t.update_default = "update_default_version = true";
    p.write("main.hcl", &t.hcl());
    plan_updates_in_place(&p, addr);
    apply(&p);
    let got = template(&lt).await.unwrap();
    assert_eq!(
        (got.latest_version_number(), got.default_version_number()),
        (Some(3), Some(3))
    );
    let v3 = version(&lt, "$Default").await;
    assert_eq!(
        v3.metadata_options().unwrap().http_put_response_hop_limit(),
        Some(3)
    );
    p.assert_no_changes();

    // Tags are not version data: no new version.
    t.team = "research";
    p.write("main.hcl", &t.hcl());
    plan_updates_in_place(&p, addr);
    apply(&p);
    let got = template(&lt).await.unwrap();
    assert_eq!(got.latest_version_number(), Some(3));
    assert_eq!(
        tag_pairs(got.tags()),
        owned(&p, addr, &[("team", "research")])
    );

    // A new name replaces the template.
    let renamed = format!("{name}-b");
    t.name = &renamed;
    p.write("main.hcl", &t.hcl());
    plan_replaces(&p, addr, "name");
    apply(&p);
    let new_id = id(&p, addr);
    assert_ne!(new_id, lt);
    assert_eq!(
        template(&new_id).await.unwrap().launch_template_name(),
        Some(renamed.as_str())
    );
    assert_eq!(
        template(&lt).await.unwrap_err(),
        "InvalidLaunchTemplateId.NotFound",
        "the old template is deleted"
    );
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_eq!(
        template(&new_id).await.unwrap_err(),
        "InvalidLaunchTemplateId.NotFound"
    );
}
