"""Per-request context (correlation ID, client, tenant) and structured JSON logs that carry it."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")
_caller: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("caller", default={})  # noqa: B039
VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HEADER = "x-request-id"


def correlation_id() -> str:
    return _correlation_id.get()


def begin_request(incoming: str | None) -> str:
    """Adopt the caller's X-Request-ID when it is well-formed, else mint one."""
    value = incoming if incoming and VALID_ID.match(incoming) else uuid.uuid4().hex
    _correlation_id.set(value)
    _caller.set({})
    return value


def set_caller(**fields: str) -> None:
    _caller.set({**_caller.get(), **{k: v for k, v in fields.items() if v}})


def caller() -> dict[str, str]:
    return _caller.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's correlation ID and caller (client, tenant)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id(),
            **caller(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info and record.levelno >= logging.ERROR:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # mcpo logs every tool call's arguments (user code, possibly secrets) at INFO, and tracebacks of
    # tool errors; the gateway logs its own access line per request instead.
    for noisy in ("mcpo", "mcpo.main", "mcpo.utils.main", "httpx", "uvicorn.access", "mcp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
