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


class ComputeTest(SharedServer):
    """Patch H: instances and launch templates for GPU clusters."""

    # A Deep Learning AMI from moto's built-in list; its root device is /dev/xvda.
    AMI = "ami-999844e0"

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")
        vpc = self.ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")[
            "Subnet"
        ]["SubnetId"]

    def launch(self, **kwargs):
        kwargs.setdefault("ImageId", self.AMI)
        kwargs.setdefault("SubnetId", self.subnet)
        r = self.ec2.run_instances(MinCount=1, MaxCount=1, **kwargs)
        return r["Instances"][0]["InstanceId"]

    def describe(self, instance_id):
        r = self.ec2.describe_instances(InstanceIds=[instance_id])
        return r["Reservations"][0]["Instances"][0]

    def volumes(self, instance_id):
        return self.ec2.describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
        )["Volumes"]

    def test_run_instances_records_the_placement(self):
        group = unique("pg")
        self.ec2.create_placement_group(
            GroupName=group, Strategy="partition", PartitionCount=3
        )
        iid = self.launch(
            InstanceType="p5.48xlarge",
            Placement={"GroupName": group, "PartitionNumber": 2, "Tenancy": "dedicated"},
        )
        placement = self.describe(iid)["Placement"]
        self.assertEqual(placement["GroupName"], group)
        self.assertEqual(placement["PartitionNumber"], 2)
        self.assertEqual(placement["Tenancy"], "dedicated")
        self.assertEqual(self.describe(iid)["InstanceType"], "p5.48xlarge")

    def test_run_instances_into_an_unknown_group_fails_and_creates_nothing(self):
        before = len(self.ec2.describe_instances()["Reservations"])
        err = self.assertClientError(
            "InvalidPlacementGroup.Unknown",
            400,
            self.launch,
            Placement={"GroupName": unique("missing")},
        )
        self.assertIn("unknown", err["Error"]["Message"])
        self.assertEqual(len(self.ec2.describe_instances()["Reservations"]), before)

    def test_block_device_mappings_keep_iops_and_throughput(self):
        iid = self.launch(
            BlockDeviceMappings=[
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {
                        "VolumeSize": 100,
                        "VolumeType": "gp3",
                        "Encrypted": True,
                        "Iops": 4000,
                        "Throughput": 250,
                    },
                }
            ]
        )
        [volume] = self.volumes(iid)
        self.assertEqual(volume["Iops"], 4000)
        self.assertEqual(volume["Throughput"], 250)
        self.assertTrue(volume["Encrypted"])

    def test_default_root_volume_sits_on_the_ami_root_device(self):
        iid = self.launch()
        instance = self.describe(iid)
        self.assertEqual(instance["RootDeviceName"], "/dev/xvda")
        devices = [m["DeviceName"] for m in instance["BlockDeviceMappings"]]
        self.assertEqual(devices, ["/dev/xvda"])
        self.assertEqual(len(self.volumes(iid)), 1)

    def test_template_root_mapping_replaces_the_default_root_volume(self):
        lt = self.ec2.create_launch_template(
            LaunchTemplateName=unique("lt"),
            LaunchTemplateData={
                "ImageId": self.AMI,
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 50}}
                ],
            },
        )["LaunchTemplate"]["LaunchTemplateId"]
        iid = self.ec2.run_instances(
            MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateId": lt}
        )["Instances"][0]["InstanceId"]
        [volume] = self.volumes(iid)
        self.assertEqual(volume["Size"], 50)

    def test_monitor_and_unmonitor(self):
        iid = self.launch()
        out = self.ec2.monitor_instances(InstanceIds=[iid])["InstanceMonitorings"]
        self.assertEqual(out, [{"InstanceId": iid, "Monitoring": {"State": "enabled"}}])
        self.assertEqual(self.describe(iid)["Monitoring"]["State"], "enabled")
        self.ec2.unmonitor_instances(InstanceIds=[iid])
        self.assertEqual(self.describe(iid)["Monitoring"]["State"], "disabled")
        self.assertClientError(
            "InvalidInstanceID.NotFound",
            400,
            self.ec2.monitor_instances,
            InstanceIds=["i-0123456789abcdef0"],
        )

    def test_type_and_user_data_change_only_while_stopped(self):
        iid = self.launch(InstanceType="g5.xlarge")
        for change in (
            {"InstanceType": {"Value": "g6.xlarge"}},
            {"UserData": {"Value": b"#!/bin/sh"}},
            {"Attribute": "instanceType", "Value": "g6.xlarge"},
        ):
            with self.subTest(change=change):
                self.assertClientError(
                    "IncorrectInstanceState",
                    400,
                    self.ec2.modify_instance_attribute,
                    InstanceId=iid,
                    **change,
                )
        self.ec2.stop_instances(InstanceIds=[iid])
        self.ec2.modify_instance_attribute(
            InstanceId=iid, InstanceType={"Value": "g6.xlarge"}
        )
        self.assertEqual(self.describe(iid)["InstanceType"], "g6.xlarge")
        # Other attributes still change on a running instance.
        self.ec2.start_instances(InstanceIds=[iid])
        self.ec2.modify_instance_attribute(
            InstanceId=iid, DisableApiTermination={"Value": False}
        )

    def test_modify_user_data_takes_the_raw_bytes(self):
        iid = self.launch(UserData="#!/bin/sh\necho before")
        self.ec2.stop_instances(InstanceIds=[iid])
        self.ec2.modify_instance_attribute(
            InstanceId=iid, UserData={"Value": b"#!/bin/sh\necho after"}
        )
        got = self.ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
        import base64

        self.assertEqual(
            base64.b64decode(got["UserData"]["Value"]), b"#!/bin/sh\necho after"
        )

    def test_describe_launch_templates_by_ids_returns_all_or_fails(self):
        ids = [
            self.ec2.create_launch_template(
                LaunchTemplateName=unique("many"),
                LaunchTemplateData={"ImageId": self.AMI},
            )["LaunchTemplate"]["LaunchTemplateId"]
            for _ in range(17)
        ]
        got = self.ec2.describe_launch_templates(LaunchTemplateIds=ids)
        self.assertEqual(
            sorted(t["LaunchTemplateId"] for t in got["LaunchTemplates"]), sorted(ids)
        )
        missing = "lt-0123456789abcdef0"
        err = self.assertClientError(
            "InvalidLaunchTemplateId.NotFound",
            400,
            self.ec2.describe_launch_templates,
            LaunchTemplateIds=[ids[0], missing],
        )
        self.assertIn(missing, err["Error"]["Message"])

    def test_replacing_the_instance_profile_shows_on_the_instance(self):
        iam = self.launcher.client("iam")
        names = [unique("profile"), unique("profile")]
        arns = [
            iam.create_instance_profile(InstanceProfileName=n)["InstanceProfile"]["Arn"]
            for n in names
        ]
        time.sleep(3.2)  # Patch L: a new profile reaches EC2 after 3 s
        iid = self.launch(IamInstanceProfile={"Name": names[0]})
        self.assertEqual(self.describe(iid)["IamInstanceProfile"]["Arn"], arns[0])
        [assoc] = self.ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [iid]}]
        )["IamInstanceProfileAssociations"]
        self.ec2.replace_iam_instance_profile_association(
            AssociationId=assoc["AssociationId"], IamInstanceProfile={"Name": names[1]}
        )
        self.assertEqual(self.describe(iid)["IamInstanceProfile"]["Arn"], arns[1])

    def test_template_tags_follow_create_and_delete_tags(self):
        lt = self.ec2.create_launch_template(
            LaunchTemplateName=unique("retag"),
            LaunchTemplateData={"ImageId": self.AMI},
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": "a", "Value": "1"}]}
            ],
        )["LaunchTemplate"]["LaunchTemplateId"]
        self.ec2.create_tags(Resources=[lt], Tags=[{"Key": "b", "Value": "2"}])
        self.ec2.delete_tags(Resources=[lt], Tags=[{"Key": "a"}])
        for call in (
            lambda: self.ec2.describe_launch_templates(LaunchTemplateIds=[lt]),
            lambda: self.ec2.describe_launch_templates(
                Filters=[{"Name": "tag:b", "Values": ["2"]}]
            ),
        ):
            [got] = [t for t in call()["LaunchTemplates"] if t["LaunchTemplateId"] == lt]
            self.assertEqual(got["Tags"], [{"Key": "b", "Value": "2"}])

    def test_template_tags_stay_off_the_template_data(self):
        lt = self.ec2.create_launch_template(
            LaunchTemplateName=unique("tags"),
            LaunchTemplateData={
                "ImageId": self.AMI,
                "TagSpecifications": [
                    {"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}
                ],
            },
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": "k", "Value": "v"}]}
            ],
        )["LaunchTemplate"]
        self.assertEqual(lt["Tags"], [{"Key": "k", "Value": "v"}])
        [version] = self.ec2.describe_launch_template_versions(
            LaunchTemplateId=lt["LaunchTemplateId"]
        )["LaunchTemplateVersions"]
        self.assertEqual(
            version["LaunchTemplateData"]["TagSpecifications"],
            [{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}],
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


class IamFidelityTest(SharedServer):
    """Patch D: DeletePolicy conflicts, IAM tag characters, trust policy principals."""

    def setUp(self):
        self.iam = self.launcher.client("iam")

    def policy(self, name):
        doc = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        }
        return self.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc))[
            "Policy"
        ]["Arn"]

    def trust(self, principal):
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )

    def role(self, name, principal=None):
        return self.iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=self.trust(
                principal or {"Service": "ec2.amazonaws.com"}
            ),
        )["Role"]

    def test_attached_policy_cannot_be_deleted(self):
        arn = self.policy(unique("attached"))
        role = unique("holder")
        self.role(role)
        self.iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        self.assertClientError("DeleteConflict", 409, self.iam.delete_policy, PolicyArn=arn)
        self.iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        self.iam.delete_policy(PolicyArn=arn)
        self.assertClientError("NoSuchEntity", 404, self.iam.get_policy, PolicyArn=arn)

    def test_policy_with_other_versions_cannot_be_deleted(self):
        arn = self.policy(unique("versions"))
        doc = self.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"][
            "Document"
        ]
        self.iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True
        )
        err = self.assertClientError(
            "DeleteConflict", 409, self.iam.delete_policy, PolicyArn=arn
        )
        self.assertIn("more than one version", err["Error"]["Message"])
        self.iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
        self.iam.delete_policy(PolicyArn=arn)

    def test_tag_values_keep_to_iam_characters(self):
        name = unique("tagged")
        bad = [{"Key": "keel:address", "Value": 'aws_iam_role.r["a"]'}]
        for call in (
            lambda: self.iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=self.trust({"Service": "ec2.amazonaws.com"}),
                Tags=bad,
            ),
            lambda: self.iam.create_instance_profile(InstanceProfileName=name, Tags=bad),
        ):
            self.assertClientError("ValidationError", 400, call)
        good = [{"Key": "keel:address", "Value": "aws_iam_role.r+5B0+5D ok @=/"}]
        self.iam.create_instance_profile(InstanceProfileName=name, Tags=good)
        self.assertClientError(
            "ValidationError",
            400,
            self.iam.tag_instance_profile,
            InstanceProfileName=name,
            Tags=[{"Key": "x", "Value": "a[0]"}],
        )
        self.role(name)
        self.iam.tag_role(RoleName=name, Tags=good)
        self.assertClientError(
            "ValidationError",
            400,
            self.iam.tag_role,
            RoleName=name,
            Tags=[{"Key": "x", "Value": "a,b"}],
        )
        self.assertEqual(self.iam.list_role_tags(RoleName=name)["Tags"], good)

    def test_a_new_role_is_an_invalid_principal_until_it_propagates(self):
        first = unique("first")
        arn = self.role(first)["Arn"]
        second = unique("second")
        err = self.assertClientError(
            "MalformedPolicyDocument",
            400,
            self.iam.create_role,
            RoleName=second,
            AssumeRolePolicyDocument=self.trust({"AWS": arn}),
        )
        self.assertIn("Invalid principal", err["Error"]["Message"])
        time.sleep(1.2)
        self.role(second, {"AWS": [arn]})
        self.iam.update_assume_role_policy(
            RoleName=second, PolicyDocument=self.trust({"AWS": arn})
        )

    def test_missing_roles_are_invalid_principals_and_others_pass(self):
        missing = "arn:aws:iam::123456789012:role/" + unique("absent")
        self.assertClientError(
            "MalformedPolicyDocument",
            400,
            self.iam.create_role,
            RoleName=unique("r"),
            AssumeRolePolicyDocument=self.trust({"AWS": missing}),
        )
        holder = unique("holder")
        self.role(holder)
        self.assertClientError(
            "MalformedPolicyDocument",
            400,
            self.iam.update_assume_role_policy,
            RoleName=holder,
            PolicyDocument=self.trust({"AWS": missing}),
        )
        # Other accounts, account roots and services are not checked.
        self.role(unique("r"), {"AWS": "arn:aws:iam::111122223333:role/elsewhere"})
        self.role(unique("r"), {"AWS": "arn:aws:iam::123456789012:root"})
        self.role(unique("r"), {"Service": "lambda.amazonaws.com"})


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


