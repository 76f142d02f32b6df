"""Sample event payloads, like the AWS console's "Event templates".

Each template is the event an AWS service sends to a function, with placeholder values
(account 123456789012, region us-east-1). ``sample_event(key)`` gives it as indented JSON
text ready for the form's payload editor.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SAMPLE_EVENTS", "sample_choices", "sample_event"]

_ACCOUNT = "123456789012"
_REGION = "us-east-1"
_TIME = "2024-01-01T12:00:00Z"

_API_GATEWAY_PROXY: dict[str, Any] = {
    "body": '{"message": "hello world"}',
    "resource": "/{proxy+}",
    "path": "/path/to/resource",
    "httpMethod": "POST",
    "isBase64Encoded": False,
    "queryStringParameters": {"foo": "bar"},
    "multiValueQueryStringParameters": {"foo": ["bar"]},
    "pathParameters": {"proxy": "/path/to/resource"},
    "stageVariables": {"baz": "qux"},
    "headers": {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": "1234567890.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "Custom User Agent String",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    },
    "requestContext": {
        "accountId": _ACCOUNT,
        "resourceId": "123456",
        "stage": "prod",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTime": "01/Jan/2024:12:00:00 +0000",
        "requestTimeEpoch": 1704110400000,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "Custom User Agent String"},
        "path": "/prod/path/to/resource",
        "resourcePath": "/{proxy+}",
        "httpMethod": "POST",
        "apiId": "1234567890",
        "protocol": "HTTP/1.1",
    },
}

_S3_PUT: dict[str, Any] = {
    "Records": [
        {
            "eventVersion": "2.0",
            "eventSource": "aws:s3",
            "awsRegion": _REGION,
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "EXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": "EXAMPLE123456789",
                "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "example-bucket",
                    "ownerIdentity": {"principalId": "EXAMPLE"},
                    "arn": "arn:aws:s3:::example-bucket",
                },
                "object": {
                    "key": "test/key",
                    "size": 1024,
                    "eTag": "0123456789abcdef0123456789abcdef",
                    "sequencer": "0A1B2C3D4E5F678901",
                },
            },
        }
    ]
}

_SNS: dict[str, Any] = {
    "Records": [
        {
            "EventVersion": "1.0",
            "EventSubscriptionArn": f"arn:aws:sns:{_REGION}:{_ACCOUNT}:ExampleTopic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",  # noqa: E501 - one ARN
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": "2019-01-02T12:45:07.000Z",
                "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "Message": "Hello from SNS!",
                "MessageAttributes": {"Test": {"Type": "String", "Value": "TestString"}},
                "Type": "Notification",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=...",
                "TopicArn": f"arn:aws:sns:{_REGION}:{_ACCOUNT}:ExampleTopic",
                "Subject": "example subject",
            },
        }
    ]
}

_SQS: dict[str, Any] = {
    "Records": [
        {
            "messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78",
            "receiptHandle": "MessageReceiptHandle",
            "body": "Hello from SQS!",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1523232000000",
                "SenderId": _ACCOUNT,
                "ApproximateFirstReceiveTimestamp": "1523232000001",
            },
            "messageAttributes": {},
            "md5OfBody": "7b270e59b47ff90a553787216d55d91d",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{_REGION}:{_ACCOUNT}:MyQueue",
            "awsRegion": _REGION,
        }
    ]
}

_SCHEDULED: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": _ACCOUNT,
    "time": _TIME,
    "region": _REGION,
    "resources": [f"arn:aws:events:{_REGION}:{_ACCOUNT}:rule/my-scheduled-rule"],
    "detail": {},
}

_ALARM_STATE: dict[str, Any] = {
    "version": "0",
    "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": _ACCOUNT,
    "time": _TIME,
    "region": _REGION,
    "resources": [f"arn:aws:cloudwatch:{_REGION}:{_ACCOUNT}:alarm:ServerCpuTooHigh"],
    "detail": {
        "alarmName": "ServerCpuTooHigh",
        "state": {
            "value": "ALARM",
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints [99.5] was greater than the threshold (90.0).",
            "timestamp": "2024-01-01T12:00:00.000+0000",
        },
        "previousState": {
            "value": "OK",
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints [12.0] was not greater "
            "than the threshold (90.0).",
            "timestamp": "2024-01-01T11:55:00.000+0000",
        },
        "configuration": {
            "description": "CPU above 90% for 5 minutes",
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": {
                            "namespace": "AWS/EC2",
                            "name": "CPUUtilization",
                            "dimensions": {"InstanceId": "i-0123456789abcdef0"},
                        },
                        "period": 300,
                        "stat": "Average",
                    },
                    "returnData": True,
                }
            ],
        },
    },
}

#: Template key -> (label shown in the form, the event), in the order the form lists them.
SAMPLE_EVENTS: dict[str, tuple[str, Any]] = {
    "empty": ("Empty", {}),
    "hello-world": ("Hello world", {"key1": "value1", "key2": "value2", "key3": "value3"}),
    "apigateway-proxy": ("API Gateway proxy", _API_GATEWAY_PROXY),
    "s3-put": ("S3 put", _S3_PUT),
    "sns": ("SNS notification", _SNS),
    "sqs": ("SQS receive message", _SQS),
    "eventbridge-scheduled": ("EventBridge scheduled event", _SCHEDULED),
    "cloudwatch-alarm": ("CloudWatch alarm state change", _ALARM_STATE),
}


def sample_choices() -> list[tuple[str, str]]:
    """(label, key) pairs for a dropdown, in display order."""
    return [(label, key) for key, (label, _event) in SAMPLE_EVENTS.items()]


def sample_event(key: str) -> str:
    """The template ``key`` as indented JSON text; KeyError names the known keys."""
    try:
        _label, event = SAMPLE_EVENTS[key]
    except KeyError:
        raise KeyError(f"unknown event template {key!r}; known: {', '.join(SAMPLE_EVENTS)}") from None
    return json.dumps(event, indent=2)
