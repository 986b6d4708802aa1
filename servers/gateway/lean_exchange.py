"""The lean upstream exchange: one tools/call to a stateless streamable-HTTP upstream as one POST and its reply.

The SDK's client session sends every request through memory streams and task groups and validates each message
several times; for a stateless upstream (no session id, one JSON-RPC reply per POST) a tools/call needs none of
that. Here the request is encoded and the reply decoded with the SDK's own types (mcp.types), and the POST goes
out on the upstream's pooled, call-isolating HTTP client (upstream_client.py) with the headers the SDK sends:
Accept, Content-Type, MCP-Protocol-Version as negotiated at initialize, and the client's own (the route's
`headers:` from the gateway config, an upstream credential among them). A reply may be JSON or an event stream
(progress notifications, then the result). The exchange runs in the caller's task: when the caller is cancelled
(it hung up, or the gateway's time limit fired) the request is cancelled and its connection closed, so the
upstream sees the disconnect and stops the call (a sandbox run is killed: servers/common/disconnect.py).

Every way the exchange can fail ends this call alone, as an `UpstreamError` carrying the JSON-RPC error: the
upstream's own error, or one of isolation.py's failures (unreachable, lost, a broken reply: not JSON-RPC, another
request's id, cut off mid-reply, an HTTP error status).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from mcp.types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCResponse,
)
from pydantic import ValidationError

from servers.gateway.event_stream import events
from servers.gateway.isolation import BAD_REPLY, LEAN, failure_error

JSON, SSE = "application/json", "text/event-stream"
PROGRESS = "notifications/progress"
ProgressFn = Callable[[float, float | None, str | None], Awaitable[None]]


class UpstreamError(Exception):
    """The call's JSON-RPC error: the upstream's own, or the gateway's for a failed exchange (isolation.py)."""

    def __init__(self, error: ErrorData) -> None:
        super().__init__(error.message)
        self.error = error


class _Broken(Exception):
    """The reply cannot be a reply to this call; the reason says why."""


@dataclass(frozen=True)
class Target:
    """Where a lean tools/call goes: the upstream's endpoint, the HTTP client of its connection (its default
    headers and auth go on every request), the protocol version negotiated at initialize, and the slots bounding
    the calls in flight to the upstream (as many as the client's pool has connections: beyond that a call waits
    here, in constant time, rather than in httpcore's pool, which scans every waiting request against every
    connection whenever one is taken or freed: at 100 calls in flight that cost more than the call itself)."""

    url: str
    client: httpx.AsyncClient
    protocol_version: str
    slots: asyncio.Semaphore


def encode(request_id: int, name: str, arguments: dict[str, Any] | None, meta: dict[str, Any]) -> bytes:
    """The tools/call request as the SDK's types write it."""
    params = CallToolRequestParams.model_validate({"name": name, "arguments": arguments, "_meta": meta})
    request = JSONRPCRequest(
        jsonrpc="2.0",
        id=request_id,
        method="tools/call",
        params=params.model_dump(by_alias=True, mode="json", exclude_none=True),
    )
    return request.model_dump_json(by_alias=True, exclude_none=True).encode()


async def call_tool(
    target: Target,
    request_id: int,
    name: str,
    arguments: dict[str, Any] | None,
    meta: dict[str, Any],
    progress: ProgressFn | None = None,
) -> CallToolResult:
    """The upstream's result (an `isError` one included); else UpstreamError."""
    if progress is not None:
        meta = {**meta, "progressToken": request_id}
    try:
        content = encode(request_id, name, arguments, meta)
    except ValueError as exc:  # e.g. a lone surrogate: text that has no UTF-8 form
        raise UpstreamError(ErrorData(code=INVALID_PARAMS, message=f"the arguments cannot be sent: {exc}")) from None
    headers = {"accept": f"{JSON}, {SSE}", "content-type": JSON, "mcp-protocol-version": target.protocol_version}
    request = target.client.build_request("POST", target.url, content=content, headers=headers, extensions={LEAN: True})
    async with target.slots:
        return await _exchange(target.client, request, request_id, progress)


async def _exchange(
    client: httpx.AsyncClient, request: httpx.Request, request_id: int, progress: ProgressFn | None
) -> CallToolResult:
    response = await client.send(request, stream=True)
    try:
        content_type = response.headers.get("content-type", "").lower()
        if response.status_code != 200:
            raise _Broken(f"the upstream answered HTTP {response.status_code}")
        if content_type.startswith(JSON):
            reply = _parsed(await response.aread())
        elif content_type.startswith(SSE):
            reply = await _from_events(response, request_id, progress)
        else:
            raise _Broken(f"the upstream answered {content_type or 'no content type'}")
        return _result(reply, request_id)
    except httpx.TransportError as exc:
        raise _failure(f"the upstream hung up mid-reply ({type(exc).__name__})", request_id) from None
    except _Broken as exc:
        raise _failure(str(exc), request_id) from None
    finally:
        await response.aclose()


def _parsed(content: bytes | str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        raise _Broken(f"the upstream's reply is not JSON-RPC ({len(content)} bytes)") from None


async def _from_events(response: httpx.Response, request_id: int, progress: ProgressFn | None) -> Any:
    """The reply to `request_id` from an event stream; progress notifications for it go to `progress`."""
    async for event in events(response):
        if event.event != "message":
            continue
        message = _parsed(event.data)
        if not isinstance(message, dict) or "method" not in message:
            return message  # a reply: this call's, or a broken one
        params = message.get("params") or {}
        if progress is not None and message["method"] == PROGRESS and params.get("progressToken") == request_id:
            await progress(params.get("progress", 0), params.get("total"), params.get("message"))
        # any other notification, or a request to the client (which a stateless upstream cannot get answered
        # on another POST anyway), is not this call's business
    raise _Broken("the upstream's event stream ended without a reply")


def _result(reply: Any, request_id: int) -> CallToolResult:
    if not isinstance(reply, dict) or reply.get("id") != request_id:
        seen = reply.get("id") if isinstance(reply, dict) else None
        raise _Broken(f"the upstream's reply is not JSON-RPC for this call (id {seen!r})")
    try:
        if "error" in reply:
            raise UpstreamError(JSONRPCError.model_validate(reply).error)
        return CallToolResult.model_validate(JSONRPCResponse.model_validate(reply).result)
    except ValidationError:
        raise _Broken("the upstream's reply is not a tool result") from None


def _failure(reason: str, request_id: int) -> UpstreamError:
    return UpstreamError(ErrorData.model_validate(failure_error(BAD_REPLY, reason, request_id)))
