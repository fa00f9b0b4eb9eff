//! `aws_instance`: one EC2 instance (p4d, p5, g5, g6 for GPU work), launched with an
//! idempotency token, waited on until it runs, and terminated with a wait until it is gone.
//! Reading is in `instance_read`, changing in place in `instance_update`.

use super::instance_read::{describe_one, read_many};
use super::launch_template::METADATA;
use super::values::{first, flag, int, object, string, strings};
use super::wait::{INSTANCE_RUNNING, INSTANCE_STOPPED, INSTANCE_TERMINATED, Poll, until};
use crate::providers::ProviderError;
use crate::providers::aws::ec2::{merge_config, tag_spec};
use crate::providers::aws::{TAGS, TAGS_ALL, prior_id, sdk_error, string_map};
use crate::providers::schema::{Attr, BlockType, ResourceSchema, Ty};
use crate::value::Value;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, HttpTokensState, IamInstanceProfileSpecification,
    InstanceInterruptionBehavior, InstanceMarketOptionsRequest, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceMetadataTagsState,
    InstanceNetworkInterfaceSpecification, InstanceType, LaunchTemplateSpecification, MarketType,
    Placement, ResourceType, RunInstancesMonitoringEnabled, ShutdownBehavior, SpotInstanceType,
    SpotMarketOptions, Tenancy, VolumeType,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ProviderError>;

const ROOT: &[Attr] = &[
    Attr::optional_computed("volume_size", Ty::Number),
    Attr::optional_computed("volume_type", Ty::String),
    Attr::optional_computed("encrypted", Ty::Bool).force_new(),
    Attr::optional_computed("kms_key_id", Ty::String).force_new(),
    Attr::optional_computed("delete_on_termination", Ty::Bool),
    Attr::optional_computed("iops", Ty::Number),
    Attr::optional_computed("throughput", Ty::Number),
    Attr::computed("volume_id", Ty::String),
    Attr::computed("device_name", Ty::String),
];

const fn one(
    name: &'static str,
    attrs: &'static [Attr],
    blocks: &'static [BlockType],
) -> BlockType {
    BlockType {
        name,
        attrs,
        blocks,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
        computed: false,
    }
}

const fn replacing(block: BlockType) -> BlockType {
    BlockType {
        force_new: true,
        ..block
    }
}

pub static AWS_INSTANCE: ResourceSchema = ResourceSchema {
    type_name: "aws_instance",
    attrs: &[
        Attr::optional_computed("ami", Ty::String).force_new(),
        Attr::optional_computed("instance_type", Ty::String),
        Attr::optional_computed("subnet_id", Ty::String).force_new(),
        Attr::optional_computed("vpc_security_group_ids", Ty::StringSet),
        Attr::optional_computed("iam_instance_profile", Ty::String),
        Attr::optional_computed("placement_group", Ty::String).force_new(),
        Attr::optional_computed("placement_partition_number", Ty::Number).force_new(),
        Attr::optional_computed("key_name", Ty::String).force_new(),
        Attr::optional_computed("user_data", Ty::String),
        Attr::optional_computed("user_data_base64", Ty::String),
        Attr::optional_computed("associate_public_ip_address", Ty::Bool).force_new(),
        Attr::optional_computed("private_ip", Ty::String).force_new(),
        Attr::optional_computed("availability_zone", Ty::String).force_new(),
        Attr::optional_computed("tenancy", Ty::String).force_new(),
        Attr::optional_computed("ebs_optimized", Ty::Bool).force_new(),
        Attr::optional_computed("monitoring", Ty::Bool),
        Attr::optional_computed("disable_api_termination", Ty::Bool),
        Attr::optional_computed("instance_initiated_shutdown_behavior", Ty::String),
        Attr::optional("volume_tags", Ty::StringMap),
        TAGS,
        TAGS_ALL,
        Attr::computed("id", Ty::String),
        Attr::computed("arn", Ty::String),
        Attr::computed("instance_state", Ty::String),
        Attr::computed("instance_lifecycle", Ty::String),
        Attr::computed("private_dns", Ty::String),
        Attr::computed("public_ip", Ty::String),
        Attr::computed("public_dns", Ty::String),
        Attr::computed("primary_network_interface_id", Ty::String),
        Attr::computed("outpost_arn", Ty::String),
    ],
    blocks: &[
        one("root_block_device", ROOT, &[]),
        one("metadata_options", METADATA, &[]),
        replacing(one(
            "launch_template",
            &[
                Attr::optional_computed("id", Ty::String),
                Attr::optional_computed("name", Ty::String),
                Attr::optional_computed("version", Ty::String),
            ],
            &[],
        )),
        replacing(one(
            "instance_market_options",
            &[Attr::optional_computed("market_type", Ty::String)],
            &[one(
                "spot_options",
                &[
                    Attr::optional_computed("max_price", Ty::String),
                    Attr::optional_computed("spot_instance_type", Ty::String),
                    Attr::optional_computed("instance_interruption_behavior", Ty::String),
                ],
                &[],
            )],
        )),
    ],
    taggable: true,
};

