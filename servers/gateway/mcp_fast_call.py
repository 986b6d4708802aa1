"""The MCP front's fast path: a plain tools/call answered without the SDK's per-request server machinery.

The SDK's stateless transport builds, for every POST, a transport, a server session, task groups and memory
streams (profiling: over 40% of the front's CPU per call). A POST that is one JSON-RPC `tools/call` request, that
the SDK's JSON-response transport would accept, is answered here instead, by the same handler (mcp_server.py:
tenant enforcement of the tool name, rate limits, concurrency slots, metrics, the access log's fields) and with
the same bytes the SDK would send: `application/json`, the JSON-RPC response or error as the SDK's types write
it. The request is checked exactly as the SDK checks it, with the SDK's own pieces where they are public API:

- Host, Origin and Content-Type by the SDK's `TransportSecurityMiddleware` with the front's settings;
- Accept: `application/json` among the types (JSON-response mode asks for no more), and a Content-Type whose
  `application/json` part the transport accepts;
- the protocol version header one of the SDK's supported versions (absent: its default, 2025-03-26);
- the body parsed and validated as the SDK's session does: a JSON-RPC request (not a batch, not a notification)
  whose `tools/call` parameters are valid (`CallToolRequest`).

Anything else (initialize, tools/list, ping, notifications, GET/DELETE, a batch, a request asking for progress,
any check that fails) returns None and goes to the SDK's transport unchanged, which then answers or refuses it.
"""

from __future__ import annotations

import asyncio
import json

from mcp.server.streamable_http import CONTENT_TYPE_JSON, MCP_PROTOCOL_VERSION_HEADER
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.exceptions import McpError
from mcp.shared.version import SUPPORTED_PROTOCOL_VERSIONS
from mcp.types import (
    DEFAULT_NEGOTIATED_VERSION,
    CallToolRequest,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCRequest,
    JSONRPCResponse,
)
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from servers.gateway.mcp_server import McpToolServer
from servers.gateway.middleware import Message, Receive, Scope, Send

TOOLS_CALL = "tools/call"
DISCONNECT = "http.disconnect"
PROGRESS_TOKEN = b'"progressToken"'  # progress needs the SDK's session (and an event stream) to reach the caller
_ASKED = (b"accept", b"content-type", MCP_PROTOCOL_VERSION_HEADER.encode())


class FastCall:
    """Answers the front's plain tools/calls; `served` counts them (the tests check which path answered)."""

    def __init__(self, tools: McpToolServer, security: TransportSecuritySettings) -> None:
        self._tools = tools
        self._security = TransportSecurityMiddleware(security)
        self.served = 0

    async def accepts(self, scope: Scope, body: bytes) -> tuple[JSONRPCRequest, CallToolRequest] | None:
        """The POST's tools/call, when the fast path answers it as the SDK would; else None."""
        if PROGRESS_TOKEN in body or not _headers_acceptable(scope):
            return None
        if await self._security.validate_request(HTTPConnection(scope), is_post=True) is not None:
            return None
        try:
            message = JSONRPCMessage.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # not JSON (or not UTF-8), or not JSON-RPC: the SDK refuses it
            return None
        request = message.root
        if not isinstance(request, JSONRPCRequest) or request.method != TOOLS_CALL:
            return None
        try:  # as the SDK's session validates a request it received, against the one member of its
            # `ClientRequest` union whose method is tools/call (the union tries all of them: 10x the time)
            call = CallToolRequest.model_validate(request.model_dump(by_alias=True, mode="json", exclude_none=True))
        except ValidationError:
            return None
        return request, call

    async def answer(
        self, request: JSONRPCRequest, call: CallToolRequest, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """The call's JSON-RPC response, as the SDK's server and JSON-response transport write it; False when
        the client hung up first: the call was cancelled (its upstream request with it) and nothing was sent.

        The hang-up watch is hangup.py's, in plain asyncio: the next `receive()` after the body returns only
        when the client is gone (or the response is complete), and then cancels this task, as asyncio.timeout
        does: cheaper than a task group and cancel scopes per request (anyio's were 21% of the front's CPU)."""
        await receive()  # the body, replayed
        self.served += 1
        task = asyncio.current_task()
        assert task is not None
        hung_up = finished = False

        def watched(watch: asyncio.Future[Message]) -> None:
            nonlocal hung_up
            if watch.cancelled() or watch.exception() is not None or finished:
                return
            if watch.result()["type"] == DISCONNECT:
                hung_up = True
                task.cancel()

        watch = asyncio.ensure_future(receive())
        watch.add_done_callback(watched)
        try:
            reply = await self._reply(request, call, scope)
        except asyncio.CancelledError:
            if hung_up and task.uncancel() == 0:
                return False
            raise
        finally:
            finished = True  # a watch that ends from here on (its callback may be queued already) cancels nothing
            watch.cancel()
        body = reply.model_dump_json(by_alias=True, exclude_none=True).encode()
        headers = [(b"content-type", CONTENT_TYPE_JSON.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    async def _reply(self, request: JSONRPCRequest, call: CallToolRequest, scope: Scope) -> JSONRPCMessage:
        try:
            result = await self._tools.call_tool(scope, call, None)
        except McpError as exc:
            return JSONRPCMessage(JSONRPCError(jsonrpc="2.0", id=request.id, error=exc.error))
        except Exception as exc:  # what the SDK's server answers for a handler's unexpected failure
            error = ErrorData(code=0, message=str(exc))
            return JSONRPCMessage(JSONRPCError(jsonrpc="2.0", id=request.id, error=error))
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        return JSONRPCMessage(JSONRPCResponse(jsonrpc="2.0", id=request.id, result=dumped))


def _headers_acceptable(scope: Scope) -> bool:
    """Accept, Content-Type and protocol version as the SDK's JSON-response transport accepts them (the first
    of each header counts, as in Starlette)."""
    found: dict[bytes, str] = {}
    for raw_name, value in scope["headers"]:
        name = raw_name.lower()
        if name in _ASKED and name not in found:
            found[name] = value.decode("latin-1")
    accepted = [media.strip() for media in found.get(b"accept", "").split(",")]
    if not any(media.startswith(CONTENT_TYPE_JSON) for media in accepted):
        return False
    content_type = found.get(b"content-type", "")
    if not any(part.strip() == CONTENT_TYPE_JSON for part in content_type.split(";")[0].split(",")):
        return False
    version = found.get(MCP_PROTOCOL_VERSION_HEADER.encode(), DEFAULT_NEGOTIATED_VERSION)
    return version in SUPPORTED_PROTOCOL_VERSIONS
