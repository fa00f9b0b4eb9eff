//! A launch template's data: the `aws_launch_template` arguments that make up one version,
//! turned into the request EC2 takes and read back from the version EC2 stored.

use super::values::{block, first, flag, int, items, object, opt_bool, opt_int, opt_str};
use super::values::{string, string_set, strings};
use crate::providers::aws::ec2::{ec2_tags, tags_of};
use crate::providers::aws::{string_map, tags_value};
use crate::value::Value;
use aws_sdk_ec2::types::{
    InstanceInterruptionBehavior, InstanceType, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMarketOptionsRequest, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateInstanceMetadataTagsState,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, LaunchTemplatePlacementRequest,
    LaunchTemplateSpotMarketOptionsRequest, LaunchTemplateTagSpecificationRequest, MarketType,
    RequestLaunchTemplateData, ResourceType, ResponseLaunchTemplateData, SpotInstanceType, Tenancy,
    VolumeType,
};

/// The arguments that are version data; a change to any of them makes a new version.
pub(super) const DATA: &[&str] = &[
    "description",
    "image_id",
    "instance_type",
    "key_name",
    "user_data",
    "vpc_security_group_ids",
    "iam_instance_profile",
    "metadata_options",
    "block_device_mappings",
    "network_interfaces",
    "instance_market_options",
    "placement",
    "tag_specifications",
];

/// The version data `config` describes. `user_data` is sent as written: Terraform's
/// aws_launch_template takes it base64-encoded already.
pub(super) fn request(config: &Value) -> RequestLaunchTemplateData {
    let groups = strings(config, "vpc_security_group_ids");
    RequestLaunchTemplateData::builder()
        .set_image_id(string(config, "image_id"))
        .set_instance_type(string(config, "instance_type").map(|t| InstanceType::from(t.as_str())))
        .set_key_name(string(config, "key_name"))
        .set_user_data(string(config, "user_data"))
        .set_security_group_ids((!groups.is_empty()).then_some(groups))
        .set_iam_instance_profile(first(config, "iam_instance_profile").map(|p| {
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .set_name(string(p, "name"))
                .set_arn(string(p, "arn"))
                .build()
        }))
        .set_metadata_options(first(config, "metadata_options").map(metadata_request))
        .set_block_device_mappings(list(items(config, "block_device_mappings"), |m| {
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .set_device_name(string(m, "device_name"))
                .set_ebs(first(m, "ebs").map(ebs_request))
                .build()
        }))
        .set_network_interfaces(list(items(config, "network_interfaces"), nic_request))
        .set_instance_market_options(first(config, "instance_market_options").map(|o| {
            LaunchTemplateInstanceMarketOptionsRequest::builder()
                .set_market_type(string(o, "market_type").map(|t| MarketType::from(t.as_str())))
                .set_spot_options(first(o, "spot_options").map(|s| {
                    LaunchTemplateSpotMarketOptionsRequest::builder()
                        .set_max_price(string(s, "max_price"))
                        .set_spot_instance_type(
                            string(s, "spot_instance_type")
                                .map(|t| SpotInstanceType::from(t.as_str())),
                        )
                        .set_instance_interruption_behavior(
                            string(s, "instance_interruption_behavior")
                                .map(|t| InstanceInterruptionBehavior::from(t.as_str())),
                        )
                        .build()
                }))
                .build()
        }))
        .set_placement(first(config, "placement").map(|p| {
            LaunchTemplatePlacementRequest::builder()
                .set_group_name(string(p, "group_name"))
                .set_availability_zone(string(p, "availability_zone"))
                .set_tenancy(string(p, "tenancy").map(|t| Tenancy::from(t.as_str())))
                .set_partition_number(int(p, "partition_number"))
                .build()
        }))
        .set_tag_specifications(list(items(config, "tag_specifications"), |t| {
            LaunchTemplateTagSpecificationRequest::builder()
                .set_resource_type(
                    string(t, "resource_type").map(|r| ResourceType::from(r.as_str())),
                )
                .set_tags(Some(ec2_tags(&string_map(t, "tags"))))
                .build()
        }))
        .build()
}

fn list<T>(values: &[Value], f: impl Fn(&Value) -> T) -> Option<Vec<T>> {
    (!values.is_empty()).then(|| values.iter().map(f).collect())
}