/// The idempotency token of one RunInstances call: EC2 answers a second call with the same
/// token with the instance the first one launched instead of launching another. Apply
/// journals the token with the create's intent and passes it here (through
/// [`super::CLIENT_TOKEN`]), so a create retried after a crash reuses it; without one, a
/// fresh UUID.
fn client_token() -> String {
    super::CLIENT_TOKEN
        .try_with(|t| t.clone())
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// How long RunInstances waits for an instance profile to become visible to EC2.
const PROFILE_PROPAGATION: crate::providers::aws::wait::Patience =
    crate::providers::aws::wait::Patience {
        timeout: std::time::Duration::from_secs(90),
        first_pause: std::time::Duration::from_secs(1),
        max_pause: std::time::Duration::from_secs(10),
    };

/// EC2's answer for an instance profile it cannot see (yet).
fn profile_not_visible_yet(e: &ProviderError) -> bool {
    e.code.as_deref() == Some("InvalidParameterValue") && e.message.contains("iamInstanceProfile")
}

pub(super) async fn create(ec2: &Client, config: &Value) -> Result<Value> {
    let tags = string_map(config, "tags_all");
    let root = match first(config, "root_block_device") {
        Some(r) => Some(root_mapping(ec2, config, r).await?),
        None => None,
    };
    let mut run = ec2
        .run_instances()
        .min_count(1)
        .max_count(1)
        .client_token(client_token())
        .set_image_id(string(config, "ami"))
        .set_instance_type(string(config, "instance_type").map(|t| InstanceType::from(t.as_str())))
        .set_key_name(string(config, "key_name"))
        .set_iam_instance_profile(
            string(config, "iam_instance_profile")
                .map(|n| IamInstanceProfileSpecification::builder().name(n).build()),
        )
        .set_user_data(user_data_base64(config))
        .set_ebs_optimized(flag(config, "ebs_optimized"))
        .set_monitoring(
            flag(config, "monitoring")
                .map(|m| RunInstancesMonitoringEnabled::builder().enabled(m).build()),
        )
        .set_disable_api_termination(flag(config, "disable_api_termination"))
        .set_instance_initiated_shutdown_behavior(
            string(config, "instance_initiated_shutdown_behavior")
                .map(|s| ShutdownBehavior::from(s.as_str())),
        )
        .set_placement(placement(config))
        .set_metadata_options(first(config, "metadata_options").map(metadata_request))
        .set_launch_template(first(config, "launch_template").map(|t| {
            LaunchTemplateSpecification::builder()
                .set_launch_template_id(string(t, "id"))
                .set_launch_template_name(string(t, "name"))
                .set_version(string(t, "version"))
                .build()
        }))
        .set_instance_market_options(first(config, "instance_market_options").map(market_request))
        .set_block_device_mappings(root.map(|r| vec![r]))
        .tag_specifications(tag_spec(ResourceType::Instance, &tags))
        .tag_specifications(tag_spec(ResourceType::Volume, &volume_tag_map(config)));
    let groups = strings(config, "vpc_security_group_ids");
    let groups = (!groups.is_empty()).then_some(groups);
    // RunInstances takes a public address only on a network interface, so asking for one
    // (or for none) describes the primary interface, as Terraform does.
    run = match flag(config, "associate_public_ip_address") {
        Some(public) => run.network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .set_subnet_id(string(config, "subnet_id"))
                .set_groups(groups)
                .set_private_ip_address(string(config, "private_ip"))
                .associate_public_ip_address(public)
                .delete_on_termination(true)
                .build(),
        ),
        None => run
            .set_subnet_id(string(config, "subnet_id"))
            .set_security_group_ids(groups)
            .set_private_ip_address(string(config, "private_ip")),
    };
    // IAM is eventually consistent: an instance profile created a moment ago is unknown to
    // EC2 for a while ("Invalid IAM Instance Profile name"). The same request (same client
    // token, so never a second instance) is sent again until EC2 sees it.
    let out = crate::providers::aws::wait::retry_while(
        profile_not_visible_yet,
        PROFILE_PROPAGATION,
        || {
            let run = run.clone();
            async move { run.send().await.map_err(|e| sdk_error("RunInstances", e)) }
        },
    )
    .await?;
    let id = out
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .ok_or_else(|| ProviderError::new("RunInstances returned no instance id"))?
        .to_string();
    // From here on the instance exists; errors name it, and its keel tags let a later
    // run find it.
    wait_running(ec2, &id).await?;
    read_one(ec2, &id, config).await
}

