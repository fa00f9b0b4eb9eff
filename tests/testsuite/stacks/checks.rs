//! What the stacks promise, read back through the AWS SDK (never through keel's state):
//! encrypted buckets, least-privilege roles, instances where they belong, no ingress from
//! the internet, and nothing left after destroy.

use crate::iam::doc;
use crate::moto::moto;
use crate::vpc_isolation::filter;
use aws_sdk_ec2::types::Instance;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ObjectOwnership, ServerSideEncryption, TransitionStorageClass,
};
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// An EC2 tag's value.
pub fn tag(tags: &[aws_sdk_ec2::types::Tag], key: &str) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
        .map(str::to_string)
}

pub async fn instances(ids: &[String]) -> Vec<Instance> {
    let out = moto()
        .ec2()
        .await
        .describe_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .unwrap();
    let mut all: Vec<Instance> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances().iter().cloned())
        .collect();
    all.sort_by_key(|i| {
        ids.iter()
            .position(|id| Some(id.as_str()) == i.instance_id())
    });
    assert_eq!(all.len(), ids.len(), "every instance exists");
    all
}

/// The bucket has SSE-KMS with its own key and a bucket key, versioning, every public
/// access block, ACLs disabled, a policy that denies non-TLS requests, lifecycle rules to
/// Standard-IA and for old versions, a rotating key, and the cost-allocation tags.
/// Returns the key's ARN.
pub async fn assert_encrypted_bucket(bucket: &str, team: &str) -> String {
    let (s3, kms) = (moto().s3().await, moto().kms().await);
    let sse = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(
        default.sse_algorithm(),
        &ServerSideEncryption::AwsKms,
        "{bucket}"
    );
    assert_eq!(rule.bucket_key_enabled(), Some(true), "{bucket}");
    let key = default.kms_master_key_id().expect("a KMS key").to_string();
    assert!(key.starts_with("arn:aws:kms:"), "{bucket}: {key}");

    let versioning = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versioning.status(),
        Some(&BucketVersioningStatus::Enabled),
        "{bucket}"
    );

    let pab = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            pab.block_public_acls(),
            pab.block_public_policy(),
            pab.ignore_public_acls(),
            pab.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true)),
        "{bucket}"
    );

    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced,
        "{bucket}"
    );

    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    let policy: Json = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let arn = format!("arn:aws:s3:::{bucket}");
    let deny_plain_http = statements(&policy).iter().any(|s| {
        s["Effect"] == "Deny"
            && s["Principal"] == "*"
            && values(&s["Action"]).contains("s3:*")
            && values(&s["Condition"]["Bool"]["aws:SecureTransport"]).contains("false")
            && values(&s["Resource"]) == BTreeSet::from([arn.clone(), format!("{arn}/*")])
    });
    assert!(deny_plain_http, "{bucket} denies plain HTTP: {policy}");

    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rules = lifecycle.rules();
    assert!(
        rules.iter().any(|r| r
            .transitions()
            .iter()
            .any(|t| t.storage_class() == Some(&TransitionStorageClass::StandardIa))),
        "{bucket}: {rules:?}"
    );
    assert!(
        rules.iter().any(|r| r
            .noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days())
            .is_some()),
        "{bucket}: {rules:?}"
    );

    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled(), "{bucket}'s key rotates");

    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
    let team_tag = tags.tag_set().iter().find(|t| t.key() == "team");
    assert_eq!(team_tag.map(|t| t.value()), Some(team), "{bucket}");
    key
}

fn statements(policy: &Json) -> Vec<Json> {
    match &policy["Statement"] {
        Json::Array(all) => all.clone(),
        one => vec![one.clone()],
    }
}