fn metadata_request(m: &Value) -> LaunchTemplateInstanceMetadataOptionsRequest {
    LaunchTemplateInstanceMetadataOptionsRequest::builder()
        .set_http_endpoint(
            string(m, "http_endpoint")
                .map(|s| LaunchTemplateInstanceMetadataEndpointState::from(s.as_str())),
        )
        .set_http_tokens(
            string(m, "http_tokens").map(|s| LaunchTemplateHttpTokensState::from(s.as_str())),
        )
        .set_http_put_response_hop_limit(int(m, "http_put_response_hop_limit"))
        .set_instance_metadata_tags(
            string(m, "instance_metadata_tags")
                .map(|s| LaunchTemplateInstanceMetadataTagsState::from(s.as_str())),
        )
        .build()
}

fn ebs_request(e: &Value) -> LaunchTemplateEbsBlockDeviceRequest {
    LaunchTemplateEbsBlockDeviceRequest::builder()
        .set_volume_size(int(e, "volume_size"))
        .set_volume_type(string(e, "volume_type").map(|t| VolumeType::from(t.as_str())))
        .set_encrypted(flag(e, "encrypted"))
        .set_kms_key_id(string(e, "kms_key_id"))
        .set_delete_on_termination(flag(e, "delete_on_termination"))
        .set_iops(int(e, "iops"))
        .set_throughput(int(e, "throughput"))
        .set_snapshot_id(string(e, "snapshot_id"))
        .build()
}

fn nic_request(n: &Value) -> LaunchTemplateInstanceNetworkInterfaceSpecificationRequest {
    let groups = strings(n, "security_groups");
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
        .set_device_index(int(n, "device_index"))
        .set_network_card_index(int(n, "network_card_index"))
        .set_interface_type(string(n, "interface_type"))
        .set_subnet_id(string(n, "subnet_id"))
        .set_groups((!groups.is_empty()).then_some(groups))
        .set_associate_public_ip_address(flag(n, "associate_public_ip_address"))
        .set_delete_on_termination(flag(n, "delete_on_termination"))
        .set_description(string(n, "description"))
        .set_private_ip_address(string(n, "private_ip_address"))
        .build()
}

