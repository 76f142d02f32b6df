"""Lambda's own log lines per LoggingConfig: text lines, JSON platform records, SystemLogLevel."""

from __future__ import annotations

import json

from lambda_magic.sandbox._logs import PlatformLog


def test_text_format_keeps_start_end_report() -> None:
    log = PlatformLog()
    assert log.start("r1", "$LATEST") == b"START RequestId: r1 Version: $LATEST\n"
    assert log.end("r1") == b"END RequestId: r1\n"
    report = log.report("r1", duration_ms=1.5, memory_mb=128, max_memory_mb=40, init_ms=None)
    assert report.startswith(b"REPORT RequestId: r1\tDuration: 1.50 ms")


def test_json_format_writes_platform_records() -> None:
    log = PlatformLog("JSON")
    start = json.loads(log.start("r1", "3"))
    assert (start["type"], start["record"]) == ("platform.start", {"requestId": "r1", "version": "3"})
    assert start["time"].endswith("Z")
    assert log.end("r1") == b""
    report = json.loads(
        log.report("r1", duration_ms=1.234, memory_mb=256, max_memory_mb=60, init_ms=20.0, status="timeout")
    )
    assert report["type"] == "platform.report"
    assert report["record"] == {
        "requestId": "r1",
        "status": "timeout",
        "metrics": {
            "durationMs": 1.23,
            "billedDurationMs": 2,
            "memorySizeMB": 256,
            "maxMemoryUsedMB": 60,
            "initDurationMs": 20.0,
        },
    }


def test_a_system_log_level_above_info_drops_platform_records() -> None:
    log = PlatformLog("JSON", "WARN")
    assert log.start("r1", "$LATEST") == b""
    assert log.report("r1", duration_ms=1, memory_mb=128, max_memory_mb=1, init_ms=None) == b""
    assert PlatformLog("JSON", "DEBUG").start("r1", "1")