class S3LifecycleFieldsTest(SharedServer):
    """Patch E: lifecycle object-size filters and NewerNoncurrentVersions survive a round trip."""

    def setUp(self):
        self.s3 = self.launcher.client("s3")
        self.bucket = unique("lifecycle")
        self.s3.create_bucket(Bucket=self.bucket)

    def put(self, *rules):
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.bucket, LifecycleConfiguration={"Rules": list(rules)}
        )
        return {
            r["ID"]: r
            for r in self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)[
                "Rules"
            ]
        }

    def test_sizes_and_newer_versions_are_returned(self):
        rules = self.put(
            {
                "ID": "big",
                "Status": "Enabled",
                "Filter": {"ObjectSizeGreaterThan": 1024},
                "Expiration": {"Days": 30},
            },
            {
                "ID": "and",
                "Status": "Enabled",
                "Filter": {
                    "And": {
                        "Prefix": "logs/",
                        "Tags": [{"Key": "k", "Value": "v"}],
                        "ObjectSizeGreaterThan": 10,
                        "ObjectSizeLessThan": 5000,
                    }
                },
                "NoncurrentVersionExpiration": {
                    "NoncurrentDays": 90,
                    "NewerNoncurrentVersions": 3,
                },
            },
        )
        self.assertEqual(rules["big"]["Filter"], {"ObjectSizeGreaterThan": 1024})
        self.assertEqual(
            rules["and"]["Filter"]["And"],
            {
                "Prefix": "logs/",
                "Tags": [{"Key": "k", "Value": "v"}],
                "ObjectSizeGreaterThan": 10,
                "ObjectSizeLessThan": 5000,
            },
        )
        self.assertEqual(
            rules["and"]["NoncurrentVersionExpiration"],
            {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3},
        )

    def test_a_later_put_replaces_the_kept_fields(self):
        self.put(
            {
                "ID": "r",
                "Status": "Enabled",
                "Filter": {"ObjectSizeLessThan": 99},
                "Expiration": {"Days": 1},
            }
        )
        rules = self.put(
            {
                "ID": "r",
                "Status": "Enabled",
                "Filter": {"Prefix": "a/"},
                "Expiration": {"Days": 1},
            }
        )
        self.assertEqual(rules["r"]["Filter"], {"Prefix": "a/"})

    def test_rules_without_them_are_unchanged(self):
        rules = self.put(
            {
                "ID": "plain",
                "Status": "Disabled",
                "Filter": {"Prefix": "tmp/"},
                "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            }
        )
        self.assertEqual(rules["plain"]["Filter"], {"Prefix": "tmp/"})
        self.assertEqual(
            rules["plain"]["NoncurrentVersionExpiration"], {"NoncurrentDays": 7}
        )
        self.assertEqual(
            rules["plain"]["Transitions"], [{"Days": 30, "StorageClass": "STANDARD_IA"}]
        )

    def test_deleted_configuration_is_gone(self):
        self.put({"ID": "r", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 5}})
        self.s3.delete_bucket_lifecycle(Bucket=self.bucket)
        self.assertClientError(
            "NoSuchLifecycleConfiguration",
            404,
            self.s3.get_bucket_lifecycle_configuration,
            Bucket=self.bucket,
        )


