"""Structured logs: one JSON object per line, shared by every mcpstack service (no MCP imports here,
so the gateway image, which has mcp 1.x, can use it too)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

Context = Callable[[], dict[str, str]]


class JsonFormatter(logging.Formatter):
    """`context` adds per-request fields (e.g. the correlation ID); `extra={"fields": {...}}` adds more."""

    def __init__(self, context: Context = dict) -> None:
        super().__init__()
        self._context = context

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self._context(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info and record.levelno >= logging.ERROR:
            # the exception's last line only: tracebacks can carry request data into logs
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", context: Context = dict, quiet: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(context))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
