"""Per-request context (correlation ID, client, tenant) and structured JSON logs that carry it."""

from __future__ import annotations

import contextvars
import re
import uuid

from servers.common.logs import configure_logging as shared_configure_logging

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


def _log_context() -> dict[str, str]:
    return {"correlation_id": correlation_id(), **caller()}


def configure_logging(level: str = "INFO") -> None:
    # mcpo logs every tool call's arguments (user code, possibly secrets) at INFO, and tracebacks of
    # tool errors; the gateway logs its own access line per request instead.
    shared_configure_logging(level, _log_context, quiet=("mcpo", "httpx", "uvicorn.access", "mcp"))
