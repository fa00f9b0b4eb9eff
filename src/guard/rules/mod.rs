//! The built-in policy rules: each an id, a default severity, what it checks, how to fix
//! it, and a check over the planned resources ([`Inventory`]).
//!
//! How unknowns are treated: a reference to something created by the same plan is
//! traced through the configuration (see [`super::view`]), so "which bucket does this
//! encryption configuration belong to" is answered before any id exists. A value still
//! unknown at plan time (a policy built from a value only apply knows, a reference the
//! configuration cannot trace) is never a reason to deny: the rule skips what it cannot
//! judge. A setting *left out* is judged by what AWS does when it is left out: EC2
//! allows IMDSv1 and leaves EBS unencrypted (unless the account encrypts by default), so
//! those deny; S3 encrypts new buckets with SSE-S3 and blocks public access by default,
//! so a bucket without its own configuration only warns.

mod compute;
mod iam;
pub(crate) mod network;
mod s3;
mod tags;

use super::finding::Severity;
use super::settings::RuleConfig;
use super::view::Inventory;
use crate::addr::ResourceAddr;

/// A rule's verdict on one resource, before the stack's settings are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub addr: ResourceAddr,
    pub message: String,
    /// A fix specific to this resource; the rule's own otherwise.
    pub fix: Option<String>,
    /// The attribute or block the finding points at (its file:line:column).
    pub attr: Option<&'static str>,
}

impl Hit {
    pub fn new(addr: &ResourceAddr, message: impl Into<String>) -> Hit {
        Hit {
            addr: addr.clone(),
            message: message.into(),
            fix: None,
            attr: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Hit {
        self.fix = Some(fix.into());
        self
    }

    pub fn at(mut self, attr: &'static str) -> Hit {
        self.attr = Some(attr);
        self
    }
}

/// One built-in rule.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// What it checks, in a line.
    pub what: &'static str,
    /// How to fix what it finds.
    pub fix: &'static str,
    /// Settings it takes besides `enabled` and `severity`.
    pub options: &'static [&'static str],
    /// `required-tags`: the tags required when the policy names none.
    pub default_tags: &'static [&'static str],
    pub check: fn(&Inventory, &RuleConfig) -> Vec<Hit>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

const fn rule(
    id: &'static str,
    severity: Severity,
    what: &'static str,
    fix: &'static str,
    check: fn(&Inventory, &RuleConfig) -> Vec<Hit>,
) -> Rule {
    Rule {
        id,
        severity,
        what,
        fix,
        options: &[],
        default_tags: &[],
        check,
    }
}

use Severity::{Deny, Warn};

/// Every rule, in the order reports list them.
pub static RULES: &[Rule] = &[
    rule(
        "s3-encryption",
        Warn,
        "every bucket has a server-side encryption configuration with SSE-KMS or AES256",
        "add an aws_s3_bucket_server_side_encryption_configuration for the bucket with sse_algorithm = \"aws:kms\" (a customer managed key) or \"AES256\"",
        s3::encryption,
    ),
    rule(
        "s3-public-access-block",
        Warn,
        "every bucket has a public access block",
        "add an aws_s3_bucket_public_access_block for the bucket with all four settings true",
        s3::public_access_block,
    ),
    rule(
        "s3-public-access",
        Deny,
        "a bucket's public access block turns on all four settings",
        "set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to true",
        s3::public_access,
    ),
    Rule {
        options: &["min_tls_version"],
        ..rule(
            "s3-tls-only",
            Warn,
            "every bucket's policy denies requests without TLS (aws:SecureTransport), and, when min_tls_version is set, older TLS (s3:TlsVersion)",
            "add an aws_s3_bucket_policy with a Deny statement for Principal \"*\", Action \"s3:*\" and Condition { Bool = { \"aws:SecureTransport\" = \"false\" } }",
            s3::tls_only,
        )
    },
    rule(
        "s3-versioning",
        Warn,
        "every bucket has versioning enabled",
        "add an aws_s3_bucket_versioning for the bucket with versioning_configuration { status = \"Enabled\" }",
        s3::versioning,
    ),
    rule(
        "kms-rotation",
        Warn,
        "every symmetric KMS key rotates its key material",
        "set enable_key_rotation = true",
        s3::kms_rotation,
    ),
    rule(
        "iam-wildcard-action",
        Deny,
        "no IAM policy allows every action (\"*\", or NotAction)",
        "list the actions the role needs (e.g. \"s3:GetObject\", \"s3:ListBucket\")",
        iam::wildcard_action,
    ),
    rule(
        "iam-wildcard-resource",
        Warn,
        "no IAM policy allows actions on every resource (\"*\")",
        "name the resources: the bucket's ARN and ARN/*, the key's ARN",
        iam::wildcard_resource,
    ),
    rule(
        "iam-passrole-wildcard",
        Deny,
        "no IAM policy allows iam:PassRole on every role",
        "allow iam:PassRole only on the roles it must pass (their ARNs), ideally with an iam:PassedToService condition",
        iam::passrole_wildcard,
    ),
    rule(
        "iam-trust-wildcard",
        Deny,
        "no role's trust policy lets anyone (\"*\") assume it",
        "name who may assume the role: a service (ec2.amazonaws.com) or the account or role ARNs",
        iam::trust_wildcard,
    ),
    Rule {
        options: &["allowed_ports"],
        ..rule(
            "sg-open-ingress",
            Deny,
            "no security group admits traffic from 0.0.0.0/0 or ::/0, except on allowed_ports",
            "narrow the source to the VPC's CIDR or a security group (referenced_security_group_id), or allow the port in the policy: rule \"sg-open-ingress\" { allowed_ports = [443] }",
            network::open_ingress,
        )
    },
    rule(
        "gpu-private-subnet",
        Deny,
        "GPU and accelerator instances (p*, g*, trn*, inf*, dl*) run in private subnets without public IPs",
        "put the instance in a subnet whose route table has no route to an internet gateway and that does not map public IPs, and leave associate_public_ip_address unset or false",
        network::gpu_private,
    ),
    rule(
        "vpc-flow-logs",
        Warn,
        "every VPC has a flow log",
        "add an aws_flow_log with vpc_id = aws_vpc.NAME.id and traffic_type = \"ALL\"",
        network::flow_logs,
    ),
    rule(
        "imdsv2",
        Deny,
        "instances and launch templates require IMDSv2 (metadata_options.http_tokens = \"required\")",
        "add metadata_options { http_tokens = \"required\" } to the instance or its launch template",
        compute::imdsv2,
    ),
    rule(
        "ebs-encryption",
        Deny,
        "instance root volumes and launch template volumes are encrypted",
        "set root_block_device { encrypted = true } (or ebs { encrypted = true } in the launch template's block_device_mappings)",
        compute::ebs_encryption,
    ),
    Rule {
        options: &["tags"],
        default_tags: &["team"],
        ..rule(
            "required-tags",
            Warn,
            "every taggable resource carries the cost-allocation tags (default: team)",
            "add the tags to the resource's tags, or to the provider's default_tags",
            tags::required,
        )
    },
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
pub(crate) mod testing;
