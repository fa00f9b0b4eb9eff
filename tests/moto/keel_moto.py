#!/usr/bin/env python3
"""keel's local AWS endpoint: moto in server mode, plus compatibility patches.

Usage (with the python of the venv that scripts/moto-install creates):

    python keel_moto.py [--port N] [--foreground] [--pidfile FILE] [--verbose]

* Binds to 127.0.0.1 only. --port 0 (the default) lets the kernel pick a free
  port.
* Prints exactly one line to stdout once the socket is listening:
      KEEL_MOTO_ENDPOINT=http://127.0.0.1:PORT
  Everything else (warnings, request logs with --verbose, tracebacks of moto's
  own 500s) goes to stderr.
* Runs until its stdin reaches EOF -- so a parent that spawned it with a stdin
  pipe takes it down when it exits, even on kill -9 -- or until SIGTERM/SIGINT.
  With --foreground stdin is ignored and only a signal stops it (for scripts
  that start it in the background with stdin from /dev/null; pair with
  --pidfile to be able to kill it later).

The patches target moto 5.2.5 (see tests/moto/requirements.txt). Each is
applied before the server starts and checks that the moto internals it relies
on still exist; if they don't, startup fails with a message instead of the
emulator silently answering wrongly.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
import uuid
from typing import Any
from xml.sax.saxutils import escape

TARGET_MOTO_VERSION = "5.2.5"
HOST = "127.0.0.1"


class PatchError(RuntimeError):
    pass


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise PatchError(
            f"cannot apply keel's moto patch: {what}. These patches target moto "
            f"{TARGET_MOTO_VERSION}; moto's internals changed, so re-check the "
            "patch in tests/moto/keel_moto.py against this moto version."
        )


def _request_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------
# Patch A: S3 GetBucketVersioning root element.
#
# WHY: moto 5.2.5 serializes GetBucketVersioning with its generic serializer,
# which names the root element after the operation:
#     <GetBucketVersioningResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
#       <Status>Enabled</Status></GetBucketVersioningResponse>
# S3 (and the Rust aws-sdk-s3, which checks the root element name) uses
#     <VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
#       [<Status>Enabled|Suspended</Status>] [<MfaDelete>..</MfaDelete>]
#     </VersioningConfiguration>
# with no Status at all for a bucket whose versioning was never configured.
# moto does not model MFA delete, so MfaDelete is never emitted (S3 omits it
# too unless it was ever configured).
# ---------------------------------------------------------------------------

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def patch_s3_get_bucket_versioning() -> None:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    _require(
        callable(getattr(S3Response, "get_bucket_versioning", None)),
        "moto.s3.responses.S3Response.get_bucket_versioning is missing",
    )
    _require(
        callable(getattr(S3Backend, "get_bucket_versioning", None)),
        "moto.s3.models.S3Backend.get_bucket_versioning is missing",
    )

    def get_bucket_versioning(self: Any) -> tuple[int, dict[str, str], str]:
        self.data["Action"] = "GetBucketVersioning"
        status = self.backend.get_bucket_versioning(self.bucket_name)
        inner = f"<Status>{escape(status)}</Status>" if status else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<VersioningConfiguration xmlns="{S3_NS}">{inner}</VersioningConfiguration>'
        )
        return 200, {"Content-Type": "application/xml"}, body

    S3Response.get_bucket_versioning = get_bucket_versioning


# ---------------------------------------------------------------------------
# Patch B: EC2 placement groups.
#
# WHY: moto 5.2.5 has no placement groups at all: CreatePlacementGroup,
# DescribePlacementGroups and DeletePlacementGroup raise NotImplementedError
# inside moto, which the server turns into an HTTP 500 with an HTML error page
# (not EC2 error XML), so SDK clients only see an unparseable 500.
#
# This adds a minimal in-memory implementation to moto's EC2Response class:
# strategy cluster|spread|partition, PartitionCount, SpreadLevel,
# TagSpecifications (resource type placement-group), DescribePlacementGroups by
# GroupNames / GroupIds / filters (group-name, group-id, group-arn, state,
# strategy, spread-level, tag:<key>, tag-key, tag-value), and the EC2 errors
# InvalidPlacementGroup.Duplicate / InvalidPlacementGroup.Unknown.
#
# State lives on moto's per-account/per-region EC2 backend object, so moto's
# reset (POST /moto-api/reset) drops it along with everything else. Tags live
# in moto's own EC2 tag store, keyed by the pg-... id; registering the "pg"
# prefix makes CreateTags / DeleteTags / DescribeTags accept those ids. (Like
# moto does for several other resource types, CreateTags does not check that
# the pg-... id exists.)
# ---------------------------------------------------------------------------

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
_PG_ATTR = "_keel_placement_groups"
_PG_LOCK = threading.Lock()
_PG_STRATEGIES = ("cluster", "spread", "partition")
_PG_SPREAD_LEVELS = ("host", "rack")
_PG_FILTERS = (
    "group-name",
    "group-id",
    "group-arn",
    "state",
    "strategy",
    "spread-level",
    "tag-key",
    "tag-value",
)
_PG_ID_RE = re.compile(r"^pg-[0-9a-f]{8,17}$")


class _Ec2Error(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _pg_unknown(name_or_id: str) -> _Ec2Error:
    return _Ec2Error(
        "InvalidPlacementGroup.Unknown",
        f"The Placement Group '{name_or_id}' is unknown.",
    )


def _ec2_ok(action: str, inner: str) -> tuple[str, dict[str, Any]]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{action}Response xmlns="{EC2_NS}"><requestId>{_request_id()}</requestId>'
        f"{inner}</{action}Response>"
    )
    return body, {"Content-Type": "text/xml;charset=UTF-8"}


def _ec2_error(err: _Ec2Error) -> tuple[str, dict[str, Any]]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{escape(err.code)}</Code>"
        f"<Message>{escape(err.message)}</Message></Error></Errors>"
        f"<RequestID>{_request_id()}</RequestID></Response>"
    )
    return body, {"status": err.status, "Content-Type": "text/xml;charset=UTF-8"}


def _pg_store(backend: Any) -> dict[str, dict[str, Any]]:
    """Placement groups of one account/region, by name (call with _PG_LOCK held)."""
    store = backend.__dict__.get(_PG_ATTR)
    if store is None:
        store = backend.__dict__[_PG_ATTR] = {}
    return store


def _pg_tags(backend: Any, group_id: str) -> dict[str, str]:
    # backend.tags is a defaultdict: .get() so a lookup doesn't create an entry.
    return dict(backend.tags.get(group_id, {}))


def _pg_item_xml(pg: dict[str, Any], tags: dict[str, str]) -> str:
    parts = [
        f"<groupName>{escape(pg['name'])}</groupName>",
        "<state>available</state>",
    ]
    if pg["strategy"]:
        parts.append(f"<strategy>{pg['strategy']}</strategy>")
    if pg["partition_count"] is not None:
        parts.append(f"<partitionCount>{pg['partition_count']}</partitionCount>")
    parts.append(f"<groupId>{pg['id']}</groupId>")
    parts.append(f"<groupArn>{escape(pg['arn'])}</groupArn>")
    if pg["spread_level"]:
        parts.append(f"<spreadLevel>{pg['spread_level']}</spreadLevel>")
    tag_items = "".join(
        f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>"
        for k, v in sorted(tags.items())
    )
    parts.append(f"<tagSet>{tag_items}</tagSet>")
    return "".join(parts)


def _glob_re(pattern: str) -> re.Pattern[str]:
    # EC2 filter values: '*' matches any run of characters, '?' one character.
    out = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.compile(f"^{out}$", re.DOTALL)


def _any_match(patterns: list[str], values: list[str]) -> bool:
    return any(_glob_re(p).match(v) for p in patterns for v in values)


def _pg_matches(
    pg: dict[str, Any], tags: dict[str, str], filters: dict[str, list[str]]
) -> bool:
    attrs = {
        "group-name": pg["name"],
        "group-id": pg["id"],
        "group-arn": pg["arn"],
        "state": "available",
        "strategy": pg["strategy"] or "",
        "spread-level": pg["spread_level"] or "",
    }
    for name, patterns in filters.items():
        if name in attrs:
            ok = _any_match(patterns, [attrs[name]])
        elif name == "tag-key":
            ok = _any_match(patterns, list(tags))
        elif name == "tag-value":
            ok = _any_match(patterns, list(tags.values()))
        elif name.startswith("tag:"):
            key = name[len("tag:") :]
            ok = key in tags and _any_match(patterns, [tags[key]])
        else:  # rejected before we get here
            ok = False
        if not ok:
            return False
    return True


def _create_placement_group(self: Any) -> tuple[str, dict[str, Any]]:
    try:
        name = self._get_param("GroupName")
        strategy = self._get_param("Strategy")
        partition_count = self._get_param("PartitionCount")
        spread_level = self._get_param("SpreadLevel")
        # moto's own parser: checks ResourceType == "placement-group".
        tags = self._parse_tag_specification("placement-group").get(
            "placement-group", {}
        )
        self.error_on_dryrun()

        if not name:
            raise _Ec2Error(
                "MissingParameter", "The request must contain the parameter groupName"
            )
        if strategy is not None and strategy not in _PG_STRATEGIES:
            raise _Ec2Error(
                "InvalidParameterValue",
                f"Value ({strategy}) for parameter strategy is invalid. "
                f"Valid values are: {', '.join(_PG_STRATEGIES)}.",
            )
        if partition_count is not None:
            if strategy != "partition":
                raise _Ec2Error(
                    "InvalidParameterCombination",
                    "PartitionCount can only be specified for partition placement groups.",
                )
            partition_count = int(partition_count)
            if not 1 <= partition_count <= 7:
                raise _Ec2Error(
                    "InvalidParameterValue",
                    f"Value ({partition_count}) for parameter partitionCount is invalid. "
                    "Valid values are 1 through 7.",
                )
        elif strategy == "partition":
            partition_count = 2
        if spread_level is not None:
            if strategy != "spread":
                raise _Ec2Error(
                    "InvalidParameterCombination",
                    "SpreadLevel can only be specified for spread placement groups.",
                )
            if spread_level not in _PG_SPREAD_LEVELS:
                raise _Ec2Error(
                    "InvalidParameterValue",
                    f"Value ({spread_level}) for parameter spreadLevel is invalid. "
                    f"Valid values are: {', '.join(_PG_SPREAD_LEVELS)}.",
                )
        elif strategy == "spread":
            spread_level = "rack"

        from moto.utilities.utils import get_partition

        backend = self.ec2_backend
        group_id = "pg-" + uuid.uuid4().hex[:17]
        pg = {
            "name": name,
            "id": group_id,
            "arn": f"arn:{get_partition(backend.region_name)}:ec2:"
            f"{backend.region_name}:{backend.account_id}:placement-group/{name}",
            "strategy": strategy,
            "partition_count": partition_count,
            "spread_level": spread_level,
        }
        with _PG_LOCK:
            store = _pg_store(backend)
            if name in store:
                raise _Ec2Error(
                    "InvalidPlacementGroup.Duplicate",
                    f"The Placement Group '{name}' already exists.",
                )
            if tags:
                backend.create_tags([group_id], tags)
            store[name] = pg
        inner = f"<placementGroup>{_pg_item_xml(pg, tags)}</placementGroup>"
        return _ec2_ok("CreatePlacementGroup", inner)
    except _Ec2Error as err:
        return _ec2_error(err)


def _describe_placement_groups(self: Any) -> tuple[str, dict[str, Any]]:
    try:
        names = self._get_param("GroupNames", []) or []
        ids = self._get_param("GroupIds", []) or []
        filters = self._filters_from_querystring()
        self.error_on_dryrun()
        for fname in filters:
            if fname not in _PG_FILTERS and not fname.startswith("tag:"):
                raise _Ec2Error(
                    "InvalidParameterValue", f"The filter '{fname}' is invalid"
                )
        for gid in ids:
            if not _PG_ID_RE.match(gid):
                raise _Ec2Error(
                    "InvalidPlacementGroupId.Malformed",
                    f"Invalid id: \"{gid}\" (expecting \"pg-...\")",
                )

        backend = self.ec2_backend
        with _PG_LOCK:
            groups = list(_pg_store(backend).values())
            tags_by_id = {pg["id"]: _pg_tags(backend, pg["id"]) for pg in groups}

        by_name = {pg["name"]: pg for pg in groups}
        by_id = {pg["id"]: pg for pg in groups}
        for name in names:
            if name not in by_name:
                raise _pg_unknown(name)
        for gid in ids:
            if gid not in by_id:
                raise _pg_unknown(gid)

        selected = [
            pg
            for pg in groups
            if (not names or pg["name"] in names)
            and (not ids or pg["id"] in ids)
            and _pg_matches(pg, tags_by_id[pg["id"]], filters)
        ]
        items = "".join(
            f"<item>{_pg_item_xml(pg, tags_by_id[pg['id']])}</item>" for pg in selected
        )
        return _ec2_ok(
            "DescribePlacementGroups", f"<placementGroupSet>{items}</placementGroupSet>"
        )
    except _Ec2Error as err:
        return _ec2_error(err)


def _delete_placement_group(self: Any) -> tuple[str, dict[str, Any]]:
    try:
        name = self._get_param("GroupName")
        self.error_on_dryrun()
        if not name:
            raise _Ec2Error(
                "MissingParameter", "The request must contain the parameter groupName"
            )
        backend = self.ec2_backend
        with _PG_LOCK:
            pg = _pg_store(backend).pop(name, None)
            if pg is None:
                raise _pg_unknown(name)
            backend.tags.pop(pg["id"], None)
        return _ec2_ok("DeletePlacementGroup", "<return>true</return>")
    except _Ec2Error as err:
        return _ec2_error(err)


def patch_ec2_placement_groups() -> None:
    from moto.ec2 import utils as ec2_utils
    from moto.ec2.responses import EC2Response

    handlers = {
        "create_placement_group": _create_placement_group,
        "describe_placement_groups": _describe_placement_groups,
        "delete_placement_group": _delete_placement_group,
    }
    for method in handlers:
        _require(
            not hasattr(EC2Response, method),
            f"moto's EC2Response already implements {method}; drop keel's "
            "placement group patch if the native one now works",
        )
    for helper in (
        "_get_param",
        "_filters_from_querystring",
        "_parse_tag_specification",
        "error_on_dryrun",
        "ec2_backend",
    ):
        _require(hasattr(EC2Response, helper), f"EC2Response.{helper} is missing")
    to_prefix = getattr(ec2_utils, "EC2_RESOURCE_TO_PREFIX", None)
    to_resource = getattr(ec2_utils, "EC2_PREFIX_TO_RESOURCE", None)
    _require(
        isinstance(to_prefix, dict) and isinstance(to_resource, dict),
        "moto.ec2.utils.EC2_RESOURCE_TO_PREFIX / EC2_PREFIX_TO_RESOURCE are missing",
    )
    _require(
        to_prefix.get("placement-group", "pg") == "pg"
        and to_resource.get("pg", "placement-group") == "placement-group",
        "moto.ec2.utils already maps the 'pg' prefix differently",
    )

    for method, handler in handlers.items():
        setattr(EC2Response, method, handler)
    # Lets CreateTags/DeleteTags accept pg-... ids, and DescribeTags report
    # their resource type as placement-group.
    to_prefix["placement-group"] = "pg"
    to_resource["pg"] = "placement-group"
    _require(
        ec2_utils.is_valid_resource_id("pg-0123456789abcdef0")
        and ec2_utils.get_prefix("pg-0123456789abcdef0") == "pg",
        "registering the 'pg' prefix did not make pg-... ids valid for tagging",
    )


# ---------------------------------------------------------------------------
# Patch C: aws:SecureTransport in policies.
#
# WHY: the usual "deny non-TLS" bucket policy
#     {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
#      "Resource": [...], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
# makes moto 5.2.5 answer 403 (empty body) to every object request
# (Get/Put/Head/DeleteObject) in that bucket. moto evaluates bucket policies
# for object calls in server mode, but its condition evaluator only knows the
# StringEquals operator and treats every other operator (Bool included) as
# always true -- so the Deny applies unconditionally, whatever the transport.
#
# The emulator is reached over plain HTTP on loopback; keel's stacks are meant
# for real, TLS-only AWS. So every policy statement is evaluated as if the
# request came over TLS (aws:SecureTransport = "true"): a statement whose
# Bool/BoolIfExists aws:SecureTransport test fails for TLS does not apply
# (NEUTRAL); one whose test holds is evaluated by moto as before, with just
# that test removed. Statements without aws:SecureTransport are untouched.
# ---------------------------------------------------------------------------

_BOOL_OPERATORS = ("bool", "boolifexists")
_SECURE_TRANSPORT = "aws:securetransport"


def _split_secure_transport(
    condition: dict[str, Any],
) -> tuple[bool | None, dict[str, Any]]:
    """(holds, rest): holds is None when the condition has no Bool test of
    aws:SecureTransport, else whether all such tests hold for a TLS request;
    rest is the condition without those tests."""
    holds: bool | None = None
    rest: dict[str, Any] = {}
    for operator, tests in condition.items():
        if str(operator).lower() not in _BOOL_OPERATORS or not isinstance(tests, dict):
            rest[operator] = tests
            continue
        kept = {}
        for key, expected in tests.items():
            if str(key).lower() != _SECURE_TRANSPORT:
                kept[key] = expected
                continue
            values = expected if isinstance(expected, list) else [expected]
            ok = any(str(v).lower() == "true" for v in values)
            holds = ok if holds is None else (holds and ok)
        if kept:
            rest[operator] = kept
    return holds, rest


def patch_secure_transport() -> None:
    from moto.iam import access_control

    stmt_cls = getattr(access_control, "IAMPolicyStatement", None)
    result_cls = getattr(access_control, "PermissionResult", None)
    _require(
        stmt_cls is not None and result_cls is not None,
        "moto.iam.access_control.IAMPolicyStatement / PermissionResult are missing",
    )
    _require(
        callable(getattr(stmt_cls, "is_action_permitted", None))
        and hasattr(result_cls, "NEUTRAL"),
        "IAMPolicyStatement.is_action_permitted / PermissionResult.NEUTRAL are missing",
    )
    probe = stmt_cls({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    _require(
        getattr(probe, "_statement", None) is not None,
        "IAMPolicyStatement no longer keeps its statement in ._statement",
    )
    original = stmt_cls.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        statement = self._statement
        condition = statement.get("Condition") if isinstance(statement, dict) else None
        if isinstance(condition, dict):
            holds, rest = _split_secure_transport(condition)
            if holds is False:
                return result_cls.NEUTRAL
            if holds is True:
                stripped = dict(statement)
                if rest:
                    stripped["Condition"] = rest
                else:
                    del stripped["Condition"]
                return original(
                    type(self)(stripped),
                    action,
                    resource,
                    principal,
                    incoming_condition_values,
                )
        return original(self, action, resource, principal, incoming_condition_values)

    stmt_cls.is_action_permitted = is_action_permitted


# ---------------------------------------------------------------------------
# Patch D: VPC isolation types (aws_nat_gateway, aws_vpc_endpoint,
# aws_network_acl, aws_vpc_security_group_*_rule).
#
# WHY: keel reads these in batches with id filters and relies on AWS's
# answers after create, modify and delete. moto 5.2.5 gets these wrong:
#  1. DescribeNetworkAcls has no 'network-acl-id' filter and DescribeVpcEndpoints
#     no 'vpc-endpoint-id' / 'vpc-id' / 'service-name' filter (FilterNotImplemented
#     error, a 500 to the SDK).
#  2. CreateNatGateway ignores PrivateIpAddress and gives the gateway an address
#     outside its subnet; DeleteNatGateway leaves the gateway's network interface
#     and its Elastic IP association behind (AWS removes both, so the EIP can be
#     released or reused), and answers a 500 for an unknown id instead of
#     NatGatewayNotFound.
#  3. ModifyVpcEndpoint records added/removed route tables of a Gateway endpoint
#     without adding/removing the prefix-list route in them, ignores ResetPolicy
#     and PrivateDnsEnabled.
#  4. CreateNetworkAclEntry / ReplaceNetworkAclEntry drop IcmpTypeCode (moto reads
#     'Icmp.Type', a name its own parser never produces).
#  5. DescribePrefixLists leaves out Cidrs.
#  6. DeleteSubnet leaves the subnet's network ACL association behind, so the
#     ACL can never be deleted afterwards (DependencyViolation).
#  7. ModifySecurityGroupRules ignores CidrIpv6, PrefixListId and
#     ReferencedGroupId.
#  8. DescribeTags keeps listing the tags of deleted VPCs, subnets, groups,
#     rules, route tables, gateways, addresses, ACLs, flow logs and interfaces
#     (and of NAT gateways and endpoints in state 'deleted').
# ---------------------------------------------------------------------------


def _vpc_filters() -> None:
    from moto.ec2.models.network_acls import NetworkAcl
    from moto.ec2.models.vpcs import VPCEndPoint

    for cls in (NetworkAcl, VPCEndPoint):
        _require(
            callable(getattr(cls, "get_filter_value", None)),
            f"{cls.__name__}.get_filter_value is missing",
        )
    acl_original = NetworkAcl.get_filter_value

    def acl_filter(self: Any, name: str, method_name: str | None = None) -> Any:
        if name == "network-acl-id":
            return self.id
        return acl_original(self, name, method_name)

    vpce_original = VPCEndPoint.get_filter_value

    def vpce_filter(self: Any, name: str, method_name: str | None = None) -> Any:
        if name == "vpc-endpoint-id":
            return self.id
        if name == "vpc-id":
            return self.vpc_id
        if name == "service-name":
            return self.service_name
        return vpce_original(self, name, method_name)

    NetworkAcl.get_filter_value = acl_filter
    VPCEndPoint.get_filter_value = vpce_filter


def _nat_gateways() -> None:
    import ipaddress

    from moto.ec2.models.nat_gateways import NatGatewayBackend
    from moto.ec2.responses import EC2Response
    from moto.ec2.utils import random_private_ip

    _require(
        callable(getattr(NatGatewayBackend, "create_nat_gateway", None))
        and callable(getattr(NatGatewayBackend, "delete_nat_gateway", None)),
        "NatGatewayBackend.create_nat_gateway / delete_nat_gateway are missing",
    )
    _require(
        callable(getattr(EC2Response, "create_nat_gateway", None)),
        "EC2Response.create_nat_gateway is missing",
    )
    create_original = EC2Response.create_nat_gateway

    def create_nat_gateway(self: Any) -> Any:
        subnet = self.ec2_backend.get_subnet(self._get_param("SubnetId"))
        wanted = self._get_param("PrivateIpAddress")
        network = ipaddress.ip_network(subnet.cidr_block)
        if wanted is not None:
            try:
                inside = ipaddress.ip_address(wanted) in network
            except ValueError:
                inside = False
            if not inside:
                self.ec2_backend.raise_error(
                    "InvalidParameterValue",
                    f"The private IP address {wanted} is not in subnet "
                    f"{subnet.id} ({subnet.cidr_block}).",
                )
        before = set(self.ec2_backend.nat_gateways)
        result = create_original(self)
        for nat_id in set(self.ec2_backend.nat_gateways) - before:
            nat = self.ec2_backend.nat_gateways[nat_id]
            ip = wanted or random_private_ip(subnet.cidr_block)
            nat.private_ip = ip
            nat._eni.private_ip_address = ip
            nat._eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]
            for address in nat.address_set:
                address["privateIp"] = ip
        return result

    def delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
        nat = self.nat_gateways.get(nat_gateway_id)
        if nat is None:
            self.raise_error(
                "NatGatewayNotFound", f"The Nat Gateway {nat_gateway_id} was not found"
            )
        if nat.state != "deleted":
            eni = getattr(nat, "_eni", None)
            for eip in list(self.addresses):
                if eni is not None and eip.eni is eni and eip.association_id:
                    self.disassociate_address(association_id=eip.association_id)
            if eni is not None:
                self.enis.pop(eni.id, None)
            for address in nat.address_set:
                address["associationId"] = None
            nat.state = "deleted"
        return nat

    EC2Response.create_nat_gateway = create_nat_gateway
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway


def _vpc_endpoint_modify() -> None:
    import json

    from moto.core.responses import ActionResult
    from moto.ec2.models.vpcs import VPCEndPoint
    from moto.ec2.responses import EC2Response

    _require(
        isinstance(getattr(VPCEndPoint, "DEFAULT_POLICY", None), dict),
        "VPCEndPoint.DEFAULT_POLICY is missing",
    )
    _require(
        callable(getattr(EC2Response, "modify_vpc_endpoint", None)),
        "EC2Response.modify_vpc_endpoint is missing",
    )

    def modify_vpc_endpoint(self: Any) -> Any:
        backend = self.ec2_backend
        vpce_id = self._get_param("VpcEndpointId")
        endpoint = backend.describe_vpc_endpoints(vpc_end_point_ids=[vpce_id])[0]
        add_rt = self._get_param("AddRouteTableIds", [])
        remove_rt = self._get_param("RemoveRouteTableIds", [])
        before = set(endpoint.route_table_ids or [])
        backend.modify_vpc_endpoint(
            vpc_id=vpce_id,
            policy_doc=self._get_param("PolicyDocument"),
            add_subnets=self._get_param("AddSubnetIds", []),
            remove_subnets=self._get_param("RemoveSubnetIds", []),
            add_route_tables=add_rt,
            remove_route_tables=remove_rt,
            add_security_groups=self._get_param("AddSecurityGroupIds", []),
            remove_security_groups=self._get_param("RemoveSecurityGroupIds", []),
        )
        prefix_list = getattr(endpoint, "destination_prefix_list_id", None)
        if prefix_list:
            for rt in add_rt:
                if rt not in before:
                    backend.create_route(
                        rt,
                        None,
                        gateway_id=vpce_id,
                        destination_prefix_list_id=prefix_list,
                    )
            for rt in remove_rt:
                if rt in before:
                    backend.delete_route(rt, None, destination_prefix_list_id=prefix_list)
        if self._get_bool_param("ResetPolicy", False):
            endpoint.policy_document = json.dumps(VPCEndPoint.DEFAULT_POLICY)
        private_dns = self._get_bool_param("PrivateDnsEnabled")
        if private_dns is not None:
            endpoint.private_dns_enabled = private_dns
        return ActionResult({"Return": True})

    EC2Response.modify_vpc_endpoint = modify_vpc_endpoint


def _network_acl_icmp() -> None:
    from moto.ec2.responses import EC2Response

    for method in ("create_network_acl_entry", "replace_network_acl_entry"):
        _require(
            callable(getattr(EC2Response, method, None)),
            f"EC2Response.{method} is missing",
        )

    def handler(backend_method: str, action: str) -> Any:
        from moto.core.responses import EmptyResult

        def entry(self: Any) -> Any:
            icmp = self._get_param("IcmpTypeCode") or {}
            ports = self._get_param("PortRange") or {}
            getattr(self.ec2_backend, backend_method)(
                network_acl_id=self._get_param("NetworkAclId"),
                rule_number=self._get_param("RuleNumber"),
                protocol=self._get_param("Protocol"),
                rule_action=self._get_param("RuleAction"),
                egress=self._get_param("Egress"),
                cidr_block=self._get_param("CidrBlock"),
                icmp_code=icmp.get("Code"),
                icmp_type=icmp.get("Type"),
                port_range_from=ports.get("From"),
                port_range_to=ports.get("To"),
                ipv6_cidr_block=self._get_param("Ipv6CidrBlock"),
            )
            return EmptyResult()

        entry.__name__ = action
        return entry

    EC2Response.create_network_acl_entry = handler(
        "create_network_acl_entry", "create_network_acl_entry"
    )
    EC2Response.replace_network_acl_entry = handler(
        "replace_network_acl_entry", "replace_network_acl_entry"
    )


def _prefix_list_cidrs() -> None:
    from moto.ec2.models.managed_prefixes import ManagedPrefixList

    _require(
        not hasattr(ManagedPrefixList, "cidrs"),
        "ManagedPrefixList already has cidrs; drop keel's patch",
    )

    def cidrs(self: Any) -> list[str]:
        if not self.entries:
            return []
        latest = self.entries[max(self.entries)] or []
        return [e.get("Cidr") for e in latest if e.get("Cidr")]

    ManagedPrefixList.cidrs = property(cidrs)


def _subnet_delete_acl_association() -> None:
    from moto.ec2.models.subnets import SubnetBackend

    _require(
        callable(getattr(SubnetBackend, "delete_subnet", None)),
        "SubnetBackend.delete_subnet is missing",
    )
    original = SubnetBackend.delete_subnet

    def delete_subnet(self: Any, subnet_id: str) -> Any:
        deleted = original(self, subnet_id)
        for acl in getattr(self, "network_acls", {}).values():
            for assoc_id, assoc in list(acl._associations.items()):
                if assoc.subnet_id == subnet_id:
                    del acl._associations[assoc_id]
        return deleted

    SubnetBackend.delete_subnet = delete_subnet


def _security_group_rule_modify() -> None:
    from moto.ec2.models.security_groups import SecurityGroupBackend

    _require(
        callable(getattr(SecurityGroupBackend, "modify_security_group_rules", None)),
        "SecurityGroupBackend.modify_security_group_rules is missing",
    )
    original = SecurityGroupBackend.modify_security_group_rules

    def modify_security_group_rules(
        self: Any, group_id: str, rules: dict[str, dict[str, Any]]
    ) -> None:
        original(self, group_id, rules)
        group = self.get_security_group_by_name_or_id(group_id)
        for rule_id, new_rule in rules.items():
            rule = group.get_rule(rule_id)
            if "CidrIpv6" in new_rule and new_rule["CidrIpv6"] is not None:
                rule.ip_range.pop("CidrIp", None)
                rule.ip_range["CidrIpv6"] = new_rule["CidrIpv6"]
            if new_rule.get("PrefixListId") is not None:
                rule.prefix_list_id = new_rule["PrefixListId"]
            if new_rule.get("ReferencedGroupId") is not None:
                rule.source_group = {
                    "GroupId": new_rule["ReferencedGroupId"],
                    "UserId": group.owner_id,
                }

    SecurityGroupBackend.modify_security_group_rules = modify_security_group_rules


def _live(backend: Any, resource_id: str) -> bool:
    """Whether the EC2 object still exists; True for kinds this patch does not know."""
    prefix, _, _ = resource_id.partition("-")
    if resource_id.startswith("vpce-svc-"):
        return True
    if prefix == "vpc":
        return resource_id in backend.vpcs
    if prefix == "subnet":
        return any(resource_id in subnets for subnets in backend.subnets.values())
    if prefix == "sg":
        return backend.get_security_group_from_id(resource_id) is not None
    if prefix == "sgr":
        return any(
            g.get_rule(resource_id) is not None
            for groups in backend.groups.values()
            for g in groups.values()
        )
    if prefix == "rtb":
        return resource_id in backend.route_tables
    if prefix == "igw":
        return resource_id in backend.internet_gateways
    if prefix == "eipalloc":
        return any(a.allocation_id == resource_id for a in backend.addresses)
    if prefix == "nat":
        nat = backend.nat_gateways.get(resource_id)
        return nat is not None and nat.state != "deleted"
    if prefix == "vpce":
        vpce = backend.vpc_end_points.get(resource_id)
        return vpce is not None and vpce.state != "deleted"
    if prefix == "acl":
        return resource_id in backend.network_acls
    if prefix == "fl":
        return resource_id in backend.flow_logs
    if prefix == "eni":
        return resource_id in backend.enis
    return True


def _describe_tags_of_live_objects() -> None:
    """8. DescribeTags keeps listing the tags of deleted objects (moto never drops
    them), so after a replacement or a destroy every old id still looks tagged with
    the stack: keel's drift would call each one unmanaged. AWS forgets the tags of
    what it deletes."""
    from moto.ec2.models.tags import TagBackend

    _require(
        callable(getattr(TagBackend, "describe_tags", None)),
        "TagBackend.describe_tags is missing",
    )
    original = TagBackend.describe_tags

    def describe_tags(self: Any, filters: Any = None) -> Any:
        return [
            t
            for t in original(self, filters)
            if _live(self, t.get("resource_id") or t.get("ResourceId") or "")
        ]

    TagBackend.describe_tags = describe_tags


def patch_vpc_isolation() -> None:
    _vpc_filters()
    _nat_gateways()
    _vpc_endpoint_modify()
    _network_acl_icmp()
    _prefix_list_cidrs()
    _subnet_delete_acl_association()
    _security_group_rule_modify()
    _describe_tags_of_live_objects()


# ---------------------------------------------------------------------------


def apply_patches() -> None:
    import moto

    version = getattr(moto, "__version__", "unknown")
    if version != TARGET_MOTO_VERSION:
        print(
            f"keel_moto: warning: moto {version} is installed, the patches target "
            f"{TARGET_MOTO_VERSION} (run scripts/moto-install)",
            file=sys.stderr,
        )
    patch_s3_get_bucket_versioning()
    patch_ec2_placement_groups()
    patch_secure_transport()
    patch_vpc_isolation()


class _Stop(BaseException):
    """Raised by the SIGTERM/SIGINT handler in the main thread to leave serve_forever.

    A BaseException, like KeyboardInterrupt: socketserver's request loop catches
    Exception around process_request, so a signal that lands while the main thread
    accepts a connection would otherwise be swallowed as a request error and the
    server would keep running (seen as a rare hang on SIGTERM under load).
    """


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)"
    )
    parser.add_argument(
        "--foreground",
        action="store_true",
        help="ignore stdin; run until SIGTERM/SIGINT",
    )
    parser.add_argument("--pidfile", help="write the server's pid to this file")
    parser.add_argument(
        "--verbose", action="store_true", help="log every request to stderr"
    )
    args = parser.parse_args(argv)

    # Stdout carries only the endpoint line: anything moto or werkzeug might
    # print goes to stderr instead.
    out = sys.stdout
    sys.stdout = sys.stderr

    logging.getLogger("werkzeug").setLevel(
        logging.INFO if args.verbose else logging.WARNING
    )

    try:
        apply_patches()
    except PatchError as err:
        print(f"keel_moto: {err}", file=sys.stderr)
        return 2

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    try:
        server = make_server(
            HOST, args.port, app, threaded=True, request_handler=MotoRequestHandler
        )
    except OSError as err:
        print(f"keel_moto: cannot listen on {HOST}:{args.port}: {err}", file=sys.stderr)
        return 1
    port = server.server_address[1]
    # moto builds some URLs it hands out (and calls back into) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")

    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            # Belt and braces: should the exception below be swallowed anyway,
            # shutdown() still ends serve_forever's loop.
            threading.Thread(target=server.shutdown, name="signal-stop", daemon=True).start()
            raise _Stop(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if not args.foreground:

        def watch_stdin() -> None:
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass  # closed or unreadable stdin counts as EOF
            stopping.set()
            server.shutdown()

        threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()

    out.write(f"KEEL_MOTO_ENDPOINT=http://{HOST}:{port}\n")
    out.flush()

    try:
        server.serve_forever(poll_interval=0.2)
    except _Stop:
        pass
    finally:
        server.server_close()
        if args.pidfile:
            try:
                with open(args.pidfile) as f:
                    mine = f.read().strip() == str(os.getpid())
                if mine:
                    os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
