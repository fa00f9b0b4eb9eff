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
import json
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
# Patch I: S3 conditional writes are atomic.
#
# WHY: moto 5.2.5 honours If-None-Match: * and If-Match on PutObject (and
# If-Match on DeleteObject) -- it answers 412 PreconditionFailed -- but it
# checks the condition and stores the object in two steps, with nothing
# between them to stop another request thread (the server is threaded). Two
# concurrent "create only if absent" PUTs can both see no object and both
# succeed, which real S3 never allows. keel's S3 state lock is exactly such a
# PUT, so its race test could pass or fail by the scheduler's whim.
#
# This serialises every object write (PutObject, CopyObject, DeleteObject, and
# the POSTs that complete multipart uploads) on one lock, so the check and the
# write of a conditional request are one step, as in S3. Reads are not
# affected.
# ---------------------------------------------------------------------------

_S3_WRITE_LOCK = threading.RLock()


def patch_s3_atomic_conditional_writes() -> None:
    from moto.s3.responses import S3Response

    names = ("put_object", "copy_object", "delete_object", "_key_response_post")
    for name in names:
        _require(
            callable(getattr(S3Response, name, None)),
            f"S3Response.{name} exists",
        )
    for name in names:
        original = getattr(S3Response, name)
        if getattr(original, "_keel_atomic", False):
            continue

        def serialised(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _S3_WRITE_LOCK:
                return __original(self, *args, **kwargs)

        serialised._keel_atomic = True  # type: ignore[attr-defined]
        setattr(S3Response, name, serialised)


# ---------------------------------------------------------------------------
# Patch J: CopyObject's x-amz-copy-source-if-match.
#
# WHY: moto 5.2.5 checks x-amz-copy-source-if-none-match on CopyObject but
# ignores x-amz-copy-source-if-match, so a copy "only if the source is still
# the version I read" always copies. S3 answers 412 PreconditionFailed when the
# source's ETag differs. keel copies its S3 state to the .backup object this
# way before each write, so the backup is always the version being replaced.
# ---------------------------------------------------------------------------


def patch_s3_copy_source_if_match() -> None:
    from urllib.parse import unquote, urlparse

    from moto.s3.exceptions import PreconditionFailed
    from moto.s3.responses import S3Response

    original = getattr(S3Response, "copy_object", None)
    _require(callable(original), "S3Response.copy_object exists")
    if getattr(original, "_keel_copy_if_match", False):
        return

    def copy_object(self: Any, *args: Any, **kwargs: Any) -> Any:
        wanted = self.headers.get("x-amz-copy-source-if-match")
        source = self.headers.get("x-amz-copy-source")
        if wanted and source:
            if isinstance(source, bytes):
                source = source.decode("utf-8")
            path = unquote(urlparse(source).path).lstrip("/")
            if "/" in path:
                bucket, key = path.split("/", 1)
                found = self.backend.get_object(bucket, key)
                if found is not None and wanted.strip('"') != found.etag.strip('"'):
                    raise PreconditionFailed(
                        failed_condition="x-amz-copy-source-If-Match"
                    )
        return original(self, *args, **kwargs)

    copy_object._keel_copy_if_match = True  # type: ignore[attr-defined]
    copy_object._keel_atomic = getattr(original, "_keel_atomic", False)  # type: ignore[attr-defined]
    S3Response.copy_object = copy_object

# ---------------------------------------------------------------------------
# Patch D: IAM rules moto 5.2.5 does not enforce.
#
# WHY: keel's IAM types must cope with three things real IAM does and moto
# does not, and a test against plain moto would pass whether keel coped or not:
#
# D1. DeletePolicy is refused (409 DeleteConflict) while the policy is attached
#     to anything or still has versions besides the default one; moto deletes
#     it regardless.
# D2. IAM tag values may hold only [\p{L}\p{Z}\p{N}_.:/=+\-@]* (keys the same,
#     non-empty); moto checks keys only, and checks nothing for instance
#     profiles. keel's keel:address tag can read aws_iam_role.w[0].
# D3. IAM is eventually consistent: a trust policy naming a role created a
#     moment ago is refused with MalformedPolicyDocument "Invalid principal in
#     policy" until the new role has propagated (and always, for a role that
#     does not exist). moto accepts any principal. The patch treats a role of
#     the same account as unknown for KEEL_MOTO_IAM_PROPAGATION_SECONDS (1 by
#     default) after its creation.
# ---------------------------------------------------------------------------

_IAM_TAG_PUNCTUATION = set("_.:/=+-@")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:[^*]*/)?([^/*]+)$")


def _iam_tag_text_ok(text: str) -> bool:
    import unicodedata

    return all(
        ch in _IAM_TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LZN"
        for ch in text
    )


def _iam_check_tags(tags: Any) -> None:
    from moto.iam.exceptions import InvalidTagCharacters, ValidationError

    for tag in tags or []:
        key = str(tag.get("Key", ""))
        value = str(tag.get("Value", ""))
        if not key or not _iam_tag_text_ok(key):
            raise InvalidTagCharacters(key)
        if not _iam_tag_text_ok(value):
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at "
                "'tags.X.member.value' failed to satisfy constraint: Member must "
                "satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
            )


def _trust_principals(document: str) -> list[str]:
    """The AWS principals a trust policy names, as written."""
    try:
        doc = json.loads(document)
    except (TypeError, ValueError):
        return []
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    found: list[str] = []
    for st in statements:
        principal = st.get("Principal") if isinstance(st, dict) else None
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        if isinstance(aws, str):
            found.append(aws)
        elif isinstance(aws, list):
            found.extend(a for a in aws if isinstance(a, str))
    return found


def _iam_propagation_seconds() -> float:
    try:
        return float(os.environ.get("KEEL_MOTO_IAM_PROPAGATION_SECONDS", "1"))
    except ValueError:
        return 1.0


def _check_principals(backend: Any, document: str) -> None:
    from moto.core.utils import utcnow
    from moto.iam.exceptions import MalformedPolicyDocument

    delay = _iam_propagation_seconds()
    for principal in _trust_principals(document):
        m = _ROLE_ARN.match(principal)
        if not m or m.group(1) != backend.account_id:
            continue
        roles = [r for r in backend.roles.values() if r.name == m.group(2)]
        settled = any(
            (utcnow() - r.create_date).total_seconds() >= delay for r in roles
        )
        if not settled:
            raise MalformedPolicyDocument(
                f'Invalid principal in policy: "AWS":"{principal}"'
            )


def patch_iam_fidelity() -> None:
    from moto.iam.exceptions import DeleteConflictException
    from moto.iam.models import IAMBackend

    for method in (
        "delete_policy",
        "get_policy",
        "_tag_verification",
        "create_instance_profile",
        "tag_instance_profile",
        "create_role",
        "update_assume_role_policy",
    ):
        _require(callable(getattr(IAMBackend, method, None)), f"IAMBackend.{method} is missing")
    _require(
        getattr(IAMBackend.delete_policy, "_keel", False) is False,
        "IAMBackend.delete_policy is already patched",
    )

    delete_policy = IAMBackend.delete_policy

    def strict_delete_policy(self: Any, policy_arn: str) -> None:
        policy = self.get_policy(policy_arn)
        if getattr(policy, "attachment_count", 0) > 0:
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        if len(getattr(policy, "versions", [])) > 1:
            raise DeleteConflictException(
                "This policy has more than one version. Before you delete a policy, "
                "you must delete the policy's versions. The default version is "
                "deleted with the policy."
            )
        delete_policy(self, policy_arn)

    strict_delete_policy._keel = True  # type: ignore[attr-defined]
    IAMBackend.delete_policy = strict_delete_policy

    tag_verification = IAMBackend._tag_verification

    def checked_tag_verification(self: Any, tags: Any) -> Any:
        _iam_check_tags(tags)
        return tag_verification(self, tags)

    IAMBackend._tag_verification = checked_tag_verification

    create_instance_profile = IAMBackend.create_instance_profile

    def checked_create_instance_profile(self: Any, *args: Any, **kwargs: Any) -> Any:
        _iam_check_tags(kwargs.get("tags"))
        return create_instance_profile(self, *args, **kwargs)

    IAMBackend.create_instance_profile = checked_create_instance_profile

    tag_instance_profile = IAMBackend.tag_instance_profile

    def checked_tag_instance_profile(self: Any, *args: Any, **kwargs: Any) -> Any:
        _iam_check_tags(kwargs.get("tags", args[1] if len(args) > 1 else None))
        return tag_instance_profile(self, *args, **kwargs)

    IAMBackend.tag_instance_profile = checked_tag_instance_profile

    create_role = IAMBackend.create_role

    def checked_create_role(self: Any, *args: Any, **kwargs: Any) -> Any:
        document = kwargs.get(
            "assume_role_policy_document", args[1] if len(args) > 1 else None
        )
        _check_principals(self, document)
        return create_role(self, *args, **kwargs)

    IAMBackend.create_role = checked_create_role

    update_assume_role_policy = IAMBackend.update_assume_role_policy

    def checked_update_assume_role_policy(
        self: Any, role_name: str, policy_document: str
    ) -> Any:
        _check_principals(self, policy_document)
        return update_assume_role_policy(self, role_name, policy_document)

    IAMBackend.update_assume_role_policy = checked_update_assume_role_policy
# Patch E: S3 lifecycle fields moto drops.
#
# WHY: moto 5.2.5 parses PutBucketLifecycleConfiguration into its own model and
# keeps only some of a rule's fields; GetBucketLifecycleConfiguration then
# answers without
#   * Filter.ObjectSizeGreaterThan / Filter.ObjectSizeLessThan,
#   * Filter.And.ObjectSizeGreaterThan / Filter.And.ObjectSizeLessThan,
#   * NoncurrentVersionExpiration.NewerNoncurrentVersions,
# so a stack that sets them (aws_s3_bucket_lifecycle_configuration's
# object_size_* filters, newer_noncurrent_versions) reads back a different
# configuration than it wrote and plans a change forever.
#
# The patch keeps those fields of each rule as PUT sent them (on moto's rule
# object, so a later PUT or DELETE replaces them with the rules) and adds them
# back to GET's answer. Everything moto already returns is left as it is.
# ---------------------------------------------------------------------------

_LC_SIZES = ("ObjectSizeGreaterThan", "ObjectSizeLessThan")
_LC_EXTRA = "_keel_lifecycle_extra"


def _lc_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _lc_extra(raw_rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields of one PUT rule (as xmltodict parsed it) that moto drops."""
    flt = _lc_dict(raw_rule.get("Filter"))
    and_ = _lc_dict(flt.get("And"))
    nve = _lc_dict(raw_rule.get("NoncurrentVersionExpiration"))
    return {
        "filter": {k: flt[k] for k in _LC_SIZES if flt.get(k) is not None},
        "and": {k: and_[k] for k in _LC_SIZES if and_.get(k) is not None},
        "nve": {
            k: nve[k] for k in ("NewerNoncurrentVersions",) if nve.get(k) is not None
        },
    }


def _lc_add_extra(out_rule: dict[str, Any], extra: dict[str, dict[str, Any]]) -> None:
    """Puts the kept fields back into one rule of GET's answer."""
    if extra["filter"] or extra["and"]:
        flt = out_rule.setdefault("Filter", {})
        flt.update(extra["filter"])
        if extra["and"]:
            flt.setdefault("And", {}).update(extra["and"])
    if extra["nve"] and "NoncurrentVersionExpiration" in out_rule:
        out_rule["NoncurrentVersionExpiration"].update(extra["nve"])


def patch_s3_lifecycle_fields() -> None:
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    for owner, name in (
        (FakeBucket, "set_lifecycle"),
        (S3Response, "get_bucket_lifecycle"),
        (S3Response, "serialized"),
    ):
        _require(
            callable(getattr(owner, name, None)),
            f"{owner.__module__}.{owner.__name__}.{name} is missing",
        )
    _require(
        not getattr(FakeBucket.set_lifecycle, "_keel_patched", False),
        "the S3 lifecycle patch is already applied",
    )
    original_set = FakeBucket.set_lifecycle
    original_get = S3Response.get_bucket_lifecycle

    def set_lifecycle(self: Any, rules: list[dict[str, Any]]) -> None:
        original_set(self, rules)
        # moto appends one rule object per PUT rule, in order.
        for raw, rule in zip(rules, self.rules):
            setattr(rule, _LC_EXTRA, _lc_extra(raw))

    set_lifecycle._keel_patched = True  # type: ignore[attr-defined]

    def get_bucket_lifecycle(self: Any) -> Any:
        rules = self.backend.get_bucket_lifecycle(self.bucket_name) or []
        serialize = self.serialized

        def with_extra(action_result: Any) -> Any:
            result = getattr(action_result, "result", None)
            if isinstance(result, dict):
                for out, rule in zip(result.get("Rules", []), rules):
                    extra = getattr(rule, _LC_EXTRA, None)
                    if extra:
                        _lc_add_extra(out, extra)
            return serialize(action_result)

        # get_bucket_lifecycle builds the answer and hands it to self.serialized:
        # an instance attribute shadows the method for this one call.
        self.serialized = with_extra
        try:
            return original_get(self)
        finally:
            del self.serialized

    FakeBucket.set_lifecycle = set_lifecycle
    S3Response.get_bucket_lifecycle = get_bucket_lifecycle


# ---------------------------------------------------------------------------
# Patch F: KMS key rotation period.
#
# WHY: moto 5.2.5's EnableKeyRotation ignores RotationPeriodInDays, and
# GetKeyRotationStatus answers only KeyRotationEnabled. AWS keeps the period
# (90-2560 days, 365 when EnableKeyRotation leaves it out) and returns it, with
# the KeyId, while rotation is on; aws_kms_key's rotation_period_in_days reads
# it from there.
#
# The patch validates and stores the period on moto's key object and adds
# RotationPeriodInDays and KeyId to GetKeyRotationStatus while rotation is on.
# ---------------------------------------------------------------------------

_KMS_PERIOD = "_keel_rotation_period"
_KMS_DEFAULT_PERIOD = 365


def patch_kms_rotation_period() -> None:
    import json

    from moto.kms.exceptions import ValidationException
    from moto.kms.responses import KmsResponse

    for name in ("enable_key_rotation", "get_key_rotation_status", "_get_param"):
        _require(
            callable(getattr(KmsResponse, name, None)),
            f"moto.kms.responses.KmsResponse.{name} is missing",
        )
    _require(
        not getattr(KmsResponse.enable_key_rotation, "_keel_patched", False),
        "the KMS rotation period patch is already applied",
    )
    original_enable = KmsResponse.enable_key_rotation
    original_status = KmsResponse.get_key_rotation_status

    def key_of(self: Any) -> Any:
        backend = self.kms_backend
        return backend.keys.get(backend.get_key_id(self._get_param("KeyId") or ""))

    def enable_key_rotation(self: Any) -> str:
        period = self._get_param("RotationPeriodInDays")
        if period is not None and (
            not isinstance(period, int) or not 90 <= period <= 2560
        ):
            raise ValidationException(
                f"1 validation error detected: Value '{period}' at "
                "'rotationPeriodInDays' failed to satisfy constraint: Member must "
                "have value less than or equal to 2560 and greater than or equal to 90"
            )
        answer = original_enable(self)
        key = key_of(self)
        if key is not None:
            setattr(key, _KMS_PERIOD, period or _KMS_DEFAULT_PERIOD)
        return answer

    enable_key_rotation._keel_patched = True  # type: ignore[attr-defined]

    def get_key_rotation_status(self: Any) -> str:
        body = json.loads(original_status(self))
        key = key_of(self)
        if key is not None:
            body["KeyId"] = key.id
            if body.get("KeyRotationEnabled"):
                body["RotationPeriodInDays"] = getattr(
                    key, _KMS_PERIOD, _KMS_DEFAULT_PERIOD
                )
        return json.dumps(body)

    KmsResponse.enable_key_rotation = enable_key_rotation
    KmsResponse.get_key_rotation_status = get_key_rotation_status


# ---------------------------------------------------------------------------
# Patch G: deleting object versions in a versioning-suspended bucket.
#
# WHY: S3 deletes exactly the version a DeleteObject(s) request names, whether
# the bucket's versioning is Enabled or Suspended. moto 5.2.5 takes its
# "unversioned bucket" path for anything but Enabled: it drops every version of
# the key and calls dispose() on each, and a delete marker has no dispose(), so
# the request dies with an HTTP 500 (AttributeError: 'FakeDeleteMarker' object
# has no attribute 'dispose'). keel hits this when it destroys a versioned
# bucket with force_destroy: removing aws_s3_bucket_versioning suspends
# versioning (it cannot be switched off), then the bucket is emptied version by
# version.
#
# The patch makes a delete that names a version take moto's versioned path
# (which removes just that version) while the bucket is Suspended, and gives
# delete markers a no-op dispose() so no path can crash on them.
# ---------------------------------------------------------------------------

_S3_DELETING_VERSION = threading.local()


def patch_s3_suspended_version_delete() -> None:
    from moto.s3.models import FakeBucket, FakeDeleteMarker, S3Backend

    versioned = FakeBucket.__dict__.get("is_versioned")
    _require(
        isinstance(versioned, property) and versioned.fget is not None,
        "moto.s3.models.FakeBucket.is_versioned is no longer a property",
    )
    _require(
        callable(getattr(S3Backend, "delete_object", None)),
        "moto.s3.models.S3Backend.delete_object is missing",
    )
    _require(
        not hasattr(FakeDeleteMarker, "dispose"),
        "moto's FakeDeleteMarker has dispose() now; re-check keel's patch G",
    )
    is_versioned = versioned.fget
    original_delete = S3Backend.delete_object

    def is_versioned_for_delete(self: Any) -> bool:
        if (
            getattr(_S3_DELETING_VERSION, "active", False)
            and getattr(self, "versioning_status", None) == "Suspended"
        ):
            return True
        return is_versioned(self)

    def delete_object(
        self: Any,
        bucket_name: str,
        key_name: str,
        version_id: str | None = None,
        bypass: bool = False,
    ) -> Any:
        if version_id is None:
            return original_delete(
                self, bucket_name, key_name, version_id=version_id, bypass=bypass
            )
        _S3_DELETING_VERSION.active = True
        try:
            return original_delete(
                self, bucket_name, key_name, version_id=version_id, bypass=bypass
            )
        finally:
            _S3_DELETING_VERSION.active = False

    def dispose(self: Any, garbage: bool = False) -> None:
        # A delete marker holds no data to release.
        return None

    FakeBucket.is_versioned = property(is_versioned_for_delete)
    S3Backend.delete_object = delete_object
    FakeDeleteMarker.dispose = dispose
# Patch H: EC2 instances and launch templates for GPU clusters.
#
# WHY: keel's aws_instance and aws_launch_template hit these gaps of moto 5.2.5;
# each makes the emulator answer differently from EC2:
#
# D1. RunInstances ignores Placement.GroupName, Placement.PartitionNumber and
#     Placement.Tenancy: DescribeInstances always answers GroupName "" and
#     Tenancy "default", and an unknown group is accepted. Now they are recorded
#     (the group must exist in Patch B's store: InvalidPlacementGroup.Unknown
#     otherwise, before any instance is created). Only the request's own
#     Placement is recorded here; Patch M carries a launch template's.
# D2. RunInstances drops Iops and Throughput of BlockDeviceMappings (a gp3
#     root volume always reads back 3000 IOPS and no throughput). Now the
#     volumes keep what the request asked for.
# D3. The default root volume (no mapping in the request) is attached at
#     /dev/sda1 whatever the AMI's root device is (/dev/xvda for Amazon Linux
#     and Deep Learning AMIs), so DescribeInstances' RootDeviceName names a
#     device with no volume. Now it is attached at the AMI's root device; a
#     mapping for the same device (from a launch template) replaces it instead
#     of leaving a second, orphaned volume attached.
# D4. MonitorInstances / UnmonitorInstances raise NotImplementedError (HTTP
#     500). Now they switch detailed monitoring and answer InstanceMonitorings.
# D5. ModifyInstanceAttribute UserData: the SDKs send the user data as a blob
#     (base64 on the wire, decoded by moto's parser), but moto then treats the
#     decoded bytes as base64 again and answers InvalidUserData.Malformed. Now
#     the decoded bytes are the user data, as in EC2.
# D6. DescribeLaunchTemplates with LaunchTemplateIds returns at most 15
#     templates (its MaxResults default, which EC2 forbids together with ids)
#     and silently skips ids that do not exist. EC2 returns every requested
#     template, and fails the call with InvalidLaunchTemplateId.NotFound when
#     one does not exist. Now moto does the same.
# D7. CreateLaunchTemplate copies the template's own tags (TagSpecifications
#     of resource type launch-template) into the version's LaunchTemplateData,
#     where EC2 keeps only the data's tag specifications (instance, volume,
#     ...). Now they stay off the data.
# D8. ReplaceIamInstanceProfileAssociation switches the association but not the
#     instance: DescribeInstances keeps answering the old profile's ARN. Now
#     the instance reports the new profile, as in EC2.
# D9. A launch template's tags are copied once, when it is created: tags
#     changed later with CreateTags / DeleteTags never show in
#     DescribeLaunchTemplates. Now it answers the tags the template has.
# D10. ModifyInstanceAttribute changes the instance type and user data of a
#     running instance. EC2 refuses with IncorrectInstanceState unless the
#     instance is stopped; now moto does too, so a client that forgets to stop
#     the instance first fails here as it would against EC2.
# ---------------------------------------------------------------------------


def _lt_not_found(template_id: str) -> _Ec2Error:
    return _Ec2Error(
        "InvalidLaunchTemplateId.NotFound",
        f"The specified launch template, with template ID {template_id}, does not exist.",
    )


def patch_ec2_compute() -> None:
    import base64

    from moto.core.types import Base64EncodedString
    from moto.ec2.models.instances import Instance, InstancePlacement
    from moto.ec2.responses import instances as instance_responses
    from moto.ec2.responses.instances import InstanceResponse
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.ec2.responses.monitoring import Monitoring

    for cls, method in (
        (InstanceResponse, "run_instances"),
        (Instance, "setup_defaults"),
        (Instance, "add_block_device"),
        (Monitoring, "monitor_instances"),
        (Monitoring, "unmonitor_instances"),
        (LaunchTemplates, "describe_launch_templates"),
        (LaunchTemplates, "create_launch_template"),
    ):
        _require(
            callable(getattr(cls, method, None)), f"{cls.__name__}.{method} is missing"
        )
    _require(
        callable(getattr(instance_responses, "parse_user_data", None)),
        "moto.ec2.responses.instances.parse_user_data is missing",
    )
    _require(
        hasattr(InstancePlacement(), "group_name")
        and hasattr(InstancePlacement(), "tenancy"),
        "InstancePlacement no longer has group_name / tenancy",
    )
    _require(
        not getattr(InstanceResponse.run_instances, "_keel_patched", False),
        "keel's compute patch is already applied",
    )

    # D1, D2.
    original_run = InstanceResponse.run_instances

    def run_instances(self: Any) -> Any:
        group = self._get_param("Placement.GroupName")
        partition = self._get_param("Placement.PartitionNumber")
        tenancy = self._get_param("Placement.Tenancy")
        if group:
            with _PG_LOCK:
                known = group in _pg_store(self.ec2_backend)
            if not known:
                body, headers = _ec2_error(_pg_unknown(group))
                return body, headers
        result = original_run(self)
        reservation = getattr(result, "result", None)
        if reservation is None:
            return result
        wanted = {
            m.get("DeviceName"): m.get("Ebs", {})
            for m in self._get_param("BlockDeviceMappings", []) or []
        }
        for instance in reservation.instances:
            if group:
                instance.placement.group_name = group
            if partition is not None:
                instance.placement.partition_number = int(partition)
            if tenancy:
                instance.placement.tenancy = tenancy
            for device, ebs in wanted.items():
                bdt = instance.block_device_mapping.get(device)
                if bdt is None:
                    continue
                volume = self.ec2_backend.get_volume(bdt.volume_id)
                if ebs.get("Iops") is not None:
                    volume.iops = int(ebs["Iops"])
                if ebs.get("Throughput") is not None:
                    volume.throughput = int(ebs["Throughput"])
        return result

    run_instances._keel_patched = True  # type: ignore[attr-defined]
    InstanceResponse.run_instances = run_instances

    # D3.
    original_add = Instance.add_block_device

    def setup_defaults(self: Any) -> None:
        device = self.root_device_name or "/dev/sda1"
        volume = self.ec2_backend.create_volume(size=8, zone_name=self._placement.zone)
        self.ec2_backend.attach_volume(volume.id, self.id, device, True)

    def add_block_device(self: Any, *args: Any, **kwargs: Any) -> None:
        device_path = kwargs.get("device_path", args[1] if len(args) > 1 else None)
        existing = self.block_device_mapping.get(device_path)
        if existing is not None:
            self.ec2_backend.detach_volume(existing.volume_id, self.id, device_path)
            self.ec2_backend.delete_volume(existing.volume_id)
        original_add(self, *args, **kwargs)

    Instance.setup_defaults = setup_defaults
    Instance.add_block_device = add_block_device

    # D4.
    def _monitoring(self: Any, action: str, state: str) -> tuple[str, dict[str, Any]]:
        self.error_on_dryrun()
        ids = self._get_param("InstanceIds", []) or []
        try:
            instances = self.ec2_backend.get_multi_instances_by_id(ids)
        except Exception as err:  # moto's InvalidInstanceID.NotFound
            code = getattr(err, "error_type", "InvalidInstanceID.NotFound")
            return _ec2_error(_Ec2Error(code, str(getattr(err, "message", err))))
        items = []
        for instance in instances:
            instance.monitoring_state = state
            items.append(
                f"<item><instanceId>{instance.id}</instanceId>"
                f"<monitoring><state>{state}</state></monitoring></item>"
            )
        return _ec2_ok(action, f"<instancesSet>{''.join(items)}</instancesSet>")

    Monitoring.monitor_instances = lambda self: _monitoring(
        self, "MonitorInstances", "enabled"
    )
    Monitoring.unmonitor_instances = lambda self: _monitoring(
        self, "UnmonitorInstances", "disabled"
    )

    # D5. RunInstances passes a str (already base64); ModifyInstanceAttribute a
    # blob that moto's parser has decoded to the raw bytes.
    original_parse = instance_responses.parse_user_data

    def parse_user_data(value: Any) -> Any:
        if isinstance(value, bytes):
            return Base64EncodedString.from_encoded_bytes(base64.b64encode(value))
        return original_parse(value)

    instance_responses.parse_user_data = parse_user_data

    # D6.
    original_describe = LaunchTemplates.describe_launch_templates

    def describe_launch_templates(self: Any) -> Any:
        ids = self._get_param("LaunchTemplateIds", []) or []
        if not ids:
            return original_describe(self)
        self.error_on_dryrun()
        backend = self.ec2_backend
        for template_id in ids:
            if template_id not in backend.launch_templates:
                return _ec2_error(_lt_not_found(template_id))
        templates = backend.describe_launch_templates(
            template_ids=ids, filters=self._filters_from_querystring()
        )
        from moto.core.responses import ActionResult

        return ActionResult(
            {
                "LaunchTemplates": [
                    {
                        "CreateTime": t.create_time,
                        "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                        "DefaultVersionNumber": t.default_version_number,
                        "LatestVersionNumber": t.latest_version_number,
                        "LaunchTemplateId": t.id,
                        "LaunchTemplateName": t.name,
                        "Tags": t.tags,
                    }
                    for t in templates
                ]
            }
        )

    LaunchTemplates.describe_launch_templates = describe_launch_templates

    # D7.
    original_create_lt = LaunchTemplates.create_launch_template

    def create_launch_template(self: Any) -> Any:
        result = original_create_lt(self)
        body = getattr(result, "result", None)
        template_id = (body or {}).get("LaunchTemplate", {}).get("LaunchTemplateId")
        template = self.ec2_backend.launch_templates.get(template_id)
        if template is not None:
            for version in template.versions:
                specs = version.data.get("TagSpecifications")
                if specs:
                    kept = [
                        s for s in specs if s.get("ResourceType") != "launch-template"
                    ]
                    if kept:
                        version.data["TagSpecifications"] = kept
                    else:
                        del version.data["TagSpecifications"]
        return result

    LaunchTemplates.create_launch_template = create_launch_template

    # D8.
    from moto.ec2.models.iam_instance_profile import (
        IamInstanceProfileAssociationBackend,
    )

    original_replace = (
        IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association
    )

    def replace_iam_instance_profile_association(
        self: Any, association_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        association = original_replace(self, association_id, *args, **kwargs)
        self.modify_instance_attribute(
            association.instance_id,
            "iam_instance_profile",
            {"Arn": association.iam_instance_profile.arn, "Id": association_id},
        )
        return association

    IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association = (
        replace_iam_instance_profile_association
    )

    # D10.
    original_modify = InstanceResponse.modify_instance_attribute

    def modify_instance_attribute(self: Any) -> Any:
        attribute = self._get_param("Attribute")
        needs_stop = attribute in ("instanceType", "userData") or any(
            self._get_param(f"{name}.Value") is not None
            for name in ("InstanceType", "UserData")
        )
        if needs_stop:
            instance_id = self._get_param("InstanceId")
            instance = self.ec2_backend.get_instance_by_id(instance_id)
            if instance is not None and instance.state != "stopped":
                return _ec2_error(
                    _Ec2Error(
                        "IncorrectInstanceState",
                        f"The instance '{instance_id}' is not in the 'stopped' state.",
                    )
                )
        return original_modify(self)

    InstanceResponse.modify_instance_attribute = modify_instance_attribute

    # D9. LaunchTemplate.__init__ assigns self.tags once; the property ignores that
    # assignment and always answers the tag store.
    from moto.ec2.models.launch_templates import LaunchTemplate

    _require(
        callable(getattr(LaunchTemplate, "get_tags", None))
        and not isinstance(LaunchTemplate.__dict__.get("tags"), property),
        "moto's LaunchTemplate.tags is no longer a plain attribute",
    )
    LaunchTemplate.tags = property(
        lambda self: self.get_tags(), lambda self, _value: None
    )


# ---------------------------------------------------------------------------
# Patch K: VPC isolation types (aws_nat_gateway, aws_vpc_endpoint,
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


# ---------------------------------------------------------------------------
# Patch L: instance profiles take time to reach EC2.
#
# WHY: IAM is eventually consistent, and EC2 is the service that notices it most:
# RunInstances naming an instance profile created seconds ago fails with
# InvalidParameterValue "Value (NAME) for parameter iamInstanceProfile.name is
# invalid. Invalid IAM Instance Profile name" until the profile has propagated.
# moto accepts the profile at once, so a keel that launched an instance right
# after creating its profile, and gave up at the first refusal, would pass
# against plain moto and fail against AWS. The patch refuses a profile younger
# than KEEL_MOTO_PROFILE_PROPAGATION_SECONDS (3 by default: instance profiles are
# the slowest IAM objects to reach EC2), by name or ARN, in RunInstances.
# ---------------------------------------------------------------------------


def _profile_propagation_seconds() -> float:
    try:
        return float(os.environ.get("KEEL_MOTO_PROFILE_PROPAGATION_SECONDS", "3"))
    except ValueError:
        return 3.0


def patch_ec2_instance_profile_propagation() -> None:
    import moto.ec2.responses.instances as instance_responses
    from moto.core.utils import utcnow
    from moto.ec2.exceptions import EC2ClientError

    original = getattr(instance_responses, "filter_iam_instance_profiles", None)
    _require(
        callable(original),
        "moto.ec2.responses.instances.filter_iam_instance_profiles is missing",
    )
    _require(
        not getattr(original, "_keel", False),
        "RunInstances' instance profile check is already patched",
    )

    def filter_iam_instance_profiles(*args: Any, **kwargs: Any) -> Any:
        profile = original(*args, **kwargs)
        created = getattr(profile, "create_date", None)
        if created is not None and (
            (utcnow() - created).total_seconds() < _profile_propagation_seconds()
        ):
            if kwargs.get("iam_instance_profile_arn"):
                name, param = kwargs["iam_instance_profile_arn"], "iamInstanceProfile.arn"
            else:
                name, param = kwargs.get("iam_instance_profile_name"), "iamInstanceProfile.name"
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Value ({name}) for parameter {param} is invalid. "
                "Invalid IAM Instance Profile name",
            )
        return profile

    filter_iam_instance_profiles._keel = True  # type: ignore[attr-defined]
    instance_responses.filter_iam_instance_profiles = filter_iam_instance_profiles


# ---------------------------------------------------------------------------
# Patch M: instances launched from a launch template, and group-rule descriptions.
#
# WHY: keel's gpu-cluster module puts the instances' subnet, security groups,
# instance profile, IMDS settings and placement group in the launch template,
# as EC2 requires when the template has a network interface (EC2 refuses
# "Network interfaces and an instance-level subnet ID may not be specified on
# the same request"). moto 5.2.5 carries none of these onto the instances it
# launches from a template, so they land outside any VPC with a random public
# address, no profile and IMDSv1 allowed: a test could not check that a GPU
# node runs in its private subnet, behind its cluster's security group.
#
# M1. RunInstances with a LaunchTemplate: when the request gives no network
#     interfaces, no subnet and no security groups of its own, the template's
#     NetworkInterfaces are used (subnet, groups, device index); when it gives
#     no IamInstanceProfile, MetadataOptions or Placement.GroupName, the
#     template's are. A template's profile goes through the same checks as a
#     request's (it must exist, and Patch L's propagation delay applies).
#     Request values still win, as in EC2.
# M2. A security group rule whose source is another group (or the group itself)
#     or a prefix list loses its Description: DescribeSecurityGroupRules answers
#     none, so an aws_vpc_security_group_ingress_rule with
#     referenced_security_group_id or prefix_list_id and a description plans a
#     change forever. Now the description is kept.
# M3. DescribeTags lists the tags of deleted launch templates and volumes
#     (Patch K's filter of deleted objects covers VPC types only), so keel drift
#     called every launch template a destroyed or replaced stack once had
#     unmanaged, and a terminated instance's root volume seemed to outlive it.
# ---------------------------------------------------------------------------


def _template_data(backend: Any, launch_template: dict[str, Any]) -> dict[str, Any]:
    try:
        return backend._get_template_from_args(launch_template).data or {}
    except Exception:  # an unknown template: moto's own RunInstances reports it
        return {}


def patch_ec2_launch_template_carry_over() -> None:
    import moto.ec2.responses.instances as instance_responses
    from moto.ec2.models.instances import InstanceBackend
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.ec2.responses.instances import InstanceResponse

    _require(
        callable(getattr(InstanceBackend, "run_instances", None)),
        "InstanceBackend.run_instances is missing",
    )
    _require(
        callable(getattr(InstanceBackend, "_get_template_from_args", None)),
        "InstanceBackend._get_template_from_args is missing",
    )
    _require(
        isinstance(SecurityGroupRule.__dict__.get("description"), property),
        "SecurityGroupRule.description is no longer a property",
    )
    _require(
        not getattr(InstanceBackend.run_instances, "_keel_template", False),
        "keel's launch template carry-over is already applied",
    )

    # M1, in the backend: the network interfaces, IMDS and placement group.
    original_backend_run = InstanceBackend.run_instances

    def run_instances(
        self: Any,
        image_id: str,
        count: int,
        user_data: Any,
        security_group_names: list[str],
        **kwargs: Any,
    ) -> Any:
        data = (
            _template_data(self, kwargs["launch_template"])
            if kwargs.get("launch_template")
            else {}
        )
        own_network = (
            kwargs.get("nics")
            or kwargs.get("subnet_id")
            or kwargs.get("security_group_ids")
            or security_group_names
        )
        template_nics = [] if own_network else list(data.get("NetworkInterfaces") or [])
        if template_nics:
            kwargs["nics"] = [dict(nic) for nic in template_nics]
        if data.get("MetadataOptions") and not kwargs.get("metadata_options"):
            kwargs["metadata_options"] = dict(data["MetadataOptions"])
        reservation = original_backend_run(
            self, image_id, count, user_data, security_group_names, **kwargs
        )
        group = (data.get("Placement") or {}).get("GroupName")
        types = {
            int(nic.get("DeviceIndex", 0)): nic.get("InterfaceType")
            for nic in template_nics
        }
        for instance in reservation.instances:
            if group and not instance.placement.group_name:
                instance.placement.group_name = group
            for index, eni in instance.nics.items():
                if types.get(int(index)):
                    eni.interface_type = types[int(index)]
            primary = instance.nics.get(0)
            if template_nics and primary is not None and not instance.security_groups:
                # EC2 reports the primary interface's groups as the instance's.
                instance.security_groups = list(primary._group_set)
        return reservation

    run_instances._keel_template = True  # type: ignore[attr-defined]
    InstanceBackend.run_instances = run_instances

    # M1, in the response: the instance profile (checked before anything is
    # launched, associated with every instance after).
    original_response_run = InstanceResponse.run_instances

    def run_instances_response(self: Any) -> Any:
        template_arg = self._get_param("LaunchTemplate", {})
        own_profile = self._get_param("IamInstanceProfile.Name") or self._get_param(
            "IamInstanceProfile.Arn"
        )
        profile: dict[str, Any] = {}
        if template_arg and not own_profile:
            profile = _template_data(self.ec2_backend, template_arg).get(
                "IamInstanceProfile"
            ) or {}
        if profile.get("Name") or profile.get("Arn"):
            instance_responses.filter_iam_instance_profiles(
                self.current_account,
                partition=self.partition,
                iam_instance_profile_arn=profile.get("Arn"),
                iam_instance_profile_name=None if profile.get("Arn") else profile.get("Name"),
            )
        result = original_response_run(self)
        reservation = getattr(result, "result", None)
        if reservation is not None and (profile.get("Name") or profile.get("Arn")):
            for instance in reservation.instances:
                self.ec2_backend.associate_iam_instance_profile(
                    instance_id=instance.id,
                    iam_instance_profile_arn=profile.get("Arn"),
                    iam_instance_profile_name=None
                    if profile.get("Arn")
                    else profile.get("Name"),
                )
        return result

    InstanceResponse.run_instances = run_instances_response

    # M2. The rule's constructor keeps a prefix list's id only; remember its
    # description beside it.
    original_rule_init = SecurityGroupRule.__init__

    def rule_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_rule_init(self, *args, **kwargs)
        prefix_list = kwargs.get("prefix_list_id", args[7] if len(args) > 7 else None)
        self._keel_prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: Any) -> Any:
        if "Description" in self.ip_range:
            return self.ip_range.get("Description")
        if (self.source_group or {}).get("Description") is not None:
            return self.source_group["Description"]
        return getattr(self, "_keel_prefix_list_description", None)

    SecurityGroupRule.__init__ = rule_init
    SecurityGroupRule.description = property(description)

    # M3. Patch K's DescribeTags filter did not know launch templates or volumes.
    known = globals()["_live"]

    def live(backend: Any, resource_id: str) -> bool:
        if resource_id.startswith("lt-"):
            return resource_id in backend.launch_templates
        if resource_id.startswith("vol-"):
            return resource_id in backend.volumes
        return known(backend, resource_id)

    globals()["_live"] = live


# ---------------------------------------------------------------------------
# Patch N: a block-device mapping for one of the AMI's own devices.
#
# WHY: RunInstances may override the AMI's mapping of a device (its root device,
# usually) with only some Ebs fields, e.g. Ebs{Encrypted=true} to encrypt the
# root volume at launch: EC2 takes the rest from the AMI's mapping of that
# device, so the volume is restored from the AMI's snapshot and, with no
# VolumeSize, is the snapshot's size ("Use encryption with EBS-backed AMIs",
# EC2 User Guide). Terraform's aws_instance sends exactly this for a
# root_block_device without volume_size. moto 5.2.5 validates each mapping on
# its own and answers MissingParameter "size or snapshotId", so such an
# instance could not be launched at all. Now a mapping that gives neither a
# size nor a snapshot, for a device the AMI maps, takes the AMI's snapshot
# (moto then sizes the volume from it). A device the AMI does not map still
# needs a size or a snapshot, as in EC2.
# ---------------------------------------------------------------------------


def patch_ec2_ami_device_override() -> None:
    from moto.ec2.responses.instances import InstanceResponse

    original = getattr(InstanceResponse, "_parse_block_device_mapping", None)
    _require(
        callable(original),
        "InstanceResponse._parse_block_device_mapping is missing",
    )
    _require(
        not getattr(original, "_keel_ami_devices", False),
        "keel's AMI device override patch is already applied",
    )

    def _parse_block_device_mapping(self: Any) -> Any:
        mappings = self._get_param("BlockDeviceMappings", []) or []
        image_id = self._get_param("ImageId")
        if mappings and image_id and image_id in self.ec2_backend.amis:
            ami = self.ec2_backend.amis[image_id]
            snapshots = {
                m.get("DeviceName"): (m.get("Ebs") or {}).get("SnapshotId")
                for m in ami.block_device_mappings
            }
            for mapping in mappings:
                ebs = mapping.get("Ebs")
                if (
                    isinstance(ebs, dict)
                    and not ebs.get("VolumeSize")
                    and not ebs.get("SnapshotId")
                    and snapshots.get(mapping.get("DeviceName"))
                ):
                    ebs["SnapshotId"] = snapshots[mapping["DeviceName"]]
        return original(self)

    _parse_block_device_mapping._keel_ami_devices = True  # type: ignore[attr-defined]
    InstanceResponse._parse_block_device_mapping = _parse_block_device_mapping


# ---------------------------------------------------------------------------
# Patch O: launch template listings page with NextToken.
#
# WHY: DescribeLaunchTemplates and DescribeLaunchTemplateVersions return at most
# MaxResults items and a NextToken when more remain (EC2 API Reference). moto
# 5.2.5 cuts both lists at MaxResults and returns no NextToken, so a client
# paging through the region's $Latest versions 200 at a time saw only the
# first 200 and had to read the rest one template at a time (keel's refresh of
# 250 templates made 51 calls instead of 2). Now both actions return one page
# of MaxResults (moto's default of 15 when none is given) from the offset the
# NextToken names, and a NextToken while items remain. (Templates asked for by
# id or name all come in one answer, as D6 of Patch H has it.)
# ---------------------------------------------------------------------------


def patch_ec2_launch_template_paging() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidParameterValue
    from moto.ec2.responses.launch_templates import LaunchTemplates

    for action, key in (
        ("describe_launch_templates", "LaunchTemplates"),
        ("describe_launch_template_versions", "LaunchTemplateVersions"),
    ):
        original = getattr(LaunchTemplates, action, None)
        _require(callable(original), f"LaunchTemplates.{action} is missing")
        _require(
            not getattr(original, "_keel_paged", False),
            f"keel's paging patch of {action} is already applied",
        )

        def paged(self: Any, _original: Any = original, _key: str = key) -> Any:
            if _key == "LaunchTemplates" and (
                self._get_param("LaunchTemplateIds") or self._get_param("LaunchTemplateNames")
            ):
                # Asked by id or name, EC2 answers every template in one page (D6).
                return _original(self)
            page = self._get_int_param("MaxResults", 15)
            token = self._get_param("NextToken")
            if token is not None and not str(token).isdigit():
                raise InvalidParameterValue(f"Invalid NextToken: {token}")
            start = int(token) if token is not None else 0
            bounded = self._get_int_param

            def unbounded(name: str, if_none: Any = None) -> Any:
                if name == "MaxResults":
                    return 1_000_000
                return bounded(name, if_none)

            self._get_int_param = unbounded
            try:
                out = _original(self)
            finally:
                del self._get_int_param
            if not isinstance(out, ActionResult):
                return out  # an error answer
            result = out.result
            _require(
                isinstance(result, dict) and isinstance(result.get(_key), list),
                f"{_key} is not a list in moto's answer",
            )
            items = result[_key]
            result[_key] = items[start : start + page]
            if start + page < len(items):
                result["NextToken"] = str(start + page)
            return out

        paged._keel_paged = True  # type: ignore[attr-defined]
        setattr(LaunchTemplates, action, paged)


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
    patch_iam_fidelity()
    patch_s3_lifecycle_fields()
    patch_kms_rotation_period()
    patch_s3_suspended_version_delete()
    patch_ec2_compute()
    patch_s3_copy_source_if_match()
    patch_s3_atomic_conditional_writes()
    patch_vpc_isolation()
    patch_ec2_instance_profile_propagation()
    patch_ec2_launch_template_carry_over()
    patch_ec2_ami_device_override()
    patch_ec2_launch_template_paging()


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

    try:
        # Inside the try: a signal that lands while the endpoint line is written
        # raises _Stop, which must still close the server and remove the pidfile.
        out.write(f"KEEL_MOTO_ENDPOINT=http://{HOST}:{port}\n")
        out.flush()
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
