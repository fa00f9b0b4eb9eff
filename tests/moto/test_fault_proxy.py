"""Tests for fault_proxy.py, the fault-injecting proxy between the AWS SDK and moto.

Run with the python of the moto venv (scripts/moto-install):
    "$VENV/bin/python" -m unittest discover -s tests/moto -v

One moto (keel_moto.py) serves the module; each test starts its own proxy in front
of it and checks, through boto3 and by reading moto directly, that the proxy
forwards, fails, throttles and delays exactly what it was told to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request
import uuid

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "keel_moto.py")
PROXY = os.path.join(HERE, "fault_proxy.py")

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
RETRIES = Config(retries={"max_attempts": 10, "mode": "standard"})


def start(cmd: list[str], prefix: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = proc.stdout.readline().decode().strip()
    if not line.startswith(prefix):
        proc.kill()
        raise RuntimeError(f"{cmd[1]} printed {line!r}")
    return proc, line[len(prefix):]


def stop(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


def client(service: str, endpoint: str, config: Config = NO_RETRIES):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def error_code(err: botocore.exceptions.ClientError) -> str:
    return err.response["Error"]["Code"]


class FaultProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.moto, cls.moto_url = start([sys.executable, LAUNCHER], "KEEL_MOTO_ENDPOINT=")

    @classmethod
    def tearDownClass(cls) -> None:
        stop(cls.moto)

    def proxy(self, *args: str) -> str:
        proc, url = start(
            [sys.executable, PROXY, "--upstream", self.moto_url, *args],
            "KEEL_PROXY_ENDPOINT=",
        )
        self.addCleanup(stop, proc)
        self.assertTrue(url.startswith("http://127.0.0.1:"), url)
        return url

    def stats(self, url: str) -> dict:
        with urllib.request.urlopen(url + "/__keel/stats") as resp:
            return json.load(resp)

    def configure(self, url: str, settings: dict) -> None:
        req = urllib.request.Request(
            url + "/__keel/faults", data=json.dumps(settings).encode(), method="POST"
        )
        with urllib.request.urlopen(req) as resp:
            self.assertEqual(resp.status, 200)

    def vpc_exists(self, tag: str) -> bool:
        direct = client("ec2", self.moto_url)
        found = direct.describe_vpcs(Filters=[{"Name": "tag:t", "Values": [tag]}])["Vpcs"]
        return bool(found)

    def create_vpc(self, ec2, tag: str) -> None:
        ec2.create_vpc(
            CidrBlock="10.9.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "t", "Value": tag}]}],
        )

    def test_forwards_every_protocol_and_classifies_calls(self) -> None:
        url = self.proxy()
        tag = uuid.uuid4().hex
        ec2 = client("ec2", url)
        self.create_vpc(ec2, tag)
        self.assertTrue(self.vpc_exists(tag))
        bucket = "fp-" + uuid.uuid4().hex[:12]
        s3 = client("s3", url)
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
        self.assertEqual(s3.get_object(Bucket=bucket, Key="k")["Body"].read(), b"hello")
        client("iam", url).list_roles()
        key = client("kms", url).create_key()["KeyMetadata"]["KeyId"]
        self.assertTrue(client("kms", self.moto_url).describe_key(KeyId=key))

        log = self.stats(url)["log"]
        self.assertIn(["ec2", "CreateVpc", True, "forward"], log)
        self.assertIn(["s3", "PUT", True, "forward"], log)
        self.assertIn(["s3", "GET", False, "forward"], log)
        self.assertIn(["iam", "ListRoles", False, "forward"], log)
        self.assertIn(["kms", "CreateKey", True, "forward"], log)
        self.assertEqual(self.stats(url)["mutating"], 4)

    def test_fails_the_kth_mutating_call_before_it_reaches_moto(self) -> None:
        url = self.proxy("--fail-mutating-call", "2")
        ec2 = client("ec2", url)
        first, second, third = (uuid.uuid4().hex for _ in range(3))
        self.create_vpc(ec2, first)
        ec2.describe_vpcs()  # reads never count
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.create_vpc(ec2, second)
        self.assertEqual(error_code(caught.exception), "KeelInjectedFault")
        self.create_vpc(ec2, third)
        self.assertTrue(self.vpc_exists(first))
        self.assertFalse(self.vpc_exists(second))
        self.assertTrue(self.vpc_exists(third))
        self.assertEqual(self.stats(url)["failed"], ["ec2.CreateVpc"])

    def test_fail_after_lets_the_call_take_effect(self) -> None:
        url = self.proxy("--fail-mutating-call", "1", "--fail-mode", "after")
        tag = uuid.uuid4().hex
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.create_vpc(client("ec2", url), tag)
        self.assertEqual(error_code(caught.exception), "KeelInjectedFault")
        self.assertTrue(self.vpc_exists(tag))

    def test_injected_fault_is_not_retried(self) -> None:
        url = self.proxy("--fail-mutating-call", "1")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.create_vpc(client("ec2", url, RETRIES), uuid.uuid4().hex)
        self.assertEqual(self.stats(url)["calls"], 1)

    def test_throttling_speaks_each_services_error(self) -> None:
        url = self.proxy("--throttle", "1.0")
        cases = [
            ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),
            ("s3", lambda c: c.list_buckets(), "SlowDown"),
            ("iam", lambda c: c.list_roles(), "Throttling"),
            ("kms", lambda c: c.list_keys(), "ThrottlingException"),
        ]
        for service, call, code in cases:
            with self.subTest(service=service):
                with self.assertRaises(botocore.exceptions.ClientError) as caught:
                    call(client(service, url))
                self.assertEqual(error_code(caught.exception), code)

    def test_partial_throttling_is_absorbed_by_sdk_retries(self) -> None:
        url = self.proxy("--throttle", "0.3", "--seed", "7")
        ec2 = client("ec2", url, RETRIES)
        tags = [uuid.uuid4().hex for _ in range(10)]
        for tag in tags:
            self.create_vpc(ec2, tag)
        stats = self.stats(url)
        self.assertGreater(stats["throttled"], 0)
        self.assertEqual(stats["mutating"], 10)
        for tag in tags:
            self.assertTrue(self.vpc_exists(tag))

    def test_latency_and_reconfiguration(self) -> None:
        url = self.proxy("--latency-ms", "300")
        ec2 = client("ec2", url)
        started = time.monotonic()
        ec2.describe_vpcs()
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.configure(url, {"fail_mutating_call": 1})
        self.assertEqual(self.stats(url)["calls"], 0)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.create_vpc(ec2, uuid.uuid4().hex)


if __name__ == "__main__":
    unittest.main()
