//! Inventory for drift: the objects in the account that carry a stack's `keel:stack` tag
//! (one paged DescribeTags covers every EC2 type; S3 buckets by their tagging), and the
//! subnets, instances and security groups inside VPCs the stack manages.

use super::{AwsProvider, sdk_error};
use crate::drift::Found;
use crate::providers::ProviderError;
use aws_sdk_ec2::types::Filter;
use aws_sdk_s3::error::ProvideErrorMetadata;

/// The Terraform type of an EC2 resource type as DescribeTags names it.
fn terraform_type(ec2_type: &str) -> String {
    match ec2_type {
        "vpc" => "aws_vpc",
        "subnet" => "aws_subnet",
        "instance" => "aws_instance",
        "security-group" => "aws_security_group",
        "route-table" => "aws_route_table",
        "internet-gateway" => "aws_internet_gateway",
        "natgateway" => "aws_nat_gateway",
        "elastic-ip" => "aws_eip",
        "launch-template" => "aws_launch_template",
        "placement-group" => "aws_placement_group",
        "key-pair" => "aws_key_pair",
        "vpc-endpoint" => "aws_vpc_endpoint",
        "network-acl" => "aws_network_acl",
        "volume" => "aws_ebs_volume",
        other => return format!("ec2 {other}"),
    }
    .to_string()
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

impl AwsProvider {
    /// Everything tagged `keel:stack = stack`, and what lives inside `vpcs`.
    pub async fn inventory(
        &self,
        stack: &str,
        vpcs: &[String],
    ) -> Result<Vec<Found>, ProviderError> {
        let tagged = format!("tagged keel:stack={stack}");
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .ec2
                .describe_tags()
                .filters(filter("key", &["keel:stack".to_string()]))
                .filters(filter("value", &[stack.to_string()]))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTags", e))?;
            for t in page.tags() {
                if let (Some(kind), Some(id)) = (t.resource_type(), t.resource_id()) {
                    out.push(Found {
                        kind: terraform_type(kind.as_str()),
                        id: id.to_string(),
                        reason: tagged.clone(),
                    });
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        if !vpcs.is_empty() {
            let in_vpc = |vpc: Option<&str>| format!("in managed VPC {}", vpc.unwrap_or("?"));
            let subnets = self
                .ec2
                .describe_subnets()
                .filters(filter("vpc-id", vpcs))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeSubnets", e))?;
            for s in subnets.subnets() {
                out.push(Found {
                    kind: "aws_subnet".into(),
                    id: s.subnet_id().unwrap_or_default().into(),
                    reason: in_vpc(s.vpc_id()),
                });
            }
            let groups = self
                .ec2
                .describe_security_groups()
                .filters(filter("vpc-id", vpcs))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeSecurityGroups", e))?;
            for g in groups
                .security_groups()
                .iter()
                .filter(|g| g.group_name() != Some("default"))
            {
                out.push(Found {
                    kind: "aws_security_group".into(),
                    id: g.group_id().unwrap_or_default().into(),
                    reason: in_vpc(g.vpc_id()),
                });
            }
            let reservations = self
                .ec2
                .describe_instances()
                .filters(filter("vpc-id", vpcs))
                .filters(filter(
                    "instance-state-name",
                    &["pending", "running", "stopping", "stopped"].map(String::from),
                ))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeInstances", e))?;
            for i in reservations
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
            {
                out.push(Found {
                    kind: "aws_instance".into(),
                    id: i.instance_id().unwrap_or_default().into(),
                    reason: in_vpc(i.vpc_id()),
                });
            }
        }
        let buckets = self
            .s3
            .list_buckets()
            .send()
            .await
            .map_err(|e| sdk_error("ListBuckets", e))?;
        for b in buckets.buckets() {
            let Some(name) = b.name() else { continue };
            match self.s3.get_bucket_tagging().bucket(name).send().await {
                Ok(t) => {
                    if t.tag_set()
                        .iter()
                        .any(|t| t.key() == "keel:stack" && t.value() == stack)
                    {
                        out.push(Found {
                            kind: "aws_s3_bucket".into(),
                            id: name.to_string(),
                            reason: tagged.clone(),
                        });
                    }
                }
                Err(e) if matches!(e.code(), Some("NoSuchTagSet" | "NoSuchBucket")) => {}
                Err(e) => return Err(sdk_error("GetBucketTagging", e)),
            }
        }
        Ok(out)
    }
}
