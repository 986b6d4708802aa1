"""Structured logs: one JSON object per line, with context fields and never a full traceback."""

from __future__ import annotations

import json
import logging
import sys

from servers.common.logs import JsonFormatter


def record(message: str, **kwargs) -> logging.LogRecord:
    return logging.LogRecord("svc", logging.INFO, __file__, 1, message, (), None, **kwargs)


def test_a_line_is_json_with_context_and_extra_fields() -> None:
    formatter = JsonFormatter(lambda: {"correlation_id": "c-1"})
    line = record("hello %s")
    line.args = ("world",)
    line.fields = {"status": 200}
    entry = json.loads(formatter.format(line))
    assert entry["message"] == "hello world"
    assert entry["correlation_id"] == "c-1"
    assert entry["status"] == 200
    assert entry["level"] == "INFO" and entry["logger"] == "svc"


def test_errors_keep_only_the_exceptions_last_line() -> None:
    try:
        raise ValueError("token=abc in a local variable")
    except ValueError:
        exc_info = sys.exc_info()
    line = logging.LogRecord("svc", logging.ERROR, __file__, 1, "failed", (), exc_info)
    entry = json.loads(JsonFormatter().format(line))
    assert entry["error"] == "ValueError: token=abc in a local variable"
    assert "Traceback" not in json.dumps(entry)
