//! stacks/inference with its defaults: two g5.2xlarge servers spread over the private
//! subnets of a VPC with no internet egress, a security group that admits the serving
//! port from the VPC's range only, and a role that can only read the model bucket.

use super::checks::{self, RolePolicy, bucket_arns, tag};
use super::{Deployed, strings};
use crate::moto::moto;
use crate::vpc_isolation::filter;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread")]
async fn inference_applies_converges_and_destroys_to_nothing() {
    let s = Deployed::new("inference", "inf");
    let name = s.name.clone();
    s.apply(38);
    let out = s.outputs();
    let vpc = out["vpc_id"].as_str().unwrap().to_string();
    let subnets = strings(&out["private_subnet_ids"]);
    let servers = strings(&out["server_ids"]);
    assert_eq!(
        strings(&out["availability_zones"]),
        ["us-east-1a", "us-east-1b", "us-east-1c"],
        "the first three zones of data.aws_availability_zones"
    );
    let group = out["security_group_id"].as_str().unwrap().to_string();
    let ec2 = moto().ec2().await;

    // The servers' group: the serving port from the VPC's range and nothing else in;
    // out, HTTPS to S3's prefix list only (there is no NAT gateway).
    let g = ec2
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .unwrap();
    let g = &g.security_groups()[0];
    let ingress = g.ip_permissions();
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert_eq!(ingress[0].ip_protocol(), Some("tcp"));
    assert_eq!(
        (ingress[0].from_port(), ingress[0].to_port()),
        (Some(8080), Some(8080))
    );
    let sources: Vec<_> = ingress[0].ip_ranges().iter().map(|r| r.cidr_ip()).collect();
    assert_eq!(sources, [Some("10.30.0.0/16")]);
    assert!(ingress[0].user_id_group_pairs().is_empty() && ingress[0].prefix_list_ids().is_empty());
    let egress = g.ip_permissions_egress();
    assert_eq!(egress.len(), 1, "{egress:?}");
    assert!(egress[0].ip_ranges().is_empty(), "{egress:?}");
    assert_eq!(egress[0].prefix_list_ids().len(), 1, "{egress:?}");
    checks::assert_no_open_ingress(&vpc).await;

    // Two servers in different private subnets, in the spread group, behind that group.
    assert_eq!(servers.len(), 2);
    let mut used = BTreeSet::new();
    for i in checks::instances(&servers).await {
        let id = i.instance_id().unwrap();
        assert_eq!(
            i.state().and_then(|s| s.name()).map(|s| s.as_str()),
            Some("running")
        );
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("g5.2xlarge"));
        let subnet = i.subnet_id().unwrap().to_string();
        assert!(subnets.contains(&subnet), "{id} in {subnet}");
        used.insert(subnet);
        assert_eq!(i.public_ip_address(), None, "{id}");
        assert_eq!(
            i.placement().and_then(|p| p.group_name()),
            Some(format!("{name}-spread").as_str())
        );
        let groups: Vec<_> = i.security_groups().iter().map(|g| g.group_id()).collect();
        assert_eq!(groups, [Some(group.as_str())], "{id}");
        assert!(
            i.iam_instance_profile()
                .and_then(|p| p.arn())
                .is_some_and(|a| a.ends_with(&format!("/{name}-server"))),
            "{id}"
        );
        assert_eq!(
            i.metadata_options()
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str()),
            Some("required")
        );
        assert_eq!(tag(i.tags(), "team").as_deref(), Some("ml-serving"));
        assert_eq!(tag(i.tags(), "workload").as_deref(), Some("inference"));
    }
    assert_eq!(used.len(), 2, "the servers are spread over two subnets");

    // No way to the internet: no NAT route, no internet gateway.
    for subnet in &subnets {
        checks::assert_private_routes(subnet, false).await;
    }
    let igws = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", &vpc))
        .send()
        .await
        .unwrap();
    assert!(igws.internet_gateways().is_empty());
    checks::assert_flow_logs(&vpc, &format!("{name}-flow-logs")).await;
    let account = checks::account_of_role(&format!("{name}-server")).await;
    checks::assert_flow_log_policy(&format!("{name}-flow-logs"), &account).await;

    // The model bucket, and a role that can only read it.
    let models = format!("{name}-models");
    let key = checks::assert_encrypted_bucket(&models, "ml-serving").await;
    let role = RolePolicy::of(&format!("{name}-server")).await;
    role.assert_least_privilege();
    let [m, m_objects] = bucket_arns(&models);
    assert_eq!(
        role.all_resources(),
        BTreeSet::from([m, m_objects.clone(), key.clone()])
    );
    assert_eq!(role.resources("s3:GetObject"), BTreeSet::from([m_objects]));
    for write in ["s3:PutObject", "s3:DeleteObject", "kms:GenerateDataKey"] {
        assert!(role.resources(write).is_empty(), "{write} is not granted");
    }

    s.assert_converged();
    s.destroy();
    checks::assert_gone(
        &s.name,
        &[models, format!("{name}-flow-logs")],
        &[format!("{name}-server")],
        &[key],
    )
    .await;
}
