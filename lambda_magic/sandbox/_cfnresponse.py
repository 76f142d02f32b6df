"""``cfnresponse``, as CloudFormation provides it to ``ZipFile``/``InlineCode`` functions.

The sandbox copies this file as ``cfnresponse.py`` beside inline code. Same names and
arguments as AWS's module; it answers a custom resource request by PUTting the JSON result to
the event's pre-signed ``ResponseURL``. Standard library only: it runs inside a worker.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(
    event: dict[str, Any],
    context: Any,
    responseStatus: str,
    responseData: dict[str, Any] | None,
    physicalResourceId: str | None = None,
    noEcho: bool = False,
    reason: str | None = None,
) -> None:
    """PUT the custom resource's result to ``event["ResponseURL"]``."""
    body = json.dumps(
        {
            "Status": responseStatus,
            "Reason": reason or f"See the details in CloudWatch Log Stream: {context.log_stream_name}",
            "PhysicalResourceId": physicalResourceId or context.log_stream_name,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": noEcho,
            "Data": responseData,
        }
    ).encode()
    print("Response body:")
    print(body.decode())
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"content-type": "", "content-length": str(len(body))}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print("Status code:", response.status)
    except Exception as err:  # AWS's module logs and carries on as well
        print(f"send(..) failed executing http.request(..): {err}")
