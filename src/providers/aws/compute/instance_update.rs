//! Changing an `aws_instance` in place, as the plan's changed attributes say: tags,
//! security groups, IMDS, termination protection, shutdown behaviour, monitoring, the
//! instance profile and the root volume while it runs; the instance type and user data
//! by a stop, modify, start.

use super::instance::{
    AWS_INSTANCE, metadata_request, read_one, user_data_bytes, volume_tag_map, wait_running,
    wait_state,
};
use super::instance_read::describe_one;
use super::values::{first, flag, int, object, string, strings};
use crate::providers::ProviderError;
use crate::providers::aws::ec2::{filter, retag};
use crate::providers::aws::{prior_id, sdk_error, tags_value};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, BlobAttributeValue, EbsInstanceBlockDeviceSpecification,
    IamInstanceProfileSpecification, InstanceBlockDeviceMappingSpecification, VolumeType,
};

type Result<T> = std::result::Result<T, ProviderError>;

pub(super) async fn update(ec2: &Client, prior: &Value, config: &Value) -> Result<Value> {
    let id = prior_id(prior)?.to_string();
    let changes: Vec<String> = crate::plan::diff(&AWS_INSTANCE, config, prior, &[])
        .into_iter()
        .map(|c| c.name)
        .collect();
    let has = |name: &str| changes.iter().any(|c| c == name);
    if has("tags") || has("tags_all") {
        retag(ec2, &id, prior, config).await?;
    }
    if (has("volume_tags") || has("tags_all"))
        && let Some(volume) = first(prior, "root_block_device").and_then(|r| string(r, "volume_id"))
    {
        let tags = |v: &Value| object([("tags_all", tags_value(&volume_tag_map(v)))]);
        retag(ec2, &volume, &tags(prior), &tags(config)).await?;
    }
    if has("vpc_security_group_ids") {
        ec2.modify_instance_attribute()
            .instance_id(&id)
            .set_groups(Some(strings(config, "vpc_security_group_ids")))
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
    }
    if has("metadata_options")
        && let Some(m) = first(config, "metadata_options")
    {
        let r = metadata_request(m);
        ec2.modify_instance_metadata_options()
            .instance_id(&id)
            .set_http_endpoint(r.http_endpoint().cloned())
            .set_http_tokens(r.http_tokens().cloned())
            .set_http_put_response_hop_limit(r.http_put_response_hop_limit())
            .set_instance_metadata_tags(r.instance_metadata_tags().cloned())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceMetadataOptions", e))?;
    }
    if has("disable_api_termination")
        && let Some(b) = flag(config, "disable_api_termination")
    {
        ec2.modify_instance_attribute()
            .instance_id(&id)
            .disable_api_termination(AttributeBooleanValue::builder().value(b).build())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
    }
    if has("instance_initiated_shutdown_behavior")
        && let Some(s) = string(config, "instance_initiated_shutdown_behavior")
    {
        ec2.modify_instance_attribute()
            .instance_id(&id)
            .instance_initiated_shutdown_behavior(AttributeValue::builder().value(s).build())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
    }
    if has("monitoring") {
        set_monitoring(ec2, &id, flag(config, "monitoring") == Some(true)).await?;
    }
    if has("iam_instance_profile")
        && let Some(name) = string(config, "iam_instance_profile")
    {
        set_profile(ec2, &id, &name).await?;
    }
    if has("root_block_device") {
        update_root(ec2, &id, prior, config).await?;
    }
    if has("instance_type") || has("user_data") || has("user_data_base64") {
        stop_modify_start(ec2, &id, config, has("instance_type")).await?;
    }
    read_one(ec2, &id, config).await
}

