"""Tests for keel_moto.py, keel's patched moto launcher.

Run with the python of the moto venv (scripts/moto-install):
    "$VENV/bin/python" -m unittest discover -s tests/moto -v

Each test talks to a real keel_moto.py subprocess on 127.0.0.1 through boto3,
so they fail if a patch is missing or moto's behaviour changes under it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "keel_moto.py")
ENDPOINT_PREFIX = "KEEL_MOTO_ENDPOINT="
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
EC2_NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def read_line(stream, timeout: float) -> bytes:
    """One line from a pipe, or b'' at EOF / timeout, without blocking forever."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 1)
        if not chunk:
            break
        buf += chunk
    return buf


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pid_gone(pid: int) -> bool:
    """True if the process no longer runs (absent, or a zombie nobody reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state in ("Z", "X")
    except FileNotFoundError:
        return True


class Launcher:
    """A keel_moto.py subprocess whose stdin is a pipe held by the test."""

    def __init__(self, *args: str, port: int | None = None, stdin=subprocess.PIPE):
        self.stderr = tempfile.TemporaryFile()
        if port is None:
            port = free_port()
        self.requested_port = port
        self.proc = subprocess.Popen(
            [sys.executable, LAUNCHER, "--port", str(port), *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        line = read_line(self.proc.stdout, START_TIMEOUT).decode()
        if not line.startswith(ENDPOINT_PREFIX):
            self.kill()
            raise AssertionError(
                f"launcher printed {line!r} instead of the endpoint line; "
                f"stderr:\n{self.stderr_text()}"
            )
        self.endpoint_line = line
        self.endpoint = line[len(ENDPOINT_PREFIX) :].strip()
        self.port = int(self.endpoint.rsplit(":", 1)[1])

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def close_stdin_and_wait(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        try:
            if self.proc.stdin and not self.proc.stdin.closed:
                self.close_stdin_and_wait()
        except subprocess.TimeoutExpired:
            pass
        finally:
            self.kill()
            self.proc.stdout.close()
            self.stderr.close()

    def client(self, service: str, region: str = "us-east-1"):
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )


def capture_raw_bodies(client, event: str) -> list[bytes]:
    """Raw HTTP bodies of every response to `event` (e.g. 's3.GetBucketVersioning')."""
    bodies: list[bytes] = []

    def hook(http_response, **_kwargs):
        bodies.append(http_response.content)

    client.meta.events.register(f"after-call.{event}", hook)
    return bodies


class SharedServer(unittest.TestCase):
    launcher: Launcher

    @classmethod
    def setUpClass(cls):
        cls.launcher = Launcher()

    @classmethod
    def tearDownClass(cls):
        cls.launcher.stop()

    def assertClientError(self, code: str, status: int, fn, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            fn(*args, **kwargs)
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        return err


class S3VersioningTest(SharedServer):
    """Patch A: GetBucketVersioning answers with a <VersioningConfiguration> root."""

    def setUp(self):
        self.s3 = self.launcher.client("s3")
        self.raw = capture_raw_bodies(self.s3, "s3.GetBucketVersioning")
        self.bucket = unique("versioning")
        self.s3.create_bucket(Bucket=self.bucket)

    def get_versioning(self):
        parsed = self.s3.get_bucket_versioning(Bucket=self.bucket)
        root = ET.fromstring(self.raw[-1])
        return parsed, root

    def assertRoot(self, root):
        self.assertEqual(root.tag, f"{S3_NS}VersioningConfiguration", self.raw[-1])

    def test_never_configured_bucket_has_empty_configuration(self):
        parsed, root = self.get_versioning()
        self.assertRoot(root)
        self.assertEqual(list(root), [], self.raw[-1])
        self.assertNotIn("Status", parsed)
        self.assertNotIn("MFADelete", parsed)

    def test_enabled_then_suspended_round_trip(self):
        for status in ("Enabled", "Suspended", "Enabled"):
            with self.subTest(status=status):
                self.s3.put_bucket_versioning(
                    Bucket=self.bucket, VersioningConfiguration={"Status": status}
                )
                parsed, root = self.get_versioning()
                self.assertRoot(root)
                self.assertEqual([child.tag for child in root], [f"{S3_NS}Status"])
                self.assertEqual(root.find(f"{S3_NS}Status").text, status)
                self.assertEqual(parsed["Status"], status)

    def test_versioning_really_enabled_keeps_versions(self):
        self.s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"one")
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"two")
        versions = self.s3.list_object_versions(Bucket=self.bucket)["Versions"]
        self.assertEqual(len(versions), 2)

    def test_unknown_bucket_is_still_an_error(self):
        self.assertClientError(
            "NoSuchBucket", 404, self.s3.get_bucket_versioning, Bucket=unique("absent")
        )


class PlacementGroupTest(SharedServer):
    """Patch B: minimal EC2 placement groups."""

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")
        self.prefix = unique("pg")

    def create(self, suffix: str, strategy: str, tags: dict | None = None, **extra):
        kwargs = dict(GroupName=f"{self.prefix}-{suffix}", Strategy=strategy, **extra)
        if tags:
            kwargs["TagSpecifications"] = [
                {
                    "ResourceType": "placement-group",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                }
            ]
        return self.ec2.create_placement_group(**kwargs)["PlacementGroup"]

    def mine(self, **kwargs):
        groups = self.ec2.describe_placement_groups(**kwargs)["PlacementGroups"]
        return sorted(
            g["GroupName"] for g in groups if g["GroupName"].startswith(self.prefix)
        )

    def test_create_returns_the_group(self):
        pg = self.create("cl", "cluster", tags={"env": "test"})
        self.assertEqual(pg["GroupName"], f"{self.prefix}-cl")
        self.assertEqual(pg["State"], "available")
        self.assertEqual(pg["Strategy"], "cluster")
        self.assertRegex(pg["GroupId"], r"^pg-[0-9a-f]{17}$")
        self.assertEqual(
            pg["GroupArn"],
            f"arn:aws:ec2:us-east-1:123456789012:placement-group/{self.prefix}-cl",
        )
        self.assertEqual(pg["Tags"], [{"Key": "env", "Value": "test"}])
        self.assertNotIn("PartitionCount", pg)
        self.assertNotIn("SpreadLevel", pg)

    def test_strategies_partition_count_and_spread_level(self):
        part = self.create("part", "partition", PartitionCount=5)
        self.assertEqual(part["PartitionCount"], 5)
        default_part = self.create("part2", "partition")
        self.assertEqual(default_part["PartitionCount"], 2)
        spread = self.create("spread", "spread", SpreadLevel="host")
        self.assertEqual(spread["SpreadLevel"], "host")
        spread_default = self.create("spread2", "spread")
        self.assertEqual(spread_default["SpreadLevel"], "rack")

        described = {
            g["GroupName"]: g
            for g in self.ec2.describe_placement_groups(
                GroupNames=[f"{self.prefix}-part", f"{self.prefix}-spread"]
            )["PlacementGroups"]
        }
        self.assertEqual(set(described), {f"{self.prefix}-part", f"{self.prefix}-spread"})
        self.assertEqual(described[f"{self.prefix}-part"]["Strategy"], "partition")
        self.assertEqual(described[f"{self.prefix}-part"]["PartitionCount"], 5)
        self.assertEqual(described[f"{self.prefix}-spread"]["SpreadLevel"], "host")

    def test_invalid_parameters(self):
        self.assertClientError(
            "InvalidParameterValue",
            400,
            self.ec2.create_placement_group,
            GroupName=f"{self.prefix}-bad",
            Strategy="weird",
        )
        self.assertClientError(
            "InvalidParameterValue",
            400,
            self.ec2.create_placement_group,
            GroupName=f"{self.prefix}-bad",
            Strategy="partition",
            PartitionCount=8,
        )
        self.assertClientError(
            "InvalidParameterCombination",
            400,
            self.ec2.create_placement_group,
            GroupName=f"{self.prefix}-bad",
            Strategy="cluster",
            PartitionCount=2,
        )
        self.assertEqual(self.mine(), [])

    def test_describe_by_names_ids_and_filters(self):
        a = self.create("a", "cluster", tags={"env": "prod", "team": "ml"})
        b = self.create("b", "spread", tags={"env": "dev"})
        self.create("c", "partition")
        p = self.prefix

        self.assertEqual(self.mine(), [f"{p}-a", f"{p}-b", f"{p}-c"])
        self.assertEqual(self.mine(GroupNames=[f"{p}-a", f"{p}-c"]), [f"{p}-a", f"{p}-c"])
        self.assertEqual(self.mine(GroupIds=[b["GroupId"]]), [f"{p}-b"])
        self.assertEqual(
            self.mine(GroupIds=[a["GroupId"], b["GroupId"]]), [f"{p}-a", f"{p}-b"]
        )

        def by(name, *values):
            return self.mine(Filters=[{"Name": name, "Values": list(values)}])

        self.assertEqual(by("group-name", f"{p}-a"), [f"{p}-a"])
        self.assertEqual(by("group-name", f"{p}-*"), [f"{p}-a", f"{p}-b", f"{p}-c"])
        self.assertEqual(by("group-id", a["GroupId"]), [f"{p}-a"])
        self.assertEqual(by("strategy", "spread", "partition"), [f"{p}-b", f"{p}-c"])
        self.assertEqual(by("tag:env", "prod"), [f"{p}-a"])
        self.assertEqual(by("tag:env", "prod", "dev"), [f"{p}-a", f"{p}-b"])
        self.assertEqual(by("tag:env", "d*"), [f"{p}-b"])
        self.assertEqual(by("tag:env", "staging"), [])
        self.assertEqual(by("tag-key", "team"), [f"{p}-a"])
        self.assertEqual(by("state", "available"), [f"{p}-a", f"{p}-b", f"{p}-c"])
        # Several filters AND together.
        self.assertEqual(
            self.mine(
                Filters=[
                    {"Name": "tag-key", "Values": ["env"]},
                    {"Name": "strategy", "Values": ["spread"]},
                ]
            ),
            [f"{p}-b"],
        )
        self.assertClientError(
            "InvalidParameterValue",
            400,
            self.ec2.describe_placement_groups,
            Filters=[{"Name": "no-such-filter", "Values": ["x"]}],
        )

    def test_raw_describe_xml_matches_ec2(self):
        raw = capture_raw_bodies(self.ec2, "ec2.DescribePlacementGroups")
        self.create("raw", "partition", tags={"k": "v"}, PartitionCount=3)
        self.ec2.describe_placement_groups(GroupNames=[f"{self.prefix}-raw"])
        root = ET.fromstring(raw[-1])
        self.assertEqual(root.tag, f"{EC2_NS}DescribePlacementGroupsResponse")
        self.assertIsNotNone(root.find(f"{EC2_NS}requestId"))
        items = root.findall(f"{EC2_NS}placementGroupSet/{EC2_NS}item")
        self.assertEqual(len(items), 1)
        item = items[0]

        def text(tag):
            return item.find(f"{EC2_NS}{tag}").text

        self.assertEqual(text("groupName"), f"{self.prefix}-raw")
        self.assertEqual(text("state"), "available")
        self.assertEqual(text("strategy"), "partition")
        self.assertEqual(text("partitionCount"), "3")
        self.assertTrue(text("groupId").startswith("pg-"))
        self.assertTrue(text("groupArn").endswith(f":placement-group/{self.prefix}-raw"))
        tag_items = item.findall(f"{EC2_NS}tagSet/{EC2_NS}item")
        self.assertEqual(
            [(t.find(f"{EC2_NS}key").text, t.find(f"{EC2_NS}value").text) for t in tag_items],
            [("k", "v")],
        )

    def test_duplicate_name(self):
        self.create("dup", "cluster")
        err = self.assertClientError(
            "InvalidPlacementGroup.Duplicate",
            400,
            self.create,
            "dup",
            "spread",
        )
        self.assertIn(f"{self.prefix}-dup", err["Error"]["Message"])
        # The original group is unchanged.
        groups = self.ec2.describe_placement_groups(GroupNames=[f"{self.prefix}-dup"])
        self.assertEqual(groups["PlacementGroups"][0]["Strategy"], "cluster")

    def test_unknown_group(self):
        missing = f"{self.prefix}-missing"
        self.assertClientError(
            "InvalidPlacementGroup.Unknown",
            400,
            self.ec2.describe_placement_groups,
            GroupNames=[missing],
        )
        self.assertClientError(
            "InvalidPlacementGroup.Unknown",
            400,
            self.ec2.describe_placement_groups,
            GroupIds=["pg-0123456789abcdef0"],
        )
        self.assertClientError(
            "InvalidPlacementGroup.Unknown",
            400,
            self.ec2.delete_placement_group,
            GroupName=missing,
        )

    def test_error_body_is_standard_ec2_error_xml(self):
        raw = capture_raw_bodies(self.ec2, "ec2.DeletePlacementGroup")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.ec2.delete_placement_group(GroupName=f"{self.prefix}-nope")
        root = ET.fromstring(raw[-1])
        self.assertEqual(root.tag, "Response")
        self.assertEqual(
            root.find("Errors/Error/Code").text, "InvalidPlacementGroup.Unknown"
        )
        self.assertIn(f"{self.prefix}-nope", root.find("Errors/Error/Message").text)
        self.assertTrue(root.find("RequestID").text)

    def test_delete(self):
        pg = self.create("del", "cluster", tags={"a": "b"})
        self.create("keep", "cluster")
        self.ec2.delete_placement_group(GroupName=f"{self.prefix}-del")
        self.assertEqual(self.mine(), [f"{self.prefix}-keep"])
        self.assertClientError(
            "InvalidPlacementGroup.Unknown",
            400,
            self.ec2.describe_placement_groups,
            GroupIds=[pg["GroupId"]],
        )
        # Its tags went with it.
        tags = self.ec2.describe_tags(
            Filters=[{"Name": "resource-id", "Values": [pg["GroupId"]]}]
        )["Tags"]
        self.assertEqual(tags, [])
        # The name can be reused.
        self.create("del", "spread")

    def test_create_delete_describe_tags_on_pg_ids(self):
        pg = self.create("tags", "cluster", tags={"env": "test"})
        gid = pg["GroupId"]
        self.ec2.create_tags(
            Resources=[gid], Tags=[{"Key": "owner", "Value": "keel"}]
        )
        tags = self.ec2.describe_tags(
            Filters=[{"Name": "resource-id", "Values": [gid]}]
        )["Tags"]
        self.assertEqual(
            sorted((t["Key"], t["Value"], t["ResourceType"]) for t in tags),
            [("env", "test", "placement-group"), ("owner", "keel", "placement-group")],
        )
        described = self.ec2.describe_placement_groups(GroupIds=[gid])
        self.assertEqual(
            sorted((t["Key"], t["Value"]) for t in described["PlacementGroups"][0]["Tags"]),
            [("env", "test"), ("owner", "keel")],
        )
        self.ec2.delete_tags(Resources=[gid], Tags=[{"Key": "env"}])
        described = self.ec2.describe_placement_groups(GroupIds=[gid])
        self.assertEqual(
            described["PlacementGroups"][0]["Tags"], [{"Key": "owner", "Value": "keel"}]
        )
        self.assertEqual(
            self.mine(Filters=[{"Name": "tag:owner", "Values": ["keel"]}]),
            [f"{self.prefix}-tags"],
        )

    def test_tag_specification_for_another_resource_type_is_rejected(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.ec2.create_placement_group(
                GroupName=f"{self.prefix}-wrongtype",
                Strategy="cluster",
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}
                ],
            )
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(self.mine(), [])

    def test_groups_are_per_region(self):
        self.create("east", "cluster")
        west = self.launcher.client("ec2", region="us-west-2")
        names = [g["GroupName"] for g in west.describe_placement_groups()["PlacementGroups"]]
        self.assertNotIn(f"{self.prefix}-east", names)
        west.create_placement_group(GroupName=f"{self.prefix}-east", Strategy="spread")
        self.assertEqual(
            west.describe_placement_groups(GroupNames=[f"{self.prefix}-east"])[
                "PlacementGroups"
            ][0]["GroupArn"],
            f"arn:aws:ec2:us-west-2:123456789012:placement-group/{self.prefix}-east",
        )


class SecureTransportPolicyTest(SharedServer):
    """Patch C: requests count as TLS for aws:SecureTransport, nothing else changes."""

    def setUp(self):
        self.s3 = self.launcher.client("s3")
        self.bucket = unique("tls-only")
        self.s3.create_bucket(Bucket=self.bucket)

    def put_policy(self, *statements):
        policy = {"Version": "2012-10-17", "Statement": list(statements)}
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))

    def statement(self, effect="Deny", condition=None, action="s3:*"):
        st = {
            "Sid": unique("sid").replace("-", ""),
            "Effect": effect,
            "Principal": "*",
            "Action": action,
            "Resource": [
                f"arn:aws:s3:::{self.bucket}",
                f"arn:aws:s3:::{self.bucket}/*",
            ],
        }
        if condition is not None:
            st["Condition"] = condition
        return st

    def test_object_calls_work_with_deny_non_tls_policy(self):
        self.put_policy(
            self.statement(condition={"Bool": {"aws:SecureTransport": "false"}})
        )
        self.s3.put_object(Bucket=self.bucket, Key="a.txt", Body=b"hello")
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="a.txt")["Body"].read(), b"hello"
        )
        self.assertEqual(
            self.s3.head_object(Bucket=self.bucket, Key="a.txt")["ContentLength"], 5
        )
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket)["Contents"]]
        self.assertEqual(keys, ["a.txt"])
        self.s3.delete_object(Bucket=self.bucket, Key="a.txt")
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=self.bucket))

    def test_json_boolean_and_case_variants(self):
        self.put_policy(
            self.statement(condition={"Bool": {"aws:SecureTransport": False}}),
            self.statement(condition={"BoolIfExists": {"aws:securetransport": ["false"]}}),
        )
        self.s3.put_object(Bucket=self.bucket, Key="b.txt", Body=b"x")
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="b.txt")["Body"].read(), b"x"
        )

    def test_unconditional_deny_still_denies(self):
        self.s3.put_object(Bucket=self.bucket, Key="c.txt", Body=b"x")
        self.put_policy(self.statement(action="s3:GetObject"))
        self.assertClientError(
            "403", 403, self.s3.get_object, Bucket=self.bucket, Key="c.txt"
        )

    def test_deny_over_tls_denies(self):
        # The emulator counts requests as TLS, so a statement that applies to
        # TLS requests still applies.
        self.s3.put_object(Bucket=self.bucket, Key="d.txt", Body=b"x")
        self.put_policy(
            self.statement(
                action="s3:GetObject",
                condition={"Bool": {"aws:SecureTransport": "true"}},
            )
        )
        self.assertClientError(
            "403", 403, self.s3.get_object, Bucket=self.bucket, Key="d.txt"
        )


class SecureTransportSplitTest(unittest.TestCase):
    """The condition rewrite of patch C, without a server."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, HERE)
        import keel_moto

        cls.split = staticmethod(keel_moto._split_secure_transport)

    def test_cases(self):
        cases = [
            ({"Bool": {"aws:SecureTransport": "false"}}, (False, {})),
            ({"Bool": {"aws:SecureTransport": "true"}}, (True, {})),
            ({"Bool": {"aws:SecureTransport": ["false", "true"]}}, (True, {})),
            ({"BoolIfExists": {"aws:SecureTransport": False}}, (False, {})),
            (
                {"Bool": {"aws:SecureTransport": "true", "aws:ViaAWSService": "false"}},
                (True, {"Bool": {"aws:ViaAWSService": "false"}}),
            ),
            (
                {
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"aws:username": "x"},
                },
                (False, {"StringEquals": {"aws:username": "x"}}),
            ),
            (
                {"StringEquals": {"aws:username": "x"}},
                (None, {"StringEquals": {"aws:username": "x"}}),
            ),
        ]
        for condition, expected in cases:
            with self.subTest(condition=condition):
                self.assertEqual(self.split(condition), expected)