class KmsRotationPeriodTest(SharedServer):
    """Patch F: EnableKeyRotation keeps RotationPeriodInDays; GetKeyRotationStatus returns it."""

    def setUp(self):
        self.kms = self.launcher.client("kms")
        self.key = self.kms.create_key(Description=unique("rotation"))["KeyMetadata"][
            "KeyId"
        ]

    def status(self):
        return self.kms.get_key_rotation_status(KeyId=self.key)

    def test_period_round_trip(self):
        self.kms.enable_key_rotation(KeyId=self.key, RotationPeriodInDays=180)
        st = self.status()
        self.assertTrue(st["KeyRotationEnabled"])
        self.assertEqual(st["RotationPeriodInDays"], 180)
        self.assertEqual(st["KeyId"], self.key)

    def test_default_period_is_365(self):
        self.kms.enable_key_rotation(KeyId=self.key)
        self.assertEqual(self.status()["RotationPeriodInDays"], 365)

    def test_no_period_while_rotation_is_off(self):
        st = self.status()
        self.assertFalse(st["KeyRotationEnabled"])
        self.assertNotIn("RotationPeriodInDays", st)
        self.kms.enable_key_rotation(KeyId=self.key, RotationPeriodInDays=90)
        self.kms.disable_key_rotation(KeyId=self.key)
        self.assertNotIn("RotationPeriodInDays", self.status())

    def test_period_out_of_range_is_refused(self):
        # boto3 would refuse these itself; the server must too (the Rust SDK does not check).
        unchecked = boto3.session.Session().client(
            "kms",
            endpoint_url=self.launcher.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(parameter_validation=False, retries={"max_attempts": 1}),
        )
        for bad in (89, 2561):
            with self.subTest(period=bad):
                self.assertClientError(
                    "ValidationException",
                    400,
                    unchecked.enable_key_rotation,
                    KeyId=self.key,
                    RotationPeriodInDays=bad,
                )
        self.assertFalse(self.status()["KeyRotationEnabled"])

    def test_unknown_key_is_still_an_error(self):
        self.assertClientError(
            "NotFoundException",
            400,
            self.kms.get_key_rotation_status,
            KeyId="00000000-0000-0000-0000-000000000000",
        )


