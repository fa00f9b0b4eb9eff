#!/usr/bin/env python3
"""keel's fault-injecting proxy: sits between the AWS SDK and moto and can fail,
throttle or delay chosen calls, so tests can prove that apply rolls back, retries
and stays consistent when AWS misbehaves.

Usage (any python3; it needs only the standard library):

    python fault_proxy.py --upstream http://127.0.0.1:MOTO_PORT [--port N]
        [--fail-mutating-call K] [--fail-mode before|after]
        [--throttle FRACTION] [--latency-ms MS] [--latency-mutating-only]
        [--seed N] [--log FILE]

* Binds to 127.0.0.1 only and prints exactly one line on stdout once listening:
      KEEL_PROXY_ENDPOINT=http://127.0.0.1:PORT
* Runs until stdin reaches EOF (so a parent that spawned it with a stdin pipe takes
  it down when it exits, even on kill -9) or SIGTERM/SIGINT.
* A "mutating" call is one that can change the cloud: for the query and JSON
  protocols (EC2, IAM, STS, KMS) an action not named Describe*/Get*/List*; for S3
  any PUT, POST or DELETE.
* --fail-mutating-call K fails the K-th mutating call (1-based) with HTTP 400 and
  the AWS error code `KeelInjectedFault`, which no SDK retries. With
  --fail-mode before (the default) the call never reaches moto; with
  --fail-mode after it is forwarded first and its answer replaced by the error,
  as when a response is lost after AWS acted.
* --throttle F answers a fraction F of calls (chosen with a seeded RNG) with the
  service's own throttling error (EC2 RequestLimitExceeded, IAM/STS Throttling,
  S3 SlowDown, KMS ThrottlingException), which the SDK retries with backoff.
* --latency-ms MS sleeps MS before forwarding every call (or only mutating ones
  with --latency-mutating-only).

Control while running, on the proxy's own port:
    GET  /__keel/stats   -> JSON: calls, mutating, throttled, failed, and a log
                            of [service, operation, mutating, outcome] per call
    POST /__keel/faults  <- JSON with any of fail_mutating_call, fail_mode,
                            throttle, latency_ms, latency_mutating_only, seed;
                            resets the counters and the log
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
CONTROL = "/__keel/"
INJECTED_CODE = "KeelInjectedFault"

# Headers that describe one hop of a connection, never forwarded.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
}

_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_READ_PREFIXES = ("Describe", "Get", "List")


class Faults:
    """What to inject, and what has happened so far. Shared by all handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.configure({})

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            self.fail_mutating_call = settings.get("fail_mutating_call")
            self.fail_mode = settings.get("fail_mode", "before")
            if self.fail_mode not in ("before", "after"):
                raise ValueError(f"fail_mode must be before or after, not {self.fail_mode!r}")
            self.throttle = float(settings.get("throttle", 0.0))
            self.latency_ms = float(settings.get("latency_ms", 0.0))
            self.latency_mutating_only = bool(settings.get("latency_mutating_only", False))
            self.rng = random.Random(settings.get("seed", 0))
            self.calls = 0
            self.mutating = 0
            self.throttled = 0
            self.failed: list[str] = []
            self.log: list[list[Any]] = []

    def decide(self, service: str, operation: str, mutating: bool) -> tuple[str, float]:
        """Returns (outcome, latency in seconds) for one call: forward, throttle,
        fail-before or fail-after."""
        with self.lock:
            self.calls += 1
            outcome = "forward"
            if self.throttle > 0 and self.rng.random() < self.throttle:
                outcome = "throttle"
                self.throttled += 1
            elif mutating:
                self.mutating += 1
                if self.fail_mutating_call == self.mutating:
                    outcome = "fail-" + self.fail_mode
                    self.failed.append(f"{service}.{operation}")
            self.log.append([service, operation, mutating, outcome])
            delay = 0.0
            if self.latency_ms and (mutating or not self.latency_mutating_only):
                delay = self.latency_ms / 1000.0
            return outcome, delay

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": self.calls,
                "mutating": self.mutating,
                "throttled": self.throttled,
                "failed": list(self.failed),
                "log": [list(entry) for entry in self.log],
            }


def classify(method: str, path: str, headers: Any, body: bytes) -> tuple[str, str, bool]:
    """(service, operation, mutating) of one SDK request."""
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    service = match.group(1) if match else "unknown"
    target = headers.get("X-Amz-Target")
    if target:  # JSON protocols: "TrentService.CreateKey"
        operation = target.rsplit(".", 1)[-1]
        return service, operation, not operation.startswith(_READ_PREFIXES)
    if service == "s3" or not body:
        query = urlsplit(path).query
        sub = ",".join(sorted(k for k in parse_qs(query, keep_blank_values=True)))
        operation = f"{method} {sub}" if sub else method
        return service, operation, method in ("PUT", "POST", "DELETE")
    form = parse_qs(body.decode("utf-8", "replace"))
    operation = form.get("Action", ["unknown"])[0]
    return service, operation, not operation.startswith(_READ_PREFIXES)