class DeletedResourceTagsTest(SharedServer):
    """Patch D: DescribeTags lists only resources that still exist."""

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")
        self.key = unique("keel-test")

    def tagged(self):
        out = self.ec2.describe_tags(Filters=[{"Name": "key", "Values": [self.key]}])
        return sorted(t["ResourceId"] for t in out["Tags"])

    def spec(self, kind):
        return [{"ResourceType": kind, "Tags": [{"Key": self.key, "Value": "v"}]}]

    def test_deleted_vpc_subnet_gateway_route_table_and_group_lose_their_tags(self):
        vpc = self.ec2.create_vpc(
            CidrBlock="10.77.0.0/16", TagSpecifications=self.spec("vpc")
        )["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.77.1.0/24", TagSpecifications=self.spec("subnet")
        )["Subnet"]["SubnetId"]
        igw = self.ec2.create_internet_gateway(
            TagSpecifications=self.spec("internet-gateway")
        )["InternetGateway"]["InternetGatewayId"]
        rtb = self.ec2.create_route_table(
            VpcId=vpc, TagSpecifications=self.spec("route-table")
        )["RouteTable"]["RouteTableId"]
        sg = self.ec2.create_security_group(
            GroupName=unique("g"),
            Description="d",
            VpcId=vpc,
            TagSpecifications=self.spec("security-group"),
        )["GroupId"]
        self.assertEqual(self.tagged(), sorted([vpc, subnet, igw, rtb, sg]))

        self.ec2.delete_subnet(SubnetId=subnet)
        self.ec2.delete_internet_gateway(InternetGatewayId=igw)
        self.ec2.delete_route_table(RouteTableId=rtb)
        self.ec2.delete_security_group(GroupId=sg)
        self.assertEqual(self.tagged(), [vpc])
        self.ec2.delete_vpc(VpcId=vpc)
        self.assertEqual(self.tagged(), [])

    def test_a_failed_delete_keeps_the_tags(self):
        vpc = self.ec2.create_vpc(
            CidrBlock="10.78.0.0/16", TagSpecifications=self.spec("vpc")
        )["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.78.1.0/24")["Subnet"][
            "SubnetId"
        ]
        self.assertClientError("DependencyViolation", 400, self.ec2.delete_vpc, VpcId=vpc)
        self.assertEqual(self.tagged(), [vpc])
        self.ec2.delete_subnet(SubnetId=subnet)
        self.ec2.delete_vpc(VpcId=vpc)
        self.assertEqual(self.tagged(), [])