class S3SuspendedVersionDeleteTest(SharedServer):
    """Patch G: deleting named versions in a versioning-suspended bucket."""

    def setUp(self):
        self.s3 = self.launcher.client("s3")
        self.bucket = unique("suspended")
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.v1 = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"1")["VersionId"]
        self.v2 = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"2")["VersionId"]

    def suspend(self):
        self.s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Suspended"}
        )

    def versions(self):
        out = self.s3.list_object_versions(Bucket=self.bucket)
        return sorted(
            v["VersionId"] for v in out.get("Versions", []) + out.get("DeleteMarkers", [])
        )

    def test_emptying_a_suspended_bucket_with_delete_markers(self):
        marker = self.s3.delete_object(Bucket=self.bucket, Key="k")["VersionId"]
        self.suspend()
        self.assertEqual(self.versions(), sorted([self.v1, self.v2, marker]))
        out = self.s3.delete_objects(
            Bucket=self.bucket,
            Delete={
                "Objects": [
                    {"Key": "k", "VersionId": v} for v in (self.v1, self.v2, marker)
                ],
                "Quiet": True,
            },
        )
        self.assertNotIn("Errors", out)
        self.assertEqual(self.versions(), [])
        self.s3.delete_bucket(Bucket=self.bucket)

    def test_a_named_version_is_the_only_one_deleted(self):
        self.suspend()
        self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=self.v1)
        self.assertEqual(self.versions(), [self.v2])
        body = self.s3.get_object(Bucket=self.bucket, Key="k")["Body"].read()
        self.assertEqual(body, b"2")

    def test_enabled_buckets_are_unchanged(self):
        self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=self.v2)
        self.assertEqual(self.versions(), [self.v1])
        marker = self.s3.delete_object(Bucket=self.bucket, Key="k")
        self.assertEqual(marker["DeleteMarker"], True)
class S3ConditionalWriteTest(SharedServer):
    """What keel's S3 state backend relies on: conditional PUT and DELETE (moto's
    own 412 answers; patch I makes them atomic) and CopyObject's
    x-amz-copy-source-if-match (patch J)."""

    def setUp(self):
        self.s3 = self.launcher.client("s3")
        self.bucket = unique("conditional")
        self.s3.create_bucket(Bucket=self.bucket)

    def test_if_none_match_creates_only_once(self):
        self.s3.put_object(Bucket=self.bucket, Key="lock", Body=b"a", IfNoneMatch="*")
        self.assertClientError(
            "PreconditionFailed",
            412,
            self.s3.put_object,
            Bucket=self.bucket,
            Key="lock",
            Body=b"b",
            IfNoneMatch="*",
        )
        body = self.s3.get_object(Bucket=self.bucket, Key="lock")["Body"].read()
        self.assertEqual(body, b"a")

    def test_if_match_writes_only_over_the_expected_version(self):
        first = self.s3.put_object(Bucket=self.bucket, Key="state", Body=b"1")["ETag"]
        second = self.s3.put_object(
            Bucket=self.bucket, Key="state", Body=b"2", IfMatch=first
        )["ETag"]
        self.assertClientError(
            "PreconditionFailed",
            412,
            self.s3.put_object,
            Bucket=self.bucket,
            Key="state",
            Body=b"stale",
            IfMatch=first,
        )
        self.assertClientError(
            "PreconditionFailed",
            412,
            self.s3.delete_object,
            Bucket=self.bucket,
            Key="state",
            IfMatch=first,
        )
        body = self.s3.get_object(Bucket=self.bucket, Key="state")["Body"].read()
        self.assertEqual(body, b"2")
        self.s3.delete_object(Bucket=self.bucket, Key="state", IfMatch=second)
        self.assertClientError(
            "NoSuchKey", 404, self.s3.get_object, Bucket=self.bucket, Key="state"
        )

    def test_copy_source_if_match(self):
        etag = self.s3.put_object(Bucket=self.bucket, Key="state", Body=b"1")["ETag"]
        self.s3.copy_object(
            Bucket=self.bucket,
            Key="state.backup",
            CopySource={"Bucket": self.bucket, "Key": "state"},
            CopySourceIfMatch=etag,
        )
        self.s3.put_object(Bucket=self.bucket, Key="state", Body=b"2")
        self.assertClientError(
            "PreconditionFailed",
            412,
            self.s3.copy_object,
            Bucket=self.bucket,
            Key="state.backup",
            CopySource={"Bucket": self.bucket, "Key": "state"},
            CopySourceIfMatch=etag,
        )
        body = self.s3.get_object(Bucket=self.bucket, Key="state.backup")["Body"].read()
        self.assertEqual(body, b"1")


