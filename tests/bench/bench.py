#!/usr/bin/env python3
"""keel's benchmarks, run by scripts/bench (which builds release keel, generates the
synthetic stacks and installs moto first). Prints Markdown tables to stdout; progress goes
to stderr. Times only the keel process: wall time from spawn to exit, and its peak
resident memory (ru_maxrss of that one child, from wait4).

    bench.py --keel target/release/keel --stacks DIR --sizes 1000 10000 50000
             --python MOTO_VENV_PYTHON [--refresh-sizes 10 100 250] [--only plan,start,refresh]

Nothing here asserts a duration: it measures and prints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """Runs cmd; returns (wall seconds, peak RSS in KiB, exit code, the last 4 KB of stdout
    and its summary line). A forked child's peak RSS starts at its parent's resident size,
    so this process never holds a large output: keel's is read back in pieces."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    found = ""
    for raw in out:
        if raw.startswith(b"Plan:") or raw.startswith(b"No changes"):
            found = raw.decode(errors="replace").strip()
    out.seek(max(0, out.tell() - 4096))
    text = out.read().decode(errors="replace") + "\n" + found
    if proc.returncode not in (0, 2):
        log(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{text[-2000:]}\n{err.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss, proc.returncode, text


def summary(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.startswith("Plan:") or line.startswith("No changes"):
            return line
    return "(no summary line)"


# --- plan without refresh at scale ---------------------------------------------------


def bench_plan(keel: Path, stacks: Path, sizes: list[int], repeat: int) -> None:
    print("### Plan without refresh\n")
    print("| instances | state | wall (best of %d) | peak RSS | plan |" % repeat)
    print("|---|---|---|---|---|")
    for n in sizes:
        stack = stacks / f"n{n}"
        full = stacks / f"n{n}.full.json"
        for kind in ("empty", "full", "full, -destroy"):
            walls, rss, line = [], [], ""
            for _ in range(repeat):
                work = Path(tempfile.mkdtemp(prefix="keel-bench-"))
                state = work / "state.json"
                if kind != "empty":
                    shutil.copy(full, state)
                destroy = ["-destroy"] if kind.endswith("-destroy") else []
                wall, maxrss, code, text = run(
                    [str(keel), "plan", *destroy, "-refresh=false", "-no-color", "-input=false", "-state", str(state), str(stack)],
                    cwd=work,
                )
                shutil.rmtree(work, ignore_errors=True)
                if code != 0:
                    sys.exit(f"keel plan failed on {stack} ({kind} state)")
                walls.append(wall)
                rss.append(maxrss)
                line = summary(text)
            print(f"| {n:,} | {kind} | {min(walls) * 1000:.0f} ms | {min(rss) / 1024:.0f} MB | {line} |", flush=True)
            log(f"plan n={n} {kind}: {min(walls):.3f}s {min(rss) / 1024:.0f}MB")
    print()


# --- moto ----------------------------------------------------------------------------


class Moto:
    """moto (patched by keel's compatibility layer) on 127.0.0.1, behind the fault proxy."""

    def __init__(self, python: str) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="keel-bench-moto-"))
        self.moto = subprocess.Popen(
            [python, str(REPO / "tests/moto/keel_moto.py"), "--foreground", "--pidfile", str(self.work / "moto.pid")],
            stdout=subprocess.PIPE, stderr=open(self.work / "moto.log", "w"), text=True,
        )
        self.endpoint = self._announced(self.moto, "KEEL_MOTO_ENDPOINT=")
        self.proxy = subprocess.Popen(
            [python, str(REPO / "tests/moto/fault_proxy.py"), "--upstream", self.endpoint],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.proxied = self._announced(self.proxy, "KEEL_PROXY_ENDPOINT=")

    @staticmethod
    def _announced(proc: subprocess.Popen, prefix: str) -> str:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(prefix):
                return line.strip()[len(prefix):]
        sys.exit(f"{prefix} never printed")

    def env(self, proxied: bool) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            AWS_ENDPOINT_URL=self.proxied if proxied else self.endpoint,
            AWS_ACCESS_KEY_ID="keel-bench", AWS_SECRET_ACCESS_KEY="keel-bench",
            AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
        )
        env.pop("AWS_PROFILE", None)
        return env

    def reset(self) -> None:
        req = urllib.request.Request(self.proxied + "/__keel/faults", data=b"{}", method="POST")
        urllib.request.urlopen(req).read()

    def stats(self) -> dict:
        return json.loads(urllib.request.urlopen(self.proxied + "/__keel/stats").read())

    def stop(self) -> None:
        for p in (self.proxy, self.moto):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def stack_dir(hcl: str) -> tuple[Path, Path]:
    work = Path(tempfile.mkdtemp(prefix="keel-bench-"))
    (work / "s").mkdir()
    (work / "s" / "main.hcl").write_text(hcl)
    return work, work / "s"


# --- two-resource plan, start-up to exit --------------------------------------------

TWO = """
resource "aws_vpc" "main" {
  cidr_block = "10.7.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.7.1.0/24"
}
"""


def bench_start(keel: Path, moto: Moto | None, repeat: int) -> None:
    print("### Two-resource plan, start-up to exit\n")
    print(f"| plan | wall (median of {repeat}) | best | peak RSS | API calls |")
    print("|---|---|---|---|---|")
    work, stack = stack_dir(TWO)
    args = [str(keel), "plan", "-no-color", "-input=false"]

    def measure(label: str, extra: list[str], env: dict[str, str] | None) -> None:
        # Timed straight against moto; the calls are counted in one more run through the
        # fault proxy, which adds its own latency to every call.
        walls, rss = [], []
        for _ in range(repeat):
            wall, maxrss, code, _ = run(args + extra + [str(stack)], cwd=work, env=env)
            if code != 0:
                sys.exit(f"two-resource plan failed ({label})")
            walls.append(wall)
            rss.append(maxrss)
        shown = "0"
        if moto and env:
            moto.reset()
            run(args + extra + [str(stack)], cwd=work, env=moto.env(proxied=True))
            shown = str(moto.stats()["calls"])
        print(f"| {label} | {statistics.median(walls) * 1000:.1f} ms | {min(walls) * 1000:.1f} ms | {min(rss) / 1024:.0f} MB | {shown} |", flush=True)

    measure("empty state, -refresh=false", ["-refresh=false"], None)
    if moto:
        env = moto.env(proxied=False)
        _, _, code, _ = run([str(keel), "apply", "-auto-approve", "-no-color", "-input=false", str(stack)], cwd=work, env=env)
        if code != 0:
            sys.exit("cannot apply the two-resource stack to moto")
        measure("applied state, -refresh=false", ["-refresh=false"], None)
        measure("applied state, refresh against moto", [], moto.env(proxied=False))
    shutil.rmtree(work, ignore_errors=True)
    print()


# --- refresh of n resources per EC2 type ---------------------------------------------

VPC = 'resource "aws_vpc" "main" {{\n  cidr_block = "10.0.0.0/16"\n}}\n'
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWpLZd8pMrXkUbdcvBTzTp7ByWHGBb4hX7P5WCQ0f6T bench"

# type -> (HCL with {n}, operations of its batched read beyond the one per page)
TYPES: dict[str, str] = {
    "aws_vpc": 'resource "aws_vpc" "r" {{\n  count = {n}\n  cidr_block = "10.0.0.0/16"\n}}\n',
    "aws_subnet": VPC + 'resource "aws_subnet" "r" {{\n  count = {n}\n  vpc_id = aws_vpc.main.id\n  cidr_block = cidrsubnet("10.0.0.0/16", 12, count.index)\n}}\n',
    "aws_security_group": VPC + 'resource "aws_security_group" "r" {{\n  count = {n}\n  name = "bench-${{count.index}}"\n  description = "bench"\n  vpc_id = aws_vpc.main.id\n}}\n',
    "aws_internet_gateway": 'resource "aws_internet_gateway" "r" {{\n  count = {n}\n}}\n',
    "aws_route_table": VPC + 'resource "aws_route_table" "r" {{\n  count = {n}\n  vpc_id = aws_vpc.main.id\n}}\n',
    "aws_network_acl": VPC + 'resource "aws_network_acl" "r" {{\n  count = {n}\n  vpc_id = aws_vpc.main.id\n}}\n',
    "aws_eip": 'resource "aws_eip" "r" {{\n  count = {n}\n  domain = "vpc"\n}}\n',
    "aws_placement_group": 'resource "aws_placement_group" "r" {{\n  count = {n}\n  name = "bench-${{count.index}}"\n  strategy = "cluster"\n}}\n',
    "aws_key_pair": 'resource "aws_key_pair" "r" {{\n  count = {n}\n  key_name = "bench-${{count.index}}"\n  public_key = "' + PUBKEY + '"\n}}\n',
    "aws_launch_template": 'resource "aws_launch_template" "r" {{\n  count = {n}\n  name = "bench-${{count.index}}"\n  instance_type = "t3.micro"\n}}\n',
    "aws_instance": VPC + 'resource "aws_subnet" "s" {{\n  vpc_id = aws_vpc.main.id\n  cidr_block = "10.0.0.0/20"\n}}\nresource "aws_instance" "r" {{\n  count = {n}\n  ami = "ami-12c6146b"\n  instance_type = "t3.micro"\n  subnet_id = aws_subnet.s.id\n  metadata_options {{\n    http_tokens = "required"\n  }}\n  root_block_device {{\n    encrypted = true\n    volume_size = 8\n  }}\n}}\n',
}
PAGE = 200


def bench_refresh(keel: Path, moto: Moto, sizes: list[int], types: list[str]) -> None:
    print("### Refresh of n resources per EC2 type, against moto\n")
    print(f"Calls are counted by the fault proxy; a page is {PAGE} ids. \"Calls for the type\" are those whose operation reads that type; \"other\" are the calls for the stack's other resources (a VPC or subnet the objects live in).\n")
    print("| type | n | calls for the type | ceil(n/200) | by operation | other calls | plan wall (refresh included) |")
    print("|---|---|---|---|---|---|---|")
    for type_ in types:
        for n in sizes:
            work, stack = stack_dir(TYPES[type_].format(n=n))
            env = moto.env(proxied=False)
            t0 = time.perf_counter()
            _, _, code, text = run([str(keel), "apply", "-auto-approve", "-no-color", "-input=false", "-parallelism=16", str(stack)], cwd=work, env=env)
            if code != 0:
                log(f"{type_} n={n}: apply failed, skipped\n{text[-1500:]}")
                print(f"| {type_} | {n} | apply failed against moto | | | | |")
                continue
            log(f"{type_} n={n}: created in {time.perf_counter() - t0:.1f}s")
            # Timed straight against moto, counted through the proxy (which adds latency).
            wall, _, _, _ = run([str(keel), "plan", "-no-color", "-input=false", str(stack)], cwd=work, env=env)
            moto.reset()
            _, _, code, text = run([str(keel), "plan", "-no-color", "-input=false", str(stack)], cwd=work, env=moto.env(proxied=True))
            stats = moto.stats()
            if code != 0 or "No changes" not in text:
                log(f"{type_} n={n}: plan after apply was not clean:\n{text[-1500:]}")
            ops: dict[str, int] = {}
            for entry in stats["log"]:
                ops[entry[1]] = ops.get(entry[1], 0) + 1
            mine = {op: c for op, c in ops.items() if reads_type(op, type_)}
            other = sum(ops.values()) - sum(mine.values())
            by_op = ", ".join(f"{op} {c}" for op, c in sorted(mine.items()))
            print(f"| {type_} | {n} | {sum(mine.values())} | {math.ceil(n / PAGE)} | {by_op} | {other} | {wall * 1000:.0f} ms |", flush=True)
            # Leave moto as small as we found it: the next type's calls stay comparable.
            run([str(keel), "destroy", "-auto-approve", "-no-color", "-input=false", "-parallelism=16", str(stack)], cwd=work, env=env)
            shutil.rmtree(work, ignore_errors=True)
    print()


# Operations that read each type (a VPC's read also reads its main route table, default
# ACL and default security group; an instance's its volumes and attributes).
READS = {
    "aws_vpc": ("DescribeVpcs", "DescribeVpcAttribute", "DescribeRouteTables", "DescribeNetworkAcls", "DescribeSecurityGroups"),
    "aws_subnet": ("DescribeSubnets",),
    "aws_security_group": ("DescribeSecurityGroups", "DescribeSecurityGroupRules"),
    "aws_internet_gateway": ("DescribeInternetGateways",),
    "aws_route_table": ("DescribeRouteTables",),
    "aws_network_acl": ("DescribeNetworkAcls",),
    "aws_eip": ("DescribeAddresses", "DescribeAddressesAttribute"),
    "aws_placement_group": ("DescribePlacementGroups",),
    "aws_key_pair": ("DescribeKeyPairs",),
    "aws_launch_template": ("DescribeLaunchTemplates", "DescribeLaunchTemplateVersions"),
    "aws_instance": ("DescribeInstances", "DescribeInstanceAttribute", "DescribeVolumes", "DescribeInstanceCreditSpecifications", "DescribeTags"),
}


def reads_type(op: str, type_: str) -> bool:
    return op in READS.get(type_, ())


def own_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keel", required=True, type=Path)
    ap.add_argument("--stacks", required=True, type=Path)
    ap.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000, 50000])
    ap.add_argument("--python", default=sys.executable, help="a python with moto installed")
    ap.add_argument("--refresh-sizes", nargs="+", type=int, default=[10, 100, 250])
    ap.add_argument("--types", nargs="+", default=list(TYPES))
    ap.add_argument("--only", default="plan,start,refresh")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    only = set(args.only.split(","))
    keel = args.keel.resolve()
    print(f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; keel {keel}")
    print(f"(peak RSS is measured from a fork of a {own_rss_mb():.0f} MB process: no lower figure can show)\n")
    if "plan" in only:
        bench_plan(keel, args.stacks.resolve(), args.sizes, args.repeat)
    moto = Moto(args.python) if only & {"start", "refresh"} else None
    try:
        if "start" in only:
            bench_start(keel, moto, 20)
        if "refresh" in only and moto:
            bench_refresh(keel, moto, args.refresh_sizes, args.types)
    finally:
        if moto:
            moto.stop()


if __name__ == "__main__":
    main()