pub(super) async fn read_one(ec2: &Client, id: &str, config: &Value) -> Result<Value> {
    let known = object([("id", Value::str(id))]);
    read_many(ec2, &[merge_config(&known, config)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| ProviderError::new(format!("instance {id} no longer exists")))
}

/// `user_data` (text) or `user_data_base64`, as RunInstances takes it: base64.
fn user_data_base64(config: &Value) -> Option<String> {
    string(config, "user_data")
        .map(|s| B64.encode(s))
        .or_else(|| string(config, "user_data_base64"))
}

/// The user data as ModifyInstanceAttribute takes it: the raw bytes (the SDK encodes them).
pub(super) fn user_data_bytes(config: &Value) -> Result<Vec<u8>> {
    match (
        string(config, "user_data"),
        string(config, "user_data_base64"),
    ) {
        (Some(text), _) => Ok(text.into_bytes()),
        (None, Some(b64)) => B64
            .decode(b64.trim())
            .map_err(|e| ProviderError::new(format!("user_data_base64 is not valid base64: {e}"))),
        (None, None) => Ok(Vec::new()),
    }
}

/// The tags an instance's volumes get: `volume_tags` and keel's ownership tags (the
/// `keel:` keys of `tags_all`, a prefix no user tag may have).
pub(super) fn volume_tag_map(v: &Value) -> BTreeMap<String, String> {
    let mut tags = string_map(v, "volume_tags");
    tags.extend(
        string_map(v, "tags_all")
            .into_iter()
            .filter(|(k, _)| k.starts_with("keel:")),
    );
    tags
}

fn placement(config: &Value) -> Option<Placement> {
    let group = string(config, "placement_group");
    let partition = int(config, "placement_partition_number");
    let tenancy = string(config, "tenancy");
    let zone = string(config, "availability_zone");
    if group.is_none() && partition.is_none() && tenancy.is_none() && zone.is_none() {
        return None;
    }
    Some(
        Placement::builder()
            .set_group_name(group)
            .set_partition_number(partition)
            .set_tenancy(tenancy.map(|t| Tenancy::from(t.as_str())))
            .set_availability_zone(zone)
            .build(),
    )
}

pub(super) fn metadata_request(m: &Value) -> InstanceMetadataOptionsRequest {
    InstanceMetadataOptionsRequest::builder()
        .set_http_endpoint(
            string(m, "http_endpoint").map(|s| InstanceMetadataEndpointState::from(s.as_str())),
        )
        .set_http_tokens(string(m, "http_tokens").map(|s| HttpTokensState::from(s.as_str())))
        .set_http_put_response_hop_limit(int(m, "http_put_response_hop_limit"))
        .set_instance_metadata_tags(
            string(m, "instance_metadata_tags")
                .map(|s| InstanceMetadataTagsState::from(s.as_str())),
        )
        .build()
}

fn market_request(o: &Value) -> InstanceMarketOptionsRequest {
    InstanceMarketOptionsRequest::builder()
        .set_market_type(string(o, "market_type").map(|t| MarketType::from(t.as_str())))
        .set_spot_options(first(o, "spot_options").map(|s| {
            SpotMarketOptions::builder()
                .set_max_price(string(s, "max_price"))
                .set_spot_instance_type(
                    string(s, "spot_instance_type").map(|t| SpotInstanceType::from(t.as_str())),
                )
                .set_instance_interruption_behavior(
                    string(s, "instance_interruption_behavior")
                        .map(|t| InstanceInterruptionBehavior::from(t.as_str())),
                )
                .build()
        }))
        .build()
}

/// The root volume's mapping. It must name the AMI's root device, which only the AMI knows:
/// one DescribeImages call.
async fn root_mapping(ec2: &Client, config: &Value, root: &Value) -> Result<BlockDeviceMapping> {
    let ami = string(config, "ami").ok_or_else(|| {
        ProviderError::new(
            "root_block_device needs ami: keel reads the AMI's root device name to map the root volume",
        )
    })?;
    let images = ec2
        .describe_images()
        .image_ids(&ami)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeImages", e))?;
    let device = images
        .images()
        .first()
        .and_then(|i| i.root_device_name())
        .ok_or_else(|| {
            ProviderError::with_code(
                "InvalidAMIID.NotFound",
                format!("DescribeImages: AMI {ami} does not exist or has no root device"),
            )
        })?
        .to_string();
    Ok(BlockDeviceMapping::builder()
        .device_name(device)
        .ebs(
            EbsBlockDevice::builder()
                .set_volume_size(int(root, "volume_size"))
                .set_volume_type(string(root, "volume_type").map(|t| VolumeType::from(t.as_str())))
                .set_encrypted(flag(root, "encrypted"))
                .set_kms_key_id(string(root, "kms_key_id"))
                .delete_on_termination(flag(root, "delete_on_termination").unwrap_or(true))
                .set_iops(int(root, "iops"))
                .set_throughput(int(root, "throughput"))
                .build(),
        )
        .build())
}

pub(super) async fn wait_running(ec2: &Client, id: &str) -> Result<()> {
    until(
        &format!("instance {id} to reach running"),
        INSTANCE_RUNNING,
        || async {
            let Some(i) = describe_one(ec2, id).await? else {
                return Ok(Poll::Pending("not yet visible".to_string()));
            };
            let state = i
                .state()
                .and_then(|s| s.name())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            match state.as_str() {
                "running" => Ok(Poll::Done(())),
                "shutting-down" | "terminated" => {
                    let why = i
                        .state_reason()
                        .and_then(|r| r.message())
                        .unwrap_or("no reason given");
                    Err(ProviderError::with_code(
                        i.state_reason()
                            .and_then(|r| r.code())
                            .filter(|c| !c.is_empty())
                            .unwrap_or("InstanceTerminated"),
                        format!("instance {id} is {state} instead of running: {why}"),
                    ))
                }
                _ => Ok(Poll::Pending(state)),
            }
        },
    )
    .await
}

pub(super) async fn wait_state(ec2: &Client, id: &str, want: &str) -> Result<()> {
    let waiter = if want == "stopped" {
        INSTANCE_STOPPED
    } else {
        INSTANCE_TERMINATED
    };
    until(
        &format!("instance {id} to reach {want}"),
        waiter,
        || async {
            let state = describe_one(ec2, id)
                .await?
                .and_then(|i| i.state().and_then(|s| s.name()).cloned())
                .map(|s| s.as_str().to_string());
            Ok(match state {
                None if want == "terminated" => Poll::Done(()),
                Some(s) if s == want => Poll::Done(()),
                Some(s) => Poll::Pending(s),
                None => Poll::Pending("not visible".to_string()),
            })
        },
    )
    .await
}

/// Terminates the instance and waits until it is gone. Termination protection
/// (`disable_api_termination = true`) makes EC2 refuse, with its own error.
pub(super) async fn delete(ec2: &Client, prior: &Value) -> Result<()> {
    let id = prior_id(prior)?;
    match ec2.terminate_instances().instance_ids(id).send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("InvalidInstanceID.NotFound") => return Ok(()),
        Err(e) => return Err(sdk_error("TerminateInstances", e)),
    }
    wait_state(ec2, id, "terminated").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_goes_out_as_base64_and_back_in_as_bytes() {
        let text = object([("user_data", Value::str("#!/bin/sh\necho hi"))]);
        assert_eq!(
            user_data_base64(&text).as_deref(),
            Some("IyEvYmluL3NoCmVjaG8gaGk=")
        );
        assert_eq!(user_data_bytes(&text).unwrap(), b"#!/bin/sh\necho hi");
        let b64 = object([("user_data_base64", Value::str("aGk="))]);
        assert_eq!(user_data_base64(&b64).as_deref(), Some("aGk="));
        assert_eq!(user_data_bytes(&b64).unwrap(), b"hi");
        let bad = object([("user_data_base64", Value::str("!!"))]);
        assert!(
            user_data_bytes(&bad)
                .unwrap_err()
                .message
                .contains("not valid base64")
        );
    }

    #[test]
    fn volumes_carry_keel_ownership_tags() {
        let config = object([
            ("volume_tags", object([("team", Value::str("ml"))])),
            (
                "tags_all",
                object([
                    ("keel:stack", Value::str("gpu")),
                    ("keel:address", Value::str("aws_instance.a")),
                    ("Name", Value::str("node")),
                ]),
            ),
        ]);
        let tags = volume_tag_map(&config);
        assert_eq!(tags.get("team").map(String::as_str), Some("ml"));
        assert_eq!(tags.get("keel:stack").map(String::as_str), Some("gpu"));
        assert_eq!(
            tags.get("keel:address").map(String::as_str),
            Some("aws_instance.a")
        );
        assert!(!tags.contains_key("Name"));
    }

    #[test]
    fn the_plan_names_what_replaces_an_instance() {
        for name in [
            "ami",
            "subnet_id",
            "placement_group",
            "key_name",
            "launch_template",
        ] {
            assert!(AWS_INSTANCE.forces_new(name), "{name}");
        }
        for name in [
            "instance_type",
            "user_data",
            "vpc_security_group_ids",
            "metadata_options",
            "disable_api_termination",
            "monitoring",
            "tags",
        ] {
            assert!(!AWS_INSTANCE.forces_new(name), "{name}");
        }
    }
}