class S3AtomicConditionalWriteTest(unittest.TestCase):
    """Patch I, in this process: with the gap between moto's check and its write
    widened to 50 ms, concurrent If-None-Match: * PUTs still have one winner.
    Without the patch all of them succeed (checked when the patch was written)."""

    def test_one_winner_among_racing_creates(self):
        import threading

        sys.path.insert(0, HERE)
        import keel_moto
        from moto.s3.models import S3Backend
        from moto.server import ThreadedMotoServer

        keel_moto.patch_s3_atomic_conditional_writes()
        original = S3Backend.get_object

        def slow_get_object(self, *args, **kwargs):
            found = original(self, *args, **kwargs)
            time.sleep(0.05)
            return found

        S3Backend.get_object = slow_get_object
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()

            def client():
                return boto3.session.Session().client(
                    "s3",
                    endpoint_url=f"http://{host}:{port}",
                    region_name="us-east-1",
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    config=Config(
                        retries={"max_attempts": 1, "mode": "standard"},
                        s3={"addressing_style": "path"},
                    ),
                )

            bucket = unique("atomic")
            client().create_bucket(Bucket=bucket)
            for round_ in range(3):
                results: list[str] = []

                def create(i: int) -> None:
                    try:
                        client().put_object(
                            Bucket=bucket,
                            Key=f"lock-{round_}",
                            Body=str(i).encode(),
                            IfNoneMatch="*",
                        )
                        results.append("ok")
                    except botocore.exceptions.ClientError as err:
                        results.append(err.response["Error"]["Code"])

                threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(sorted(results), ["PreconditionFailed"] * 3 + ["ok"])
        finally:
            S3Backend.get_object = original
            server.stop()
class VpcIsolationTest(SharedServer):
    """Patch K: NAT gateways, VPC endpoints, network ACLs and rule ids as AWS has them."""

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")
        self.s3 = self.launcher.client("s3")
        self.vpc = self.ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.61.1.0/24")[
            "Subnet"
        ]["SubnetId"]

    def nat(self, nat_id):
        return self.ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]

    def test_batched_reads_filter_acls_and_endpoints_by_id(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        rt = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        vpce = self.ec2.create_vpc_endpoint(
            VpcId=self.vpc,
            ServiceName="com.amazonaws.us-east-1.s3",
            VpcEndpointType="Gateway",
            RouteTableIds=[rt],
        )["VpcEndpoint"]["VpcEndpointId"]
        acls = self.ec2.describe_network_acls(
            Filters=[{"Name": "network-acl-id", "Values": [acl, "acl-0000000000000000"]}]
        )["NetworkAcls"]
        self.assertEqual([a["NetworkAclId"] for a in acls], [acl])
        for name, value in (
            ("vpc-endpoint-id", vpce),
            ("vpc-id", self.vpc),
            ("service-name", "com.amazonaws.us-east-1.s3"),
        ):
            with self.subTest(filter=name):
                found = self.ec2.describe_vpc_endpoints(
                    Filters=[{"Name": name, "Values": [value]}]
                )["VpcEndpoints"]
                self.assertIn(vpce, [e["VpcEndpointId"] for e in found])
        none = self.ec2.describe_vpc_endpoints(
            Filters=[{"Name": "vpc-endpoint-id", "Values": ["vpce-0000000000000000"]}]
        )["VpcEndpoints"]
        self.assertEqual(none, [])

    def test_nat_gateway_keeps_its_private_ip_and_releases_its_eip_when_deleted(self):
        eip = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = self.ec2.create_nat_gateway(
            SubnetId=self.subnet, AllocationId=eip, PrivateIpAddress="10.61.1.77"
        )["NatGateway"]
        addr = self.nat(nat["NatGatewayId"])["NatGatewayAddresses"][0]
        self.assertEqual(addr["PrivateIp"], "10.61.1.77")
        eni = addr["NetworkInterfaceId"]
        address = self.ec2.describe_addresses(AllocationIds=[eip])["Addresses"][0]
        self.assertEqual(address["NetworkInterfaceId"], eni)
        self.assertEqual(address["PrivateIpAddress"], "10.61.1.77")

        self.ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
        self.assertEqual(self.nat(nat["NatGatewayId"])["State"], "deleted")
        address = self.ec2.describe_addresses(AllocationIds=[eip])["Addresses"][0]
        self.assertNotIn("AssociationId", address)
        enis = self.ec2.describe_network_interfaces(
            Filters=[{"Name": "subnet-id", "Values": [self.subnet]}]
        )["NetworkInterfaces"]
        self.assertNotIn(eni, [e["NetworkInterfaceId"] for e in enis])
        # The address is free again: a new NAT gateway can take it.
        again = self.ec2.create_nat_gateway(SubnetId=self.subnet, AllocationId=eip)[
            "NatGateway"
        ]
        ip = self.nat(again["NatGatewayId"])["NatGatewayAddresses"][0]["PrivateIp"]
        self.assertTrue(ip.startswith("10.61.1."), ip)

    def test_nat_gateway_errors_are_aws_errors(self):
        self.assertClientError(
            "NatGatewayNotFound",
            400,
            self.ec2.delete_nat_gateway,
            NatGatewayId="nat-0000000000000000",
        )
        self.assertClientError(
            "InvalidParameterValue",
            400,
            self.ec2.create_nat_gateway,
            SubnetId=self.subnet,
            ConnectivityType="private",
            PrivateIpAddress="10.99.0.5",
        )

    def test_gateway_endpoint_route_tables_policy_and_dns_change_in_place(self):
        rt_a = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        rt_b = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        vpce = self.ec2.create_vpc_endpoint(
            VpcId=self.vpc,
            ServiceName="com.amazonaws.us-east-1.s3",
            VpcEndpointType="Gateway",
            RouteTableIds=[rt_a],
            PolicyDocument=json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}
            ),
        )["VpcEndpoint"]["VpcEndpointId"]

        def pl_routes(rt):
            routes = self.ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]["Routes"]
            return [r.get("GatewayId") for r in routes if r.get("DestinationPrefixListId")]

        self.assertEqual(pl_routes(rt_a), [vpce])
        self.ec2.modify_vpc_endpoint(
            VpcEndpointId=vpce,
            AddRouteTableIds=[rt_b],
            RemoveRouteTableIds=[rt_a],
            ResetPolicy=True,
            PrivateDnsEnabled=False,
        )
        self.assertEqual(pl_routes(rt_a), [])
        self.assertEqual(pl_routes(rt_b), [vpce])
        e = self.ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]
        self.assertEqual(e["RouteTableIds"], [rt_b])
        self.assertEqual(json.loads(e["PolicyDocument"])["Statement"][0]["Action"], "*")
        self.assertFalse(e["PrivateDnsEnabled"])

    def test_prefix_lists_carry_their_cidrs(self):
        pls = self.ec2.describe_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": ["com.amazonaws.us-east-1.s3"]}]
        )["PrefixLists"]
        self.assertEqual(len(pls), 1)
        self.assertTrue(pls[0]["Cidrs"], pls[0])

    def test_acl_entries_keep_icmp_and_subnet_deletion_frees_the_acl(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=110,
            Protocol="1",
            RuleAction="allow",
            Egress=False,
            CidrBlock="10.61.0.0/16",
            IcmpTypeCode={"Type": 8, "Code": 0},
        )
        self.ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=120,
            Protocol="6",
            RuleAction="allow",
            Egress=False,
            CidrBlock="10.61.0.0/16",
            PortRange={"From": 443, "To": 443},
        )
        entries = self.ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
        by_rule = {e["RuleNumber"]: e for e in entries}
        self.assertEqual(by_rule[110]["IcmpTypeCode"], {"Type": 8, "Code": 0})
        self.assertEqual(by_rule[120]["PortRange"], {"From": 443, "To": 443})

        current = self.ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [self.subnet]}]
        )["NetworkAcls"][0]
        assoc = next(
            a["NetworkAclAssociationId"]
            for a in current["Associations"]
            if a["SubnetId"] == self.subnet
        )
        self.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
        self.ec2.delete_subnet(SubnetId=self.subnet)
        self.ec2.delete_network_acl(NetworkAclId=acl)
        self.assertEqual(
            self.ec2.describe_network_acls(
                Filters=[{"Name": "network-acl-id", "Values": [acl]}]
            )["NetworkAcls"],
            [],
        )

    def test_security_group_rules_change_their_source_in_place(self):
        group = self.ec2.create_security_group(
            GroupName=unique("sgr"), Description="d", VpcId=self.vpc
        )["GroupId"]
        rule = self.ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/64"}]}
            ],
        )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        self.ec2.modify_security_group_rules(
            GroupId=group,
            SecurityGroupRules=[
                {
                    "SecurityGroupRuleId": rule,
                    "SecurityGroupRule": {
                        "IpProtocol": "tcp",
                        "FromPort": 8443,
                        "ToPort": 8443,
                        "CidrIpv6": "2001:db8:1::/64",
                    },
                }
            ],
        )
        got = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule])[
            "SecurityGroupRules"
        ][0]
        self.assertEqual(got["CidrIpv6"], "2001:db8:1::/64")
        self.assertEqual(got["FromPort"], 8443)


