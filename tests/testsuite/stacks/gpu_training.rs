//! stacks/gpu-training with its defaults: two p5.48xlarge nodes with EFA in a cluster
//! placement group in the first private subnet of an isolated VPC, trainers that read
//! datasets and write checkpoints, a data pipeline that writes datasets only. The zones
//! come from data.aws_availability_zones, and each node has one EFA per network card.

use super::checks::{self, RolePolicy, bucket_arns, tag};
use super::{Deployed, strings};
use crate::moto::moto;
use crate::vpc_isolation::filter;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread")]
async fn gpu_training_applies_converges_and_destroys_to_nothing() {
    let s = Deployed::new("gpu-training", "gt");
    let name = s.name.clone();
    s.apply(65);
    let out = s.outputs();
    let vpc = out["vpc_id"].as_str().unwrap().to_string();
    let subnets = strings(&out["private_subnet_ids"]);
    let nodes = strings(&out["node_ids"]);
    assert_eq!(subnets.len(), 3);

    // The zones come from data.aws_availability_zones (moto's us-east-1 has a-f): the
    // first three, one private subnet in each, in order.
    assert_eq!(
        strings(&out["availability_zones"]),
        ["us-east-1a", "us-east-1b", "us-east-1c"]
    );
    let described = moto()
        .ec2()
        .await
        .describe_subnets()
        .set_subnet_ids(Some(subnets.clone()))
        .send()
        .await
        .unwrap();
    for (subnet, zone) in subnets
        .iter()
        .zip(["us-east-1a", "us-east-1b", "us-east-1c"])
    {
        let s = described
            .subnets()
            .iter()
            .find(|s| s.subnet_id() == Some(subnet.as_str()))
            .expect("the subnet exists");
        assert_eq!(s.availability_zone(), Some(zone), "{subnet}");
    }
    assert_eq!(out["efa_enabled"], true);
    assert_eq!(out["datasets_bucket"], format!("{name}-datasets"));
    assert_eq!(out["checkpoints_bucket"], format!("{name}-checkpoints"));
    let ec2 = moto().ec2().await;

    // The cluster's security group admits only its own members.
    let groups = ec2
        .describe_security_groups()
        .filters(filter("group-name", &format!("{name}-cluster")))
        .send()
        .await
        .unwrap();
    let cluster = groups.security_groups()[0].clone();
    let cluster_id = cluster.group_id().unwrap().to_string();
    for p in cluster.ip_permissions() {
        assert!(
            p.ip_ranges().is_empty() && p.prefix_list_ids().is_empty(),
            "{p:?}"
        );
        let sources: Vec<_> = p
            .user_id_group_pairs()
            .iter()
            .map(|g| g.group_id())
            .collect();
        assert_eq!(sources, [Some(cluster_id.as_str())]);
    }

    // Two running p5.48xlarge nodes in the first private subnet, in the placement group,
    // behind the cluster's group, with the trainer's profile, IMDSv2 and an EFA interface.
    assert_eq!(nodes.len(), 2);
    for i in checks::instances(&nodes).await {
        let id = i.instance_id().unwrap();
        assert_eq!(
            i.state().and_then(|s| s.name()).map(|s| s.as_str()),
            Some("running")
        );
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("p5.48xlarge"));
        assert_eq!(i.subnet_id(), Some(subnets[0].as_str()), "{id}");
        assert_eq!(i.vpc_id(), Some(vpc.as_str()), "{id}");
        assert_eq!(i.public_ip_address(), None, "{id}");
        assert_eq!(
            i.placement().and_then(|p| p.group_name()),
            out["placement_group"].as_str()
        );
        let groups: Vec<_> = i.security_groups().iter().map(|g| g.group_id()).collect();
        assert_eq!(groups, [Some(cluster_id.as_str())], "{id}");
        assert!(
            i.iam_instance_profile()
                .and_then(|p| p.arn())
                .is_some_and(|a| a.ends_with(&format!("/{name}-trainer"))),
            "{id}: {:?}",
            i.iam_instance_profile()
        );
        let imds = i.metadata_options().unwrap();
        assert_eq!(imds.http_tokens().map(|t| t.as_str()), Some("required"));
        assert_eq!(i.network_interfaces()[0].interface_type(), Some("efa"));
        assert_eq!(tag(i.tags(), "team").as_deref(), Some("ml-platform"));
        assert_eq!(tag(i.tags(), "experiment").as_deref(), Some("baseline"));
        assert_eq!(tag(i.tags(), "workload").as_deref(), Some("trainer"));
    }

    // The launch template's root volume: encrypted gp3, sized for datasets.
    let template = ec2
        .describe_launch_template_versions()
        .launch_template_name(&name)
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let data = template.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    let root = data.block_device_mappings()[0].ebs().unwrap();
    assert_eq!(root.encrypted(), Some(true));
    assert_eq!(root.volume_size(), Some(500));
    assert_eq!(root.volume_type().map(|t| t.as_str()), Some("gp3"));

    // One EFA interface per network card: a p5.48xlarge has 32. Card 0 carries the
    // primary interface (device 0), every other card an EFA at device 1; all in the
    // cluster's subnet behind its group. (Read from the template, as EC2 stored it:
    // moto attaches only the template's first interface to the instances it launches.)
    assert_eq!(out["efa_interfaces"], 32);
    let nics = data.network_interfaces();
    assert_eq!(nics.len(), 32, "{nics:?}");
    for (card, nic) in nics.iter().enumerate() {
        assert_eq!(nic.network_card_index(), Some(card as i32), "{nic:?}");
        assert_eq!(nic.device_index(), Some(i32::from(card != 0)), "{nic:?}");
        assert_eq!(nic.interface_type(), Some("efa"), "{nic:?}");
        assert_eq!(nic.subnet_id(), Some(subnets[0].as_str()), "{nic:?}");
        assert_eq!(nic.groups(), std::slice::from_ref(&cluster_id), "{nic:?}");
    }
    assert!(
        data.instance_market_options().is_none(),
        "on-demand by default"
    );

    // The network: private routes, flow logs, nothing open to the internet.
    for subnet in &subnets {
        checks::assert_private_routes(subnet, true).await;
    }
    checks::assert_flow_logs(&vpc, &format!("{name}-flow-logs")).await;
    let account = checks::account_of_role(&format!("{name}-trainer")).await;
    checks::assert_flow_log_policy(&format!("{name}-flow-logs"), &account).await;
    checks::assert_no_open_ingress(&vpc).await;

    // Buckets, and roles that name only them.
    let datasets = format!("{name}-datasets");
    let checkpoints = format!("{name}-checkpoints");
    let datasets_key = checks::assert_encrypted_bucket(&datasets, "ml-platform").await;
    let checkpoints_key = checks::assert_encrypted_bucket(&checkpoints, "ml-platform").await;
    assert_ne!(datasets_key, checkpoints_key, "each bucket has its own key");
    let keys = [datasets_key.clone(), checkpoints_key.clone()];

    let trainer = RolePolicy::of(&format!("{name}-trainer")).await;
    trainer.assert_least_privilege();
    let [d, d_objects] = bucket_arns(&datasets);
    let [c, c_objects] = bucket_arns(&checkpoints);
    assert_eq!(
        trainer.all_resources(),
        BTreeSet::from([
            d.clone(),
            d_objects.clone(),
            c,
            c_objects.clone(),
            datasets_key.clone(),
            checkpoints_key.clone()
        ])
    );
    assert_eq!(
        trainer.resources("s3:GetObject"),
        BTreeSet::from([d_objects.clone(), c_objects.clone()])
    );
    assert_eq!(
        trainer.resources("s3:PutObject"),
        BTreeSet::from([c_objects])
    );
    assert_eq!(
        trainer.resources("kms:GenerateDataKey"),
        BTreeSet::from([checkpoints_key])
    );

    checks::assert_trusts(&format!("{name}-trainer"), &["ec2.amazonaws.com"]).await;
    let pipeline = RolePolicy::of(&format!("{name}-data-pipeline")).await;
    pipeline.assert_least_privilege();
    assert_eq!(
        pipeline.all_resources(),
        BTreeSet::from([d, d_objects.clone(), datasets_key.clone()])
    );
    assert_eq!(
        pipeline.resources("s3:PutObject"),
        BTreeSet::from([d_objects])
    );

    s.assert_converged();
    s.destroy();
    checks::assert_gone(
        &s.name,
        &[datasets, checkpoints, format!("{name}-flow-logs")],
        &[format!("{name}-trainer"), format!("{name}-data-pipeline")],
        &keys,
    )
    .await;
}