async fn set_monitoring(ec2: &Client, id: &str, on: bool) -> Result<()> {
    if on {
        ec2.monitor_instances()
            .instance_ids(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("MonitorInstances", e))
    } else {
        ec2.unmonitor_instances()
            .instance_ids(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UnmonitorInstances", e))
    }
}

/// Replaces the instance profile association, or makes one.
async fn set_profile(ec2: &Client, id: &str, name: &str) -> Result<()> {
    let profile = IamInstanceProfileSpecification::builder()
        .name(name)
        .build();
    let current = ec2
        .describe_iam_instance_profile_associations()
        .filters(filter("instance-id", id))
        .filters(filter("state", "associated"))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeIamInstanceProfileAssociations", e))?;
    match current
        .iam_instance_profile_associations()
        .first()
        .and_then(|a| a.association_id())
    {
        Some(association) => ec2
            .replace_iam_instance_profile_association()
            .association_id(association)
            .iam_instance_profile(profile)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("ReplaceIamInstanceProfileAssociation", e)),
        None => ec2
            .associate_iam_instance_profile()
            .instance_id(id)
            .iam_instance_profile(profile)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("AssociateIamInstanceProfile", e)),
    }
}

/// Resizes or retypes the root volume (ModifyVolume) and switches its
/// delete-on-termination flag; encryption and its key force a new instance instead.
async fn update_root(ec2: &Client, id: &str, prior: &Value, config: &Value) -> Result<()> {
    let (Some(want), Some(have)) = (
        first(config, "root_block_device"),
        first(prior, "root_block_device"),
    ) else {
        return Ok(());
    };
    let differs = |key: &str| int(want, key).filter(|n| Some(*n) != int(have, key));
    let size = differs("volume_size");
    let iops = differs("iops");
    let throughput = differs("throughput");
    let kind =
        string(want, "volume_type").filter(|t| Some(t) != string(have, "volume_type").as_ref());
    let volume = string(have, "volume_id");
    if let Some(volume) = &volume
        && (size.is_some() || iops.is_some() || throughput.is_some() || kind.is_some())
    {
        ec2.modify_volume()
            .volume_id(volume)
            .set_size(size)
            .set_iops(iops)
            .set_throughput(throughput)
            .set_volume_type(kind.map(|t| VolumeType::from(t.as_str())))
            .send()
            .await
            .map_err(|e| sdk_error("ModifyVolume", e))?;
    }
    if let (Some(on), Some(device)) = (
        flag(want, "delete_on_termination")
            .filter(|b| Some(*b) != flag(have, "delete_on_termination")),
        string(have, "device_name"),
    ) {
        ec2.modify_instance_attribute()
            .instance_id(id)
            .block_device_mappings(
                InstanceBlockDeviceMappingSpecification::builder()
                    .device_name(device)
                    .ebs(
                        EbsInstanceBlockDeviceSpecification::builder()
                            .delete_on_termination(on)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
    }
    Ok(())
}

/// The instance type and user data change only while the instance is stopped: stop it
/// (when running), change them, start it again, waiting for each state.
async fn stop_modify_start(ec2: &Client, id: &str, config: &Value, retype: bool) -> Result<()> {
    let running = describe_one(ec2, id)
        .await?
        .and_then(|i| i.state().and_then(|s| s.name()).cloned())
        .is_some_and(|s| s.as_str() == "running");
    if running {
        ec2.stop_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| sdk_error("StopInstances", e))?;
        wait_state(ec2, id, "stopped").await?;
    }
    if retype && let Some(t) = string(config, "instance_type") {
        ec2.modify_instance_attribute()
            .instance_id(id)
            .instance_type(AttributeValue::builder().value(t).build())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
    }
    let data = user_data_bytes(config)?;
    if string(config, "user_data").is_some() || string(config, "user_data_base64").is_some() {
        ec2.modify_instance_attribute()
            .instance_id(id)
            .user_data(BlobAttributeValue::builder().value(Blob::new(data)).build())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
    }
    if running {
        ec2.start_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| sdk_error("StartInstances", e))?;
        wait_running(ec2, id).await?;
    }
    Ok(())
}
