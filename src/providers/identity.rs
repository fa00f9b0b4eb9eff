//! What names an object uniquely, per resource type: the attributes that two objects of
//! the type cannot share at once (a bucket's name, a subnet's CIDR within its VPC). A
//! replacement that keeps them cannot create the new object before deleting the old one,
//! so the plan makes it delete-first and marks it irreversible; every other replacement
//! creates first, so a failed apply can always be rolled back.

/// Sets of attributes; an object conflicts with another of its type when all the
/// attributes of one set are set and equal.
pub fn unique_keys(type_: &str) -> &'static [&'static [&'static str]] {
    match type_ {
        "aws_s3_bucket" => &[&["bucket"]],
        // One of each per bucket.
        "aws_s3_bucket_server_side_encryption_configuration"
        | "aws_s3_bucket_versioning"
        | "aws_s3_bucket_public_access_block"
        | "aws_s3_bucket_ownership_controls"
        | "aws_s3_bucket_policy"
        | "aws_s3_bucket_lifecycle_configuration" => &[&["bucket"]],
        "aws_iam_role" | "aws_iam_policy" | "aws_iam_instance_profile" => &[&["name"]],
        "aws_iam_role_policy" => &[&["role", "name"]],
        "aws_iam_role_policy_attachment" => &[&["role", "policy_arn"]],
        "aws_kms_alias" => &[&["name"]],
        "aws_placement_group" => &[&["name"]],
        "aws_launch_template" => &[&["name"]],
        "aws_key_pair" => &[&["key_name"]],
        "aws_security_group" => &[&["vpc_id", "name"]],
        "aws_subnet" => &[&["vpc_id", "cidr_block"]],
        "aws_route" => &[&["route_table_id", "destination_cidr_block"]],
        "aws_route_table_association" => &[&["subnet_id"], &["gateway_id"]],
        "aws_internet_gateway" => &[&["vpc_id"]],
        "aws_instance" => &[&["private_ip"]],
        // An Elastic IP serves one NAT gateway at a time.
        "aws_nat_gateway" => &[&["allocation_id"]],
        "aws_eip" => &[&["address"]],
        // One flow log per source, destination (EC2 ignores the traffic type here).
        "aws_flow_log" => &[
            &["vpc_id", "log_destination"],
            &["subnet_id", "log_destination"],
            &["eni_id", "log_destination"],
            &["vpc_id", "log_group_name"],
            &["subnet_id", "log_group_name"],
            &["eni_id", "log_group_name"],
        ],
        "aws_vpc_endpoint" => &[&["vpc_id", "service_name"]],
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => &[&[
            "security_group_id",
            "ip_protocol",
            "from_port",
            "to_port",
            "cidr_ipv4",
            "cidr_ipv6",
            "referenced_security_group_id",
            "prefix_list_id",
        ]],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_type_exists() {
        for s in super::super::aws::schemas() {
            for key in unique_keys(s.type_name) {
                for attr in *key {
                    assert!(
                        s.attr(attr).is_some(),
                        "{} has no attribute {attr}",
                        s.type_name
                    );
                }
            }
        }
    }
}