class DescribeTagsOfDeletedObjectsTest(SharedServer):
    """Patch K.8: the tags of deleted objects are forgotten, as AWS does."""

    def test_deleted_objects_no_longer_carry_tags(self):
        ec2 = self.launcher.client("ec2")
        stack = unique("tags")
        spec = lambda kind: [  # noqa: E731
            {"ResourceType": kind, "Tags": [{"Key": "keel:stack", "Value": stack}]}
        ]
        vpc = ec2.create_vpc(CidrBlock="10.62.0.0/16", TagSpecifications=spec("vpc"))[
            "Vpc"
        ]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.62.1.0/24", TagSpecifications=spec("subnet")
        )["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip"))[
            "AllocationId"
        ]
        nat = ec2.create_nat_gateway(
            SubnetId=subnet, AllocationId=eip, TagSpecifications=spec("natgateway")
        )["NatGateway"]["NatGatewayId"]

        def tagged():
            tags = ec2.describe_tags(
                Filters=[
                    {"Name": "key", "Values": ["keel:stack"]},
                    {"Name": "value", "Values": [stack]},
                ]
            )["Tags"]
            return sorted(t["ResourceId"] for t in tags)

        self.assertEqual(tagged(), sorted([vpc, subnet, eip, nat]))
        ec2.delete_nat_gateway(NatGatewayId=nat)
        ec2.release_address(AllocationId=eip)
        ec2.delete_subnet(SubnetId=subnet)
        self.assertEqual(tagged(), [vpc])
        ec2.delete_vpc(VpcId=vpc)
        self.assertEqual(tagged(), [])
class DeletedResourceTagsTest(SharedServer):
    """Patch K.8 (modules work): DescribeTags lists only resources that still exist."""

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