class PatchGuardTest(unittest.TestCase):
    """Startup fails loudly instead of silently mis-patching."""

    def test_applying_ec2_patch_twice_is_refused(self):
        sys.path.insert(0, HERE)
        import keel_moto

        keel_moto.patch_ec2_placement_groups()  # this test process: first time
        with self.assertRaises(keel_moto.PatchError) as ctx:
            keel_moto.patch_ec2_placement_groups()
        self.assertIn("already implements", str(ctx.exception))

    def test_applying_the_tag_patch_twice_is_refused(self):
        sys.path.insert(0, HERE)
        import keel_moto

        keel_moto.patch_ec2_forget_tags_on_delete()
        with self.assertRaises(keel_moto.PatchError) as ctx:
            keel_moto.patch_ec2_forget_tags_on_delete()
        self.assertIn("applied twice", str(ctx.exception))


class LauncherLifecycleTest(unittest.TestCase):
    def test_endpoint_line_and_requested_port(self):
        port = free_port()
        launcher = Launcher(port=port)
        try:
            self.assertEqual(
                launcher.endpoint_line, f"KEEL_MOTO_ENDPOINT=http://127.0.0.1:{port}\n"
            )
            self.assertEqual(launcher.port, port)
            self.assertTrue(port_open("127.0.0.1", port))
            self.assertEqual(launcher.close_stdin_and_wait(), 0)
            # Nothing else was printed to stdout.
            self.assertEqual(launcher.proc.stdout.read(), b"")
        finally:
            launcher.stop()

    def test_port_zero_picks_a_free_port(self):
        launcher = Launcher(port=0)
        try:
            self.assertGreater(launcher.port, 0)
            s3 = launcher.client("s3")
            self.assertEqual(s3.list_buckets()["Buckets"], [])
        finally:
            launcher.stop()

    def test_binds_only_loopback_127_0_0_1(self):
        launcher = Launcher()
        try:
            self.assertTrue(port_open("127.0.0.1", launcher.port))
            # Another loopback address reaches a 0.0.0.0 listener but not ours.
            self.assertFalse(port_open("127.0.0.2", launcher.port))
        finally:
            launcher.stop()

    def test_exits_when_stdin_is_closed(self):
        launcher = Launcher()
        try:
            self.assertEqual(launcher.close_stdin_and_wait(), 0)
            self.assertFalse(port_open("127.0.0.1", launcher.port))
        finally:
            launcher.stop()

    def test_exits_when_parent_is_killed(self):
        # A parent holding the stdin pipe dies with SIGKILL: the launcher must follow.
        parent_code = (
            "import subprocess, sys, time\n"
            f"p = subprocess.Popen([sys.executable, {LAUNCHER!r}, '--port', '0'],\n"
            "    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
            "line = p.stdout.readline().decode().strip()\n"
            "print(p.pid, line, flush=True)\n"
            "time.sleep(300)\n"
        )
        parent = subprocess.Popen(
            [sys.executable, "-c", parent_code], stdout=subprocess.PIPE
        )
        child_pid = None
        try:
            line = read_line(parent.stdout, START_TIMEOUT).decode().split()
            self.assertEqual(len(line), 2, line)
            child_pid = int(line[0])
            self.assertTrue(line[1].startswith(ENDPOINT_PREFIX), line)
            port = int(line[1].rsplit(":", 1)[1])
            self.assertTrue(port_open("127.0.0.1", port))

            parent.send_signal(signal.SIGKILL)
            parent.wait(timeout=STOP_TIMEOUT)
            deadline = time.monotonic() + STOP_TIMEOUT
            while not pid_gone(child_pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertTrue(pid_gone(child_pid), "launcher outlived its parent")
            self.assertFalse(port_open("127.0.0.1", port))
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
            parent.stdout.close()
            if child_pid is not None and not pid_gone(child_pid):
                os.kill(child_pid, signal.SIGKILL)

    def test_foreground_ignores_stdin_and_stops_on_sigterm(self):
        with tempfile.TemporaryDirectory() as tmp:
            pidfile = os.path.join(tmp, "moto.pid")
            launcher = Launcher(
                "--foreground", "--pidfile", pidfile, stdin=subprocess.DEVNULL
            )
            try:
                with open(pidfile) as f:
                    self.assertEqual(int(f.read()), launcher.proc.pid)
                # stdin is at EOF from the start, yet it keeps serving.
                time.sleep(1.0)
                self.assertIsNone(launcher.proc.poll())
                self.assertTrue(port_open("127.0.0.1", launcher.port))
                launcher.proc.send_signal(signal.SIGTERM)
                self.assertEqual(launcher.proc.wait(timeout=STOP_TIMEOUT), 0)
                self.assertFalse(os.path.exists(pidfile))
                self.assertFalse(port_open("127.0.0.1", launcher.port))
            finally:
                launcher.stop()

    def test_sigint_stops_it(self):
        launcher = Launcher()
        try:
            launcher.proc.send_signal(signal.SIGINT)
            self.assertEqual(launcher.proc.wait(timeout=STOP_TIMEOUT), 0)
            self.assertNotIn("Traceback", launcher.stderr_text())
        finally:
            launcher.stop()

    def test_moto_reset_drops_placement_groups(self):
        launcher = Launcher()
        try:
            ec2 = launcher.client("ec2")
            ec2.create_placement_group(GroupName="before-reset", Strategy="cluster")
            self.assertEqual(len(ec2.describe_placement_groups()["PlacementGroups"]), 1)
            req = urllib.request.Request(
                f"{launcher.endpoint}/moto-api/reset", data=b"", method="POST"
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                self.assertEqual(resp.status, 200)
            self.assertEqual(ec2.describe_placement_groups()["PlacementGroups"], [])
            ec2.create_placement_group(GroupName="before-reset", Strategy="cluster")
        finally:
            launcher.stop()


if __name__ == "__main__":
    unittest.main()