/// A policy value that may be one string or a list of them.
fn values(v: &Json) -> BTreeSet<String> {
    match v {
        Json::String(s) => BTreeSet::from([s.clone()]),
        Json::Array(all) => all
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// A role's data-access policy, as IAM holds it.
pub struct RolePolicy(Json);

impl RolePolicy {
    pub async fn of(role: &str) -> RolePolicy {
        let out = moto()
            .iam()
            .await
            .get_role_policy()
            .role_name(role)
            .policy_name("data-access")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{role} has a data-access policy: {e:?}"));
        RolePolicy(doc(out.policy_document()))
    }

    /// Every resource that any statement allowing `action` names.
    pub fn resources(&self, action: &str) -> BTreeSet<String> {
        statements(&self.0)
            .iter()
            .filter(|s| s["Effect"] == "Allow" && values(&s["Action"]).contains(action))
            .flat_map(|s| values(&s["Resource"]))
            .collect()
    }

    /// Every resource the policy names.
    pub fn all_resources(&self) -> BTreeSet<String> {
        statements(&self.0)
            .iter()
            .flat_map(|s| values(&s["Resource"]))
            .collect()
    }

    /// No wildcard action, no wildcard resource, no Deny-less NotAction tricks.
    pub fn assert_least_privilege(&self) {
        for s in statements(&self.0) {
            assert_eq!(s["Effect"], "Allow", "{s}");
            assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none());
            for action in values(&s["Action"]) {
                assert!(
                    !action.contains('*'),
                    "wildcard action {action}: {}",
                    self.0
                );
            }
            for resource in values(&s["Resource"]) {
                assert_ne!(resource, "*", "wildcard resource: {}", self.0);
                assert!(
                    resource.starts_with("arn:aws:s3:::") || resource.starts_with("arn:aws:kms:"),
                    "{resource}"
                );
            }
        }
    }
}

/// The role's trust policy, as IAM holds it, lets exactly `services` assume it and
/// nothing else.
pub async fn assert_trusts(role: &str, services: &[&str]) {
    let out = moto()
        .iam()
        .await
        .get_role()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let trust = doc(out.role().unwrap().assume_role_policy_document().unwrap());
    let all = statements(&trust);
    assert_eq!(all.len(), 1, "{role}: {trust}");
    let s = &all[0];
    assert_eq!(s["Effect"], "Allow", "{trust}");
    assert_eq!(
        values(&s["Action"]),
        BTreeSet::from(["sts:AssumeRole".to_string()])
    );
    assert_eq!(
        values(&s["Principal"]["Service"]),
        services.iter().map(|s| s.to_string()).collect(),
        "{role}: {trust}"
    );
    assert!(s["Principal"].get("AWS").is_none(), "{trust}");
}

/// The resources a policy grants on a bucket: the bucket and its objects.
pub fn bucket_arns(bucket: &str) -> [String; 2] {
    let arn = format!("arn:aws:s3:::{bucket}");
    [arn.clone(), format!("{arn}/*")]
}

/// No security group in the VPC admits anything from 0.0.0.0/0 (or ::/0).
pub async fn assert_no_open_ingress(vpc: &str) {
    let groups = moto()
        .ec2()
        .await
        .describe_security_groups()
        .filters(filter("vpc-id", vpc))
        .send()
        .await
        .unwrap();
    assert!(!groups.security_groups().is_empty());
    for g in groups.security_groups() {
        for p in g.ip_permissions() {
            for r in p.ip_ranges() {
                assert_ne!(
                    r.cidr_ip(),
                    Some("0.0.0.0/0"),
                    "{:?} admits the internet",
                    g.group_name()
                );
            }
            for r in p.ipv6_ranges() {
                assert_ne!(r.cidr_ipv6(), Some("::/0"), "{:?}", g.group_name());
            }
        }
    }
}

/// The private subnet routes out through a NAT gateway (or nowhere) and to S3 through the
/// endpoint, and never to an internet gateway.
pub async fn assert_private_routes(subnet: &str, nat_expected: bool) {
    let ec2 = moto().ec2().await;
    let rts = ec2
        .describe_route_tables()
        .filters(filter("association.subnet-id", subnet))
        .send()
        .await
        .unwrap();
    let routes = rts.route_tables()[0].routes();
    assert!(
        routes
            .iter()
            .all(|r| r.gateway_id().is_none_or(|g| !g.starts_with("igw-"))),
        "no internet gateway route from {subnet}: {routes:?}"
    );
    assert!(
        routes
            .iter()
            .any(|r| r.destination_prefix_list_id().is_some()
                && r.gateway_id().is_some_and(|g| g.starts_with("vpce-"))),
        "S3 through the endpoint from {subnet}: {routes:?}"
    );
    let nat = routes
        .iter()
        .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id().is_some());
    assert_eq!(nat, nat_expected, "{subnet}: {routes:?}");
}

/// The VPC's flows are logged to the bucket.
pub async fn assert_flow_logs(vpc: &str, bucket: &str) {
    let logs = moto()
        .ec2()
        .await
        .describe_flow_logs()
        .filter(filter("resource-id", vpc))
        .send()
        .await
        .unwrap();
    let log = &logs.flow_logs()[0];
    assert_eq!(log.traffic_type().map(|t| t.as_str()), Some("ALL"));
    assert_eq!(
        log.log_destination(),
        Some(format!("arn:aws:s3:::{bucket}").as_str())
    );
}