class InstanceProfilePropagationTest(SharedServer):
    """Patch L: RunInstances refuses an instance profile created a moment ago."""

    def test_a_new_profile_is_refused_then_accepted(self):
        iam = self.launcher.client("iam")
        ec2 = self.launcher.client("ec2")
        name = unique("fresh-profile")
        arn = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
        for spec, param in (({"Name": name}, "name"), ({"Arn": arn}, "arn")):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                ec2.run_instances(
                    ImageId="ami-999844e0", MinCount=1, MaxCount=1, IamInstanceProfile=spec
                )
            err = ctx.exception.response["Error"]
            self.assertEqual(err["Code"], "InvalidParameterValue")
            self.assertIn(f"iamInstanceProfile.{param}", err["Message"])
        time.sleep(3.2)
        out = ec2.run_instances(
            ImageId="ami-999844e0", MinCount=1, MaxCount=1, IamInstanceProfile={"Name": name}
        )
        instance = out["Instances"][0]["InstanceId"]
        described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]
        self.assertIn(name, described["Instances"][0]["IamInstanceProfile"]["Arn"])
        ec2.terminate_instances(InstanceIds=[instance])


class LaunchTemplateCarryOverTest(SharedServer):
    """Patch M: instances launched from a template get its network interface,
    profile, IMDS settings and placement group; group rules keep descriptions;
    deleted templates' tags stop showing."""

    AMI = "ami-999844e0"

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")
        self.vpc = self.ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.43.1.0/24")[
            "Subnet"
        ]["SubnetId"]
        self.group = self.ec2.create_security_group(
            GroupName=unique("efa"), Description="efa", VpcId=self.vpc
        )["GroupId"]

    def template(self, **data):
        data.setdefault("ImageId", self.AMI)
        return self.ec2.create_launch_template(
            LaunchTemplateName=unique("lt"), LaunchTemplateData=data
        )["LaunchTemplate"]["LaunchTemplateId"]

    def launch(self, template, **kwargs):
        r = self.ec2.run_instances(
            MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateId": template}, **kwargs
        )
        iid = r["Instances"][0]["InstanceId"]
        return self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0][
            "Instances"
        ][0]

    def test_the_templates_interface_imds_and_placement_reach_the_instance(self):
        pg = unique("pg")
        self.ec2.create_placement_group(GroupName=pg, Strategy="cluster")
        template = self.template(
            MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
            Placement={"GroupName": pg},
            NetworkInterfaces=[
                {
                    "DeviceIndex": 0,
                    "NetworkCardIndex": 0,
                    "InterfaceType": "efa",
                    "SubnetId": self.subnet,
                    "Groups": [self.group],
                    "DeleteOnTermination": True,
                }
            ],
        )
        i = self.launch(template)
        self.assertEqual(i["SubnetId"], self.subnet)
        self.assertEqual(i["VpcId"], self.vpc)
        self.assertTrue(i["PrivateIpAddress"].startswith("10.43.1."), i["PrivateIpAddress"])
        self.assertNotIn("PublicIpAddress", i)
        self.assertEqual([g["GroupId"] for g in i["SecurityGroups"]], [self.group])
        nic = i["NetworkInterfaces"][0]
        self.assertEqual(nic["InterfaceType"], "efa")
        self.assertEqual([g["GroupId"] for g in nic["Groups"]], [self.group])
        self.assertEqual(i["MetadataOptions"]["HttpTokens"], "required")
        self.assertEqual(i["Placement"]["GroupName"], pg)

    def test_the_request_still_wins_over_the_template(self):
        other = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.43.2.0/24")[
            "Subnet"
        ]["SubnetId"]
        template = self.template(MetadataOptions={"HttpTokens": "required"})
        i = self.launch(
            template, SubnetId=other, MetadataOptions={"HttpTokens": "optional"}
        )
        self.assertEqual(i["SubnetId"], other)
        self.assertEqual(i["MetadataOptions"]["HttpTokens"], "optional")

    def test_the_templates_instance_profile_is_checked_and_associated(self):
        iam = self.launcher.client("iam")
        name = unique("lt-profile")
        iam.create_instance_profile(InstanceProfileName=name)
        template = self.template(
            IamInstanceProfile={"Name": name},
            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": self.subnet}],
        )
        # Patch L's propagation delay applies to a template's profile as well.
        err = self.assertClientError("InvalidParameterValue", 400, self.launch, template)
        self.assertIn("iamInstanceProfile.name", err["Error"]["Message"])
        time.sleep(3.2)
        i = self.launch(template)
        self.assertTrue(i["IamInstanceProfile"]["Arn"].endswith(f"/{name}"), i)
        missing = self.template(IamInstanceProfile={"Name": unique("no-such-profile")})
        with self.assertRaises(botocore.exceptions.ClientError):
            self.launch(missing)

    def test_a_group_rules_description_is_kept(self):
        out = self.ec2.authorize_security_group_ingress(
            GroupId=self.group,
            IpPermissions=[
                {
                    "IpProtocol": "-1",
                    "UserIdGroupPairs": [{"GroupId": self.group, "Description": "nodes"}],
                }
            ],
        )
        rule = out["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        described = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule])
        self.assertEqual(described["SecurityGroupRules"][0]["Description"], "nodes")
        prefix_list = self.ec2.describe_prefix_lists()["PrefixLists"][0]["PrefixListId"]
        out = self.ec2.authorize_security_group_egress(
            GroupId=self.group,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "PrefixListIds": [{"PrefixListId": prefix_list, "Description": "s3"}],
                }
            ],
        )
        rule = out["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        described = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule])
        self.assertEqual(described["SecurityGroupRules"][0]["Description"], "s3")
        self.assertEqual(described["SecurityGroupRules"][0]["PrefixListId"], prefix_list)

    def test_deleted_templates_and_volumes_lose_their_tags(self):
        template = self.template()
        key = unique("stack")
        self.ec2.create_tags(Resources=[template], Tags=[{"Key": "keel:stack", "Value": key}])
        tagged = {"Name": "tag:keel:stack", "Values": [key]}
        self.assertEqual(len(self.ec2.describe_tags(Filters=[tagged])["Tags"]), 1)
        self.ec2.delete_launch_template(LaunchTemplateId=template)
        self.assertEqual(self.ec2.describe_tags(Filters=[tagged])["Tags"], [])
        volume = self.ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
        self.ec2.create_tags(Resources=[volume], Tags=[{"Key": "keel:stack", "Value": key}])
        self.assertEqual(len(self.ec2.describe_tags(Filters=[tagged])["Tags"]), 1)
        self.ec2.delete_volume(VolumeId=volume)
        self.assertEqual(self.ec2.describe_tags(Filters=[tagged])["Tags"], [])


class AmiDeviceOverrideTest(SharedServer):
    """Patch N: a mapping of one of the AMI's devices takes the rest from the AMI."""

    # A Deep Learning AMI from moto's built-in list; its root device is /dev/xvda.
    AMI = "ami-999844e0"

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")

    def launch(self, device, ebs):
        r = self.ec2.run_instances(
            ImageId=self.AMI,
            MinCount=1,
            MaxCount=1,
            BlockDeviceMappings=[{"DeviceName": device, "Ebs": ebs}],
        )
        return r["Instances"][0]["InstanceId"]

    def volumes(self, instance_id):
        return self.ec2.describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
        )["Volumes"]

    def test_encrypting_the_root_device_alone_restores_the_ami_snapshot(self):
        [image] = self.ec2.describe_images(ImageIds=[self.AMI])["Images"]
        [root] = [
            m
            for m in image["BlockDeviceMappings"]
            if m["DeviceName"] == image["RootDeviceName"]
        ]
        iid = self.launch(image["RootDeviceName"], {"Encrypted": True})
        [volume] = self.volumes(iid)
        self.assertTrue(volume["Encrypted"])
        self.assertEqual(volume["SnapshotId"], root["Ebs"]["SnapshotId"])
        self.assertEqual(volume["Size"], root["Ebs"]["VolumeSize"])
        self.assertEqual(volume["Attachments"][0]["Device"], image["RootDeviceName"])

    def test_a_size_still_wins_over_the_snapshot_size(self):
        iid = self.launch("/dev/xvda", {"Encrypted": True, "VolumeSize": 100})
        [volume] = self.volumes(iid)
        self.assertEqual(volume["Size"], 100)

    def test_a_device_the_ami_does_not_map_still_needs_a_size(self):
        self.assertClientError(
            "MissingParameter", 400, self.launch, "/dev/sdf", {"Encrypted": True}
        )


