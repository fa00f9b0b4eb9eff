//! IAM: `aws_iam_role`, `aws_iam_policy`, `aws_iam_role_policy`,
//! `aws_iam_role_policy_attachment` and `aws_iam_instance_profile`, with Terraform AWS
//! provider (v5) names.
//!
//! Policy documents are compared by meaning and state keeps the user's own text while the
//! cloud's copy means the same. Creates and updates record what IAM answered plus what was
//! sent, never a read straight after a write: IAM is eventually consistent, and such a read
//! can miss what was just written. Calls that name something created a moment ago wait for
//! IAM to propagate ([`common::settled`]).
//!
//! Refresh: IAM has no batched get, and its List calls leave out tags (ListRoles also the
//! permissions boundary, ListPolicies the description and document, ListInstanceProfiles
//! the tags), so listing would add calls rather than save them. For n resources of a type:
//! roles n (GetRole), policies 2n (GetPolicy, GetPolicyVersion), inline role policies n
//! (GetRolePolicy), instance profiles n (GetInstanceProfile), each up to 16 at once; and
//! attachments one ListAttachedRolePolicies per distinct role, whatever their number.

mod common;
mod instance_profile;
mod policy;
mod role;
mod role_policy;

use super::{AwsProvider, read_each, unsupported};
use crate::addr::ResourceAddr;
use crate::providers::{ProviderError, ResourceSchema};
use crate::value::Value;

type Result<T> = std::result::Result<T, ProviderError>;

pub(super) static SCHEMAS: &[&ResourceSchema] = &[
    &role::AWS_IAM_ROLE,
    &policy::AWS_IAM_POLICY,
    &role_policy::AWS_IAM_ROLE_POLICY,
    &role_policy::AWS_IAM_ROLE_POLICY_ATTACHMENT,
    &instance_profile::AWS_IAM_INSTANCE_PROFILE,
];

pub(super) async fn create(p: &AwsProvider, addr: &ResourceAddr, config: &Value) -> Result<Value> {
    match addr.type_.as_str() {
        "aws_iam_role" => role::create(p, config).await,
        "aws_iam_policy" => policy::create(p, config).await,
        "aws_iam_role_policy" => role_policy::put_inline(p, config).await,
        "aws_iam_role_policy_attachment" => role_policy::attach(p, config).await,
        "aws_iam_instance_profile" => instance_profile::create(p, config).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn read_many(
    p: &AwsProvider,
    type_: &str,
    priors: &[Value],
) -> Result<Vec<Option<Value>>> {
    let iam = &p.iam;
    match type_ {
        "aws_iam_role" => read_each(priors, |v| role::read(iam, v)).await,
        "aws_iam_policy" => read_each(priors, |v| policy::read(iam, v)).await,
        "aws_iam_role_policy" => read_each(priors, |v| role_policy::read_inline(iam, v)).await,
        "aws_iam_role_policy_attachment" => role_policy::read_attachments(iam, priors).await,
        "aws_iam_instance_profile" => read_each(priors, |v| instance_profile::read(iam, v)).await,
        other => Err(unsupported(other)),
    }
}

pub(super) async fn update(
    p: &AwsProvider,
    addr: &ResourceAddr,
    prior: &Value,
    config: &Value,
) -> Result<Value> {
    let iam = &p.iam;
    match addr.type_.as_str() {
        "aws_iam_role" => role::update(iam, prior, config).await,
        "aws_iam_policy" => policy::update(iam, prior, config).await,
        "aws_iam_role_policy" => role_policy::update_inline(iam, prior, config).await,
        "aws_iam_instance_profile" => instance_profile::update(iam, prior, config).await,
        // Both of an attachment's arguments force a new one: it is never updated.
        other => Err(unsupported(other)),
    }
}

pub(super) async fn delete(p: &AwsProvider, addr: &ResourceAddr, prior: &Value) -> Result<()> {
    let iam = &p.iam;
    match addr.type_.as_str() {
        "aws_iam_role" => role::delete(iam, prior).await,
        "aws_iam_policy" => policy::delete(iam, prior).await,
        "aws_iam_role_policy" => role_policy::delete_inline(iam, prior).await,
        "aws_iam_role_policy_attachment" => role_policy::detach(iam, prior).await,
        "aws_iam_instance_profile" => instance_profile::delete(iam, prior).await,
        other => Err(unsupported(other)),
    }
}
