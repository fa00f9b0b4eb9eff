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
# Patch D: EC2 tags of deleted resources.
#
# WHY: moto 5.2.5 keeps EC2 tags in one store keyed by resource id and never
# drops an entry when the resource is deleted, so DescribeTags keeps listing
# the tags of VPCs, subnets, gateways, route tables and security groups that
# no longer exist. EC2 lists tags of live resources only; keel's drift
# inventory (DescribeTags on keel:stack) would report every deleted object as
# "unmanaged".
#
# This wraps the EC2 backend's delete methods of those types: after a
# successful delete, the resource's tags are dropped. A delete that fails
# (DependencyViolation, unknown id) leaves them alone. A security group
# deleted by name only (EC2-Classic style) keeps its tags.
# ---------------------------------------------------------------------------

_FORGET_TAGS_ON_DELETE = (
    ("delete_vpc", "vpc_id"),
    ("delete_subnet", "subnet_id"),
    ("delete_internet_gateway", "internet_gateway_id"),
    ("delete_route_table", "route_table_id"),
    ("delete_security_group", "group_id"),
)


def patch_ec2_forget_tags_on_delete() -> None:
    import inspect

    from moto.ec2.models import EC2Backend

    _require(
        callable(getattr(EC2Backend, "describe_tags", None)),
        "moto.ec2.models.EC2Backend has no tag store (describe_tags)",
    )
    for method, id_arg in _FORGET_TAGS_ON_DELETE:
        original = getattr(EC2Backend, method, None)
        _require(callable(original), f"EC2Backend.{method} is missing")
        _require(
            not getattr(original, "_keel_forgets_tags", False),
            f"EC2Backend.{method} already forgets tags (patch applied twice)",
        )
        signature = inspect.signature(original)
        _require(
            id_arg in signature.parameters,
            f"EC2Backend.{method} no longer takes {id_arg}",
        )

        def wrapper(
            self: Any,
            *args: Any,
            _original: Any = original,
            _signature: Any = signature,
            _id_arg: str = id_arg,
            **kwargs: Any,
        ) -> Any:
            resource_id = _signature.bind(self, *args, **kwargs).arguments.get(_id_arg)
            result = _original(self, *args, **kwargs)
            if resource_id:
                self.tags.pop(resource_id, None)
            return result

        wrapper._keel_forgets_tags = True  # type: ignore[attr-defined]
        wrapper.__name__ = method
        setattr(EC2Backend, method, wrapper)


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
    patch_ec2_forget_tags_on_delete()


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