/// The arguments a stored version holds, as state records them.
pub(super) fn response(d: &ResponseLaunchTemplateData) -> Vec<(&'static str, Value)> {
    let groups = d.security_group_ids();
    vec![
        ("image_id", opt_str(d.image_id())),
        (
            "instance_type",
            opt_str(d.instance_type().map(|t| t.as_str())),
        ),
        ("key_name", opt_str(d.key_name())),
        ("user_data", opt_str(d.user_data())),
        (
            "vpc_security_group_ids",
            if groups.is_empty() {
                Value::Null
            } else {
                string_set(groups)
            },
        ),
        (
            "iam_instance_profile",
            block(
                d.iam_instance_profile()
                    .map(|p| object([("name", opt_str(p.name())), ("arn", opt_str(p.arn()))])),
            ),
        ),
        (
            "metadata_options",
            block(d.metadata_options().map(|m| {
                object([
                    (
                        "http_endpoint",
                        opt_str(m.http_endpoint().map(|s| s.as_str())),
                    ),
                    ("http_tokens", opt_str(m.http_tokens().map(|s| s.as_str()))),
                    (
                        "http_put_response_hop_limit",
                        opt_int(m.http_put_response_hop_limit()),
                    ),
                    (
                        "instance_metadata_tags",
                        opt_str(m.instance_metadata_tags().map(|s| s.as_str())),
                    ),
                ])
            })),
        ),
        (
            "block_device_mappings",
            Value::List(
                d.block_device_mappings()
                    .iter()
                    .map(|m| {
                        object([
                            ("device_name", opt_str(m.device_name())),
                            (
                                "ebs",
                                block(m.ebs().map(|e| {
                                    object([
                                        ("volume_size", opt_int(e.volume_size())),
                                        (
                                            "volume_type",
                                            opt_str(e.volume_type().map(|t| t.as_str())),
                                        ),
                                        ("encrypted", opt_bool(e.encrypted())),
                                        ("kms_key_id", opt_str(e.kms_key_id())),
                                        (
                                            "delete_on_termination",
                                            opt_bool(e.delete_on_termination()),
                                        ),
                                        ("iops", opt_int(e.iops())),
                                        ("throughput", opt_int(e.throughput())),
                                        ("snapshot_id", opt_str(e.snapshot_id())),
                                    ])
                                })),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "network_interfaces",
            Value::List(
                d.network_interfaces()
                    .iter()
                    .map(|n| {
                        object([
                            ("device_index", opt_int(n.device_index())),
                            ("network_card_index", opt_int(n.network_card_index())),
                            ("interface_type", opt_str(n.interface_type())),
                            ("subnet_id", opt_str(n.subnet_id())),
                            (
                                "security_groups",
                                if n.groups().is_empty() {
                                    Value::Null
                                } else {
                                    string_set(n.groups())
                                },
                            ),
                            (
                                "associate_public_ip_address",
                                opt_bool(n.associate_public_ip_address()),
                            ),
                            ("delete_on_termination", opt_bool(n.delete_on_termination())),
                            ("description", opt_str(n.description())),
                            ("private_ip_address", opt_str(n.private_ip_address())),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "instance_market_options",
            block(d.instance_market_options().map(|o| {
                object([
                    ("market_type", opt_str(o.market_type().map(|t| t.as_str()))),
                    (
                        "spot_options",
                        block(o.spot_options().map(|s| {
                            object([
                                ("max_price", opt_str(s.max_price())),
                                (
                                    "spot_instance_type",
                                    opt_str(s.spot_instance_type().map(|t| t.as_str())),
                                ),
                                (
                                    "instance_interruption_behavior",
                                    opt_str(s.instance_interruption_behavior().map(|t| t.as_str())),
                                ),
                            ])
                        })),
                    ),
                ])
            })),
        ),
        (
            "placement",
            block(d.placement().map(|p| {
                object([
                    ("group_name", opt_str(p.group_name())),
                    ("availability_zone", opt_str(p.availability_zone())),
                    ("tenancy", opt_str(p.tenancy().map(|t| t.as_str()))),
                    ("partition_number", opt_int(p.partition_number())),
                ])
            })),
        ),
        (
            "tag_specifications",
            Value::List(
                d.tag_specifications()
                    .iter()
                    .map(|t| {
                        object([
                            (
                                "resource_type",
                                opt_str(t.resource_type().map(|r| r.as_str())),
                            ),
                            ("tags", tags_value(&tags_of(t.tags()))),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        LaunchTemplateBlockDeviceMapping, LaunchTemplateEbsBlockDevice,
        LaunchTemplateInstanceMetadataOptions, LaunchTemplateInstanceNetworkInterfaceSpecification,
    };

    #[test]
    fn a_request_carries_the_gpu_settings() {
        let config = object([
            ("image_id", Value::str("ami-1")),
            ("instance_type", Value::str("p5.48xlarge")),
            (
                "metadata_options",
                Value::List(vec![object([("http_tokens", Value::str("required"))])]),
            ),
            (
                "network_interfaces",
                Value::List(vec![object([
                    ("device_index", Value::Number(0.0)),
                    ("interface_type", Value::str("efa")),
                    ("subnet_id", Value::str("subnet-1")),
                ])]),
            ),
        ]);
        let r = request(&config);
        assert_eq!(r.instance_type(), Some(&InstanceType::P548xlarge));
        assert_eq!(
            r.metadata_options().and_then(|m| m.http_tokens()),
            Some(&LaunchTemplateHttpTokensState::Required)
        );
        let nic = &r.network_interfaces()[0];
        assert_eq!(nic.interface_type(), Some("efa"));
        assert_eq!(nic.device_index(), Some(0));
        assert!(r.block_device_mappings().is_empty());
        assert!(r.placement().is_none());
    }

    #[test]
    fn a_stored_version_reads_back_as_state_keeps_it() {
        let d = ResponseLaunchTemplateData::builder()
            .metadata_options(
                LaunchTemplateInstanceMetadataOptions::builder()
                    .http_tokens(LaunchTemplateHttpTokensState::Required)
                    .build(),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        LaunchTemplateEbsBlockDevice::builder()
                            .volume_size(200)
                            .encrypted(true)
                            .build(),
                    )
                    .build(),
            )
            .network_interfaces(
                LaunchTemplateInstanceNetworkInterfaceSpecification::builder()
                    .interface_type("efa")
                    .groups("sg-2")
                    .groups("sg-1")
                    .build(),
            )
            .build();
        let v = Value::Map(
            response(&d)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        );
        let meta = &v.get("metadata_options").as_list().unwrap()[0];
        assert_eq!(meta.get("http_tokens"), &Value::str("required"));
        assert_eq!(meta.get("http_endpoint"), &Value::Null);
        let ebs = &v.get("block_device_mappings").as_list().unwrap()[0]
            .get("ebs")
            .as_list()
            .unwrap()[0];
        assert_eq!(ebs.get("volume_size"), &Value::Number(200.0));
        assert_eq!(ebs.get("encrypted"), &Value::Bool(true));
        let nic = &v.get("network_interfaces").as_list().unwrap()[0];
        assert_eq!(nic.get("security_groups"), &string_set(["sg-1", "sg-2"]));
        assert_eq!(v.get("placement"), &Value::List(vec![]));
        assert_eq!(v.get("image_id"), &Value::Null);
    }
}
