"""Warm invoke round trip through the sandbox, next to boto3 against a fixed-answer server.

Both loops use one reused boto3 client and the same payload; the fake server is the minimal
loopback endpoint that answers every Invoke with a fixed body, so the ratio shows what the
sandbox adds (routing, a worker round trip through awslambdaric, logs) on top of boto3
itself. Run: ``python bench/bench_sandbox.py [--n 2000]``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

from lambda_magic.sandbox import Sandbox

_PAYLOAD = b'{"hello": "world", "n": 1}'
_FIXED = b'{"event": {"hello": "world", "n": 1}}'


class _FixedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"X-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: fixed\r\n"
            b"Content-Length: " + str(len(_FIXED)).encode() + b"\r\n\r\n" + _FIXED
        )

    def log_message(self, format: str, *args: object) -> None:
        pass


def _client(endpoint_url: str) -> object:
    return boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _measure(call: Callable[[], object], n: int, warmup: int = 50) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="measured calls per loop")
    args = parser.parse_args()

    fake = ThreadingHTTPServer(("127.0.0.1", 0), _FixedHandler)
    fake.daemon_threads = True
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    raw = _client(f"http://127.0.0.1:{fake.server_address[1]}")
    with Sandbox() as sb:
        client = _client(sb.endpoint_url)
        rounds = {
            "boto3 -> fixed-answer server": lambda: raw.invoke(  # type: ignore[attr-defined]
                FunctionName="echo", Payload=_PAYLOAD
            )["Payload"].read(),
            "boto3 -> sandbox (echo, warm)": lambda: client.invoke(  # type: ignore[attr-defined]
                FunctionName="echo", Payload=_PAYLOAD
            )["Payload"].read(),
        }
        results = {name: _summary(_measure(call, args.n)) for name, call in rounds.items()}
    fake.shutdown()
    fake.server_close()

    base_median, base_p90 = next(iter(results.values()))
    print(f"warm Invoke round trip, {args.n} calls each, one reused client\n")
    print(f"| {'loop':<32} | median ms | p90 ms | median ratio | p90 ratio |")
    print(f"|{'-' * 34}|-----------|--------|--------------|-----------|")
    for name, (median, p90) in results.items():
        print(f"| {name:<32} | {median:9.3f} | {p90:6.3f} | {median / base_median:11.2f}x | {p90 / base_p90:8.2f}x |")
    sandbox_median = results["boto3 -> sandbox (echo, warm)"][0]
    verdict = "meets" if sandbox_median < 3.0 else "misses"
    print(f"\nsandbox median {sandbox_median:.3f} ms {verdict} the 3 ms target")


if __name__ == "__main__":
    main()
