//! `aws_instance` with `root_block_device { encrypted = true }` and no `volume_size`: EC2
//! restores the root volume from the AMI's snapshot, encrypted, at the snapshot's size.
//! keel sends what Terraform sends (the AMI's root device, `Ebs{Encrypted}` and nothing of
//! size or snapshot); moto 5.2.5 refused it with MissingParameter until Patch N of
//! tests/moto/keel_moto.py. The volume is read back through the SDK.

use super::{AMI, apply, attrs, id};
use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::types::Filter;

#[tokio::test(flavor = "multi_thread")]
async fn an_encrypted_root_volume_without_a_size_takes_the_amis_size() {
    let p = Project::new("rootenc");
    p.write(
        "main.hcl",
        &format!(
            r#"
resource "aws_instance" "node" {{
  ami           = "{AMI}"
  instance_type = "t3.micro"

  metadata_options {{
    http_tokens = "required"
  }}

  root_block_device {{
    encrypted = true
  }}
}}
"#
        ),
    );
    apply(&p);
    let addr = "aws_instance.node";
    let instance_id = id(&p, addr);

    let ec2 = moto().ec2().await;
    let image = ec2
        .describe_images()
        .image_ids(AMI)
        .send()
        .await
        .unwrap()
        .images()[0]
        .clone();
    let root_device = image.root_device_name().unwrap().to_string();
    let ami_root = image
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some(&root_device))
        .and_then(|m| m.ebs())
        .expect("the AMI maps its root device")
        .clone();

    let volumes = ec2
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .values(&instance_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .volumes()
        .to_vec();
    assert_eq!(volumes.len(), 1, "one root volume: {volumes:?}");
    let volume = &volumes[0];
    assert_eq!(volume.encrypted(), Some(true));
    assert_eq!(volume.size(), ami_root.volume_size());
    assert_eq!(volume.snapshot_id(), ami_root.snapshot_id());
    assert_eq!(
        volume.attachments()[0].device(),
        Some(root_device.as_str()),
        "the volume is the instance's root device"
    );

    // State records what the cloud made: the size EC2 chose, and the encryption asked for.
    let root = &attrs(&p, addr)["root_block_device"][0];
    assert_eq!(root["encrypted"], serde_json::json!(true));
    assert_eq!(
        root["volume_size"].as_i64(),
        ami_root.volume_size().map(i64::from)
    );
    assert_eq!(root["volume_id"].as_str(), volume.volume_id());
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
}