def error_response(service: str, code: str, message: str, status: int) -> tuple[int, dict[str, str], bytes]:
    """An error in the wire format of `service`'s protocol."""
    request_id = str(uuid.uuid4())
    if service == "ec2":
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
            f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()
    if service == "s3":
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
            f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return status, {"Content-Type": "application/xml"}, body.encode()
    if service in ("iam", "sts"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
            f"</ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()
    body = json.dumps({"__type": code, "message": message})
    return (
        status,
        {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code},
        body.encode(),
    )


def throttle_response(service: str) -> tuple[int, dict[str, str], bytes]:
    if service == "ec2":
        return error_response(service, "RequestLimitExceeded", "Request limit exceeded.", 503)
    if service == "s3":
        return error_response(service, "SlowDown", "Please reduce your request rate.", 503)
    if service in ("iam", "sts"):
        return error_response(service, "Throttling", "Rate exceeded", 400)
    return error_response(service, "ThrottlingException", "Rate exceeded", 400)


def make_handler(upstream: str, faults: Faults) -> type[BaseHTTPRequestHandler]:
    parts = urlsplit(upstream)
    up_host, up_port = parts.hostname or HOST, parts.port or 80
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # quiet: stats carry the log
            pass

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass  # trailers
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            for attempt in range(2):
                conn = getattr(local, "conn", None)
                if conn is None:
                    conn = http.client.HTTPConnection(up_host, up_port, timeout=300)
                    local.conn = conn
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    out = {
                        k: v
                        for k, v in resp.getheaders()
                        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
                    }
                    return resp.status, out, data
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
                    if attempt == 1:
                        raise
            raise AssertionError("unreachable")

        def _control(self, body: bytes) -> None:
            if self.command == "GET" and self.path == CONTROL + "stats":
                self._reply(200, {"Content-Type": "application/json"}, json.dumps(faults.stats()).encode())
            elif self.command == "POST" and self.path == CONTROL + "faults":
                try:
                    faults.configure(json.loads(body or b"{}"))
                except (ValueError, TypeError) as err:
                    self._reply(400, {"Content-Type": "text/plain"}, f"{err}\n".encode())
                    return
                self._reply(200, {"Content-Type": "application/json"}, b"{}")
            else:
                self._reply(404, {"Content-Type": "text/plain"}, b"unknown control path\n")

        def _handle(self) -> None:
            body = self._body()
            if self.path.startswith(CONTROL):
                self._control(body)
                return
            service, operation, mutating = classify(self.command, self.path, self.headers, body)
            outcome, delay = faults.decide(service, operation, mutating)
            if delay:
                time.sleep(delay)
            if outcome == "throttle":
                self._reply(*throttle_response(service))
                return
            message = (
                f"keel fault proxy: failed mutating call {service}.{operation} on purpose"
            )
            if outcome == "fail-before":
                self._reply(*error_response(service, INJECTED_CODE, message, 400))
                return
            try:
                answer = self._forward(body)
            except (http.client.HTTPException, OSError) as err:
                self._reply(502, {"Content-Type": "text/plain"}, f"upstream: {err}\n".encode())
                return
            if outcome == "fail-after":
                self._reply(*error_response(service, INJECTED_CODE, message + " (after it took effect)", 400))
                return
            self._reply(*answer)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="moto's endpoint, http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-mutating-call", type=int)
    parser.add_argument("--fail-mode", choices=["before", "after"], default="before")
    parser.add_argument("--throttle", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--latency-mutating-only", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if urlsplit(args.upstream).hostname != HOST:
        print("fault_proxy: --upstream must be on 127.0.0.1", file=sys.stderr)
        return 2
    faults = Faults()
    faults.configure(
        {
            "fail_mutating_call": args.fail_mutating_call,
            "fail_mode": args.fail_mode,
            "throttle": args.throttle,
            "latency_ms": args.latency_ms,
            "latency_mutating_only": args.latency_mutating_only,
            "seed": args.seed,
        }
    )
    try:
        server = ThreadingHTTPServer((HOST, args.port), make_handler(args.upstream, faults))
    except OSError as err:
        print(f"fault_proxy: cannot listen on {HOST}:{args.port}: {err}", file=sys.stderr)
        return 1
    server.daemon_threads = True

    def stop(*_args: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stdout.write(f"KEEL_PROXY_ENDPOINT=http://{HOST}:{server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
