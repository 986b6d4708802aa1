"""Turns what mcpo raises into problem details, installed as exception handlers on mcpo's sub-apps.

mcpo 0.0.20 reports a tool's `isError` result by raising HTTPException(500, {"message": text}) inside a
`try` whose `except Exception` re-raises it as HTTPException(500, {"message": "Unexpected error",
"error": str(inner)}): the double-wrapped body. The inner exception is the outer one's __context__, so
the tool's message is recovered from it intact, without parsing reprs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import httpx
from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from mcp.shared.exceptions import McpError
from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from servers.gateway import isolation, problems
from servers.gateway.problems import ProblemType
from servers.gateway.upstreams import EPOCH

logger = logging.getLogger("mcpstack.gateway.errors")
CONNECTION_ERRORS = (
    httpx.TransportError,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    ConnectionError,
    EOFError,
)
SESSION_GONE = "MCP session is not available"


def problem(kind: ProblemType, detail: str, status: int | None = None, **extra: Any) -> Response:
    return Response(
        json.dumps(problems.problem_body(kind, detail, status, **extra)),
        status_code=status or kind.status,
        media_type=problems.MEDIA_TYPE,
    )


def is_connection_error(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, CONNECTION_ERRORS):
            return True
        if isinstance(exc, McpError) and "connection closed" in exc.error.message.lower():
            return True
        if isinstance(exc, BaseExceptionGroup):
            return any(is_connection_error(e) for e in exc.exceptions)
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def install(
    app: FastAPI,
    route: str,
    on_connection_error: Callable[[], None],
    on_upstream_gone: Callable[[str, float | None], None] | None = None,
) -> None:
    """Replace a sub-app's error responses with problem details.

    `on_connection_error`: a call met a broken connection (check the upstream now); `on_upstream_gone(reason,
    epoch)`: a call could not connect at all (drop the route's connection, if it is still the one the call used).
    """
    gone = on_upstream_gone or (lambda _reason, _epoch: on_connection_error())

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        inner = exc.__context__
        if isinstance(exc, HTTPException) and isinstance(exc.detail, dict):
            if isinstance(inner, HTTPException) and isinstance(inner.detail, dict):
                message = str(inner.detail.get("message", ""))
                if message == SESSION_GONE:
                    on_connection_error()
                    return problem(problems.UPSTREAM_UNAVAILABLE, f"the {route!r} tool server is not connected")
                return problem(problems.TOOL_ERROR, message, route=route, tool=_tool(request))
            if isinstance(inner, McpError):
                return _mcp_error(inner, route, request, on_connection_error, gone)
            if isinstance(inner, TimeoutError):
                return problem(problems.UPSTREAM_TIMEOUT, f"the {route!r} tool server did not answer in time")
            if is_connection_error(inner):
                on_connection_error()
                return problem(problems.UPSTREAM_UNAVAILABLE, f"the {route!r} tool server is unreachable")
            logger.error("unexpected error calling %s/%s", route, _tool(request), exc_info=inner)
            return problem(problems.INTERNAL_ERROR, "unexpected error; quote the correlation_id when reporting it")
        kind = problems.for_status(exc.status_code)
        return problem(kind, _plain_detail(exc), status=exc.status_code)

    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if broken is not None:
            return problem(problems.MALFORMED_JSON, _json_position(broken, exc.body))
        fields = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "(body)",
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in errors
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return problem(problems.INVALID_ARGUMENTS, summary, errors=fields, route=route, tool=_tool(request))

    async def unexpected(request: Request, exc: Exception) -> Response:
        if is_connection_error(exc):
            on_connection_error()
            return problem(problems.UPSTREAM_UNAVAILABLE, f"the {route!r} tool server is unreachable")
        logger.error("unexpected error in %s", request.url.path, exc_info=exc)
        return problem(problems.INTERNAL_ERROR, "unexpected error; quote the correlation_id when reporting it")

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)


def _mcp_error(
    exc: McpError,
    route: str,
    request: Request,
    on_connection_error: Callable[[], None],
    on_upstream_gone: Callable[[str, float | None], None],
) -> Response:
    failure = isolation.failure_kind(exc.error.data)
    if failure is not None:  # this call's exchange failed; the others' go on (isolation.py)
        logger.warning(
            "%s/%s failed alone: %s", route, _tool(request), exc.error.message, extra={"fields": {"cause": failure}}
        )
    if failure == isolation.UNREACHABLE:
        on_upstream_gone(exc.error.message, request.scope.get(EPOCH))
        return problem(problems.UPSTREAM_UNAVAILABLE, f"the {route!r} tool server could not be reached")
    if failure == isolation.LOST:
        on_connection_error()
        return problem(problems.UPSTREAM_UNAVAILABLE, f"the connection to the {route!r} tool server broke")
    if failure == isolation.BAD_REPLY:
        return problem(problems.BAD_UPSTREAM_REPLY, f"the {route!r} tool server sent a broken reply", route=route)
    if exc.error.code == INVALID_PARAMS:
        return problem(problems.INVALID_ARGUMENTS, exc.error.message, route=route, tool=_tool(request))
    if exc.error.code == METHOD_NOT_FOUND:
        return problem(problems.NOT_FOUND, exc.error.message)
    return problem(problems.TOOL_ERROR, exc.error.message, route=route, tool=_tool(request))


def _tool(request: Request) -> str:
    return request.url.path.rstrip("/").rpartition("/")[2]


def _plain_detail(exc: StarletteHTTPException) -> str:
    return exc.detail if isinstance(exc.detail, str) else problems.for_status(exc.status_code).title


def _json_position(error: dict[str, Any], body: Any) -> str:
    loc = error.get("loc", ())
    reason = (error.get("ctx") or {}).get("error", "JSON decode error")
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    if position is None:
        return f"invalid JSON: {reason}"
    text = body if isinstance(body, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"invalid JSON at line {line}, column {column} (character {position}): {reason}"