/// The flow-log bucket's policy, as S3 holds it: TLS only, and log delivery may write
/// only under `AWSLogs/ACCOUNT/`, for `account`'s own flow logs (aws:SourceAccount and an
/// aws:SourceArn in its partition, region and account).
pub async fn assert_flow_log_policy(bucket: &str, account: &str) {
    let s3 = moto().s3().await;
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    let policy: Json = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let all = statements(&policy);
    let arn = format!("arn:aws:s3:::{bucket}");
    assert!(
        all.iter().any(|s| s["Effect"] == "Deny"
            && values(&s["Condition"]["Bool"]["aws:SecureTransport"]).contains("false")),
        "{bucket} denies plain HTTP: {policy}"
    );
    let write = all
        .iter()
        .find(|s| s["Sid"] == "AWSLogDeliveryWrite")
        .unwrap_or_else(|| panic!("{policy}"));
    assert_eq!(write["Effect"], "Allow");
    assert_eq!(write["Principal"]["Service"], "delivery.logs.amazonaws.com");
    assert_eq!(
        values(&write["Resource"]),
        BTreeSet::from([format!("{arn}/AWSLogs/{account}/*")])
    );
    assert_eq!(
        values(&write["Condition"]["StringEquals"]["aws:SourceAccount"]),
        BTreeSet::from([account.to_string()])
    );
    assert_eq!(
        values(&write["Condition"]["ArnLike"]["aws:SourceArn"]),
        BTreeSet::from([format!("arn:aws:logs:us-east-1:{account}:*")])
    );
    let acl = all
        .iter()
        .find(|s| s["Sid"] == "AWSLogDeliveryAclCheck")
        .unwrap_or_else(|| panic!("{policy}"));
    assert_eq!(values(&acl["Resource"]), BTreeSet::from([arn]));
    assert_eq!(
        values(&acl["Condition"]["StringEquals"]["aws:SourceAccount"]),
        BTreeSet::from([account.to_string()])
    );
}

/// The account a role belongs to, from its ARN as IAM reports it.
pub async fn account_of_role(role: &str) -> String {
    let out = moto()
        .iam()
        .await
        .get_role()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let arn = out.role().unwrap().arn();
    arn.split(':')
        .nth(4)
        .expect("an IAM ARN has an account")
        .to_string()
}

/// After destroy: no EC2 object tagged with the stack but terminated instances, no
/// bucket, no role or instance profile, and every key pending deletion.
pub async fn assert_gone(stack: &str, buckets: &[String], roles: &[String], keys: &[String]) {
    let ec2 = moto().ec2().await;
    let tags = ec2
        .describe_tags()
        .filters(filter("key", "keel:stack"))
        .filters(filter("value", stack))
        .send()
        .await
        .unwrap();
    for t in tags.tags() {
        let id = t.resource_id().unwrap().to_string();
        assert!(id.starts_with("i-"), "{id} outlived destroy");
        let i = &instances(std::slice::from_ref(&id)).await[0];
        assert_eq!(
            i.state().and_then(|s| s.name()).map(|s| s.as_str()),
            Some("terminated"),
            "{id}"
        );
    }
    let s3 = moto().s3().await;
    for b in buckets {
        let head = s3.head_bucket().bucket(b).send().await;
        assert!(head.is_err(), "bucket {b} outlived destroy");
    }
    let iam = moto().iam().await;
    for r in roles {
        let role = iam.get_role().role_name(r).send().await;
        assert_eq!(
            role.err()
                .and_then(|e| e.code().map(str::to_string))
                .as_deref(),
            Some("NoSuchEntity"),
            "{r}"
        );
        let profile = iam
            .get_instance_profile()
            .instance_profile_name(r)
            .send()
            .await;
        assert_eq!(
            profile
                .err()
                .and_then(|e| e.code().map(str::to_string))
                .as_deref(),
            Some("NoSuchEntity"),
            "{r}"
        );
    }
    let kms = moto().kms().await;
    for k in keys {
        let key = kms.describe_key().key_id(k).send().await.unwrap();
        assert_eq!(
            key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
            Some("PendingDeletion"),
            "{k}"
        );
    }
}
