"""Per-call isolation on the HTTP exchanges of mcpo's shared MCP client sessions.

The MCP SDK's streamable-HTTP client runs each request's POST in a task of the session's task group: any
exception there (the upstream answering 4xx/5xx, closing the connection mid-reply, or replying with something
that is not JSON-RPC) ends the whole transport, and with it every call in flight on the route. This httpx
transport sits under the SDK (its supported `httpx_client_factory` seam) and turns such a failed exchange into a
JSON-RPC error reply *for that request id only*, so the one call fails (the gateway answers 502, or 503 when the
connection broke) while the session and the other calls carry on. When no connection can be made at all, the
upstream is gone: the gateway then drops the route's connection at once (upstreams.py) rather than let every
call find out by itself; the supervisor's pings, which take the same path, notice it too.

For the legacy SSE transport, whose replies come on a separate stream, a failed POST is reported to the SDK as
accepted (202): the call then ends at the gateway's time limit instead of taking the transport down.

A request of the lean exchange (lean_exchange.py, marked with the `LEAN` extension) gets the same treatment of
failed connections and HTTP errors, but its successful reply is handed over unread: the exchange decodes it once,
and reports a broken one the same way (`failure_error`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import httpx
from mcp.types import JSONRPCMessage
from pydantic import TypeAdapter, ValidationError

from servers.gateway.upstreams import describe_error

logger = logging.getLogger("mcpstack.gateway.isolation")
FAILURE_KEY = "io.mcpstack/failure"  # in the synthetic error's data: one of the three kinds below
BAD_REPLY = "bad-upstream-reply"  # an HTTP error, not JSON-RPC, cut off mid-reply: this call fails (502)
LOST = "exchange-lost"  # the connection broke during this exchange: this call fails (503), the route is pinged
UNREACHABLE = "upstream-unreachable"  # no connection could be made: the upstream is gone, the route reconnects
ERROR_CODE = -32099  # JSON-RPC's implementation-defined server error range
LEAN = "mcpstack.lean"  # a request extension: the lean exchange reads and checks the reply itself
_BODY_FRAMING = {"content-length", "content-encoding", "transfer-encoding"}  # of the original, already decoded body
Mode = Literal["reply", "accept"]
_MESSAGE = TypeAdapter(JSONRPCMessage)


class IsolatingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, mode: Mode = "reply") -> None:
        self._inner = inner
        self._mode = mode

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return await self._inner.handle_async_request(request)
        try:
            response = await self._inner.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return self._failed(request, UNREACHABLE, describe_error(exc))
        except httpx.TransportError as exc:
            return self._failed(request, LOST, describe_error(exc))
        if response.status_code == 404:  # the SDK reports "session terminated" for the call itself
            return response
        if response.status_code >= 300:
            await _discard(response)
            return self._failed(request, BAD_REPLY, f"the upstream answered HTTP {response.status_code}")
        json_reply = response.headers.get("content-type", "").startswith("application/json")
        if self._mode == "accept" or response.status_code != 200 or not json_reply or request.extensions.get(LEAN):
            return response
        return await self._checked(request, response)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _checked(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """A JSON reply read whole and checked to be a JSON-RPC message, else the call's failure."""
        try:
            content = await response.aread()
        except httpx.TransportError as exc:
            return self._failed(request, BAD_REPLY, f"the upstream hung up mid-reply ({describe_error(exc)})")
        finally:
            await response.aclose()
        try:
            _MESSAGE.validate_json(content)
        except ValidationError:
            return self._failed(request, BAD_REPLY, f"the upstream's reply is not JSON-RPC ({len(content)} bytes)")
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_FRAMING]
        return httpx.Response(response.status_code, headers=headers, content=content, request=request)

    def _failed(self, request: httpx.Request, kind: str, reason: str) -> httpx.Response:
        request_id = _request_id(request)
        error = failure_error(kind, reason, request_id)
        if self._mode == "accept" or request_id is None:  # SSE, or a notification: nothing waits for a reply
            return httpx.Response(202, request=request)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": request_id, "error": error}, request=request)


def failure_error(kind: str, reason: str, request_id: Any) -> dict[str, Any]:
    """The JSON-RPC error (as a dict) that fails one call's exchange, logged with its cause."""
    logger.warning(
        "upstream exchange failed: %s", reason, extra={"fields": {"cause": kind, "jsonrpc_id": str(request_id)}}
    )
    return {"code": ERROR_CODE, "message": f"mcpstack gateway: {reason}", "data": {FAILURE_KEY: kind}}


def failure_kind(data: Any) -> str | None:
    """The isolation failure an McpError's data reports, if it is one of ours."""
    return data.get(FAILURE_KEY) if isinstance(data, dict) else None


def _request_id(request: httpx.Request) -> Any:
    try:
        message = json.loads(request.content)
    except (ValueError, httpx.RequestNotRead):
        return None
    if isinstance(message, dict) and "method" in message and "id" in message:
        return message["id"]
    return None


async def _discard(response: httpx.Response) -> None:
    try:
        await response.aread()
    except httpx.TransportError:
        pass
    finally:
        await response.aclose()