class LaunchTemplatePagingTest(SharedServer):
    """Patch O: launch template listings page with NextToken instead of stopping."""

    def setUp(self):
        self.ec2 = self.launcher.client("ec2")
        prefix = f"paging-{uuid.uuid4().hex[:8]}"
        self.ids = [
            self.ec2.create_launch_template(
                LaunchTemplateName=f"{prefix}-{i}",
                LaunchTemplateData={"InstanceType": "g5.xlarge"},
            )["LaunchTemplate"]["LaunchTemplateId"]
            for i in range(7)
        ]

    def tearDown(self):
        for template in self.ids:
            self.ec2.delete_launch_template(LaunchTemplateId=template)

    def test_the_region_s_templates_come_in_pages(self):
        first = self.ec2.describe_launch_templates(MaxResults=5)
        self.assertEqual(len(first["LaunchTemplates"]), 5)
        self.assertIn("NextToken", first)
        pages = list(
            self.ec2.get_paginator("describe_launch_templates").paginate(
                PaginationConfig={"PageSize": 5}
            )
        )
        self.assertNotIn("NextToken", pages[-1])
        seen = [t["LaunchTemplateId"] for p in pages for t in p["LaunchTemplates"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(set(self.ids) <= set(seen))

    def test_templates_asked_for_by_id_all_come_at_once(self):
        got = self.ec2.describe_launch_templates(LaunchTemplateIds=self.ids)
        self.assertNotIn("NextToken", got)
        self.assertEqual(
            sorted(t["LaunchTemplateId"] for t in got["LaunchTemplates"]), sorted(self.ids)
        )

    def test_latest_versions_of_every_template_come_in_pages(self):
        pages = list(
            self.ec2.get_paginator("describe_launch_template_versions").paginate(
                Versions=["$Latest"], PaginationConfig={"PageSize": 5}
            )
        )
        self.assertGreaterEqual(len(pages), 2)
        self.assertTrue(all(len(p["LaunchTemplateVersions"]) <= 5 for p in pages))
        self.assertNotIn("NextToken", pages[-1])
        seen = [v["LaunchTemplateId"] for p in pages for v in p["LaunchTemplateVersions"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(set(self.ids) <= set(seen))

    def test_a_token_moto_never_gave_is_refused(self):
        self.assertClientError(
            "InvalidParameterValue",
            400,
            self.ec2.describe_launch_templates,
            MaxResults=5,
            NextToken="not-a-token",
        )


class PatchGuardTest(unittest.TestCase):
    """Startup fails loudly instead of silently mis-patching."""

    def test_applying_ec2_patch_twice_is_refused(self):
        sys.path.insert(0, HERE)
        import keel_moto

        keel_moto.patch_ec2_placement_groups()  # this test process: first time
        with self.assertRaises(keel_moto.PatchError) as ctx:
            keel_moto.patch_ec2_placement_groups()
        self.assertIn("already implements", str(ctx.exception))

    def test_applying_compute_patch_twice_is_refused(self):
        sys.path.insert(0, HERE)
        import keel_moto

        keel_moto.patch_ec2_compute()  # this test process: first time
        with self.assertRaises(keel_moto.PatchError) as ctx:
            keel_moto.patch_ec2_compute()
        self.assertIn("already applied", str(ctx.exception))


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
