"""SigV4 signing of one Invoke request: the lean transport's signer, botocore's, and awscrt's.

Why the lean transport signs by hand: STYLE.md prefers awscrt (AWS's C runtime, botocore's
optional engine) over hand-written signing unless a measurement says otherwise. Each signer
signs the same request (method, path, the X-Amz-* headers, a small JSON payload, a session
token) with the same credentials; the table shows the best of several rounds per signature
and the ratio to the lean signer. Variants run interleaved. awscrt is measured only when it
is installed (``pip install awscrt``; it is not a dependency of lambda_magic).
Run: ``python bench/bench_signing.py [--rounds 5] [--calls 2000]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from hashlib import sha256

from _servers import bench_env

HOST = "lambda.us-east-1.amazonaws.com"
PATH = "/2015-03-31/functions/fn/invocations"
BODY = b'{"hello": "world", "n": 1}'
HEADERS = {"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "Tail", "User-Agent": "bench"}


def lean_prepare() -> Callable[[], str]:
    """The lean transport's whole ``prepare()``: every header, the canonical request, the signature."""
    from lambda_magic._client import invoker_for
    from lambda_magic._settings import resolve_settings

    transport = invoker_for(resolve_settings(endpoint_url=f"https://{HOST}", region="us-east-1"))
    transport._user_agent = "bench"  # no request through botocore to learn it
    params = {"FunctionName": "fn", "InvocationType": "RequestResponse", "LogType": "Tail", "Payload": BODY}
    return lambda: dict(transport.prepare(dict(params)).headers)["Authorization"]


def lean_signer() -> Callable[[], str]:
    """The lean signer alone, given the headers (what the other two rows do)."""
    from lambda_magic._transport import Signer, _canonical

    signer = Signer(region="us-east-1", service="lambda")

    def sign() -> str:
        amz_date = signer.timestamp()
        headers = [("Host", HOST), *HEADERS.items(), ("X-Amz-Date", amz_date), ("X-Amz-Security-Token", "token")]
        canonical, signed = _canonical(f"{PATH}\n", headers, BODY)
        return signer.authorization(
            access_key="bench", secret_key="bench", amz_date=amz_date, canonical=canonical, signed=signed
        )

    return sign


def botocore_signer() -> Callable[[], str]:
    """``botocore.auth.SigV4Auth.add_auth`` on an ``AWSRequest``."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = Credentials("bench", "bench", "token")

    def sign() -> str:
        request = AWSRequest("POST", f"https://{HOST}{PATH}", data=BODY, headers=dict(HEADERS))
        SigV4Auth(credentials, "lambda", "us-east-1").add_auth(request)
        return str(request.headers["Authorization"])

    return sign


def awscrt_signer() -> Callable[[], str] | None:
    """``awscrt.auth.aws_sign_request``, when awscrt is installed."""
    try:
        from awscrt import auth, http
    except ImportError:
        return None
    provider = auth.AwsCredentialsProvider.new_static("bench", "bench", "token")

    def sign() -> str:
        headers = http.HttpHeaders([("host", HOST), *HEADERS.items()])
        request = http.HttpRequest("POST", PATH, headers, None)
        config = auth.AwsSigningConfig(
            algorithm=auth.AwsSigningAlgorithm.V4,
            signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
            credentials_provider=provider,
            region="us-east-1",
            service="lambda",
            signed_body_value=sha256(BODY).hexdigest(),
            should_sign_header=lambda name: name.lower() != "user-agent",
        )
        auth.aws_sign_request(request, config).result()
        return str(request.headers.get("Authorization"))

    return sign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    bench_env()
    signers = {
        "lean signer (hand-written, key cached per day)": lean_signer(),
        "lean transport prepare() (the whole request)": lean_prepare(),
        "botocore SigV4Auth": botocore_signer(),
    }
    crt = awscrt_signer()
    if crt is not None:
        signers["awscrt aws_sign_request"] = crt
    best = dict.fromkeys(signers, float("inf"))
    for _ in range(args.rounds):
        for name, sign in signers.items():
            started = time.perf_counter()
            for _ in range(args.calls):
                sign()
            best[name] = min(best[name], (time.perf_counter() - started) / args.calls)
    base = best[next(iter(signers))]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| signer | per signature (best round) | x the lean signer |\n|---|---:|---:|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1e6:.1f} us | {seconds / base:.1f} |")
    if crt is None:
        print("\nawscrt is not installed: `pip install awscrt` adds its row")


if __name__ == "__main__":
    main()
