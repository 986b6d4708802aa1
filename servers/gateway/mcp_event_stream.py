"""The MCP front's GET stream: where a client hears that the tools it may see have changed.

Streamable HTTP lets a client open an SSE stream with a GET to the MCP endpoint, for messages the server sends on
its own. The front sends one kind: `notifications/tools/list_changed`, when the tools the caller's tenant may see
on the route differ from what the stream last stood for (tool_list_watch.py wakes it). Every event's id is the
fingerprint of those tools, so the stream needs no state on any replica: a client that reconnects with
`Last-Event-ID` (any replica, after a restart) is told at once if the tools changed meanwhile, and otherwise not.
The stream opens with a priming event (an id, no data; 2025-11-25), so even a client that has heard nothing can
resume. Comments keep idle connections open through proxies; the stream ends after `MAX_SECONDS` (the client
reconnects, perhaps to another replica) or when the gateway shuts down.

A GET is served here only when the SDK's transport would accept it: `Accept` names `text/event-stream`, the
protocol version is one the SDK supports, Host and Origin pass the SDK's `TransportSecurityMiddleware`. Anything
else goes to the SDK's transport, which refuses it with its own answer (406, 400, 421...).
"""

from __future__ import annotations

import asyncio
import contextlib

from mcp.server.streamable_http import CONTENT_TYPE_SSE, LAST_EVENT_ID_HEADER, MCP_PROTOCOL_VERSION_HEADER
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.version import SUPPORTED_PROTOCOL_VERSIONS
from mcp.types import DEFAULT_NEGOTIATED_VERSION, JSONRPCMessage, JSONRPCNotification
from starlette.requests import HTTPConnection

from servers.gateway.front_request import FrontRequest
from servers.gateway.http_server import SHUTTING_DOWN
from servers.gateway.mcp_metrics import McpMetrics
from servers.gateway.mcp_proxy import UpstreamTools
from servers.gateway.middleware import Message, Receive, Scope, Send
from servers.gateway.tool_list_watch import Subscription, ToolListWatch

KEEPALIVE_SECONDS = 15.0
MAX_SECONDS = 600.0  # then the client reconnects (with Last-Event-ID), perhaps to another replica
RETRY_MILLISECONDS = 1000
LIST_CHANGED = (
    JSONRPCMessage(JSONRPCNotification(jsonrpc="2.0", method="notifications/tools/list_changed"))
    .model_dump_json(by_alias=True, exclude_none=True)
    .encode()
)


class EventStreams:
    def __init__(
        self, tools: UpstreamTools, watch: ToolListWatch, security: TransportSecuritySettings, metrics: McpMetrics
    ) -> None:
        self.tools, self.watch, self.metrics = tools, watch, metrics
        self._security = TransportSecurityMiddleware(security)
        self.closing = asyncio.Event()  # set at shutdown: every stream ends

    async def accepts(self, scope: Scope) -> bool:
        """Whether the SDK's transport would accept this GET (else it answers it, with its own refusal)."""
        headers = HTTPConnection(scope).headers
        accepted = [media.strip() for media in headers.get("accept", "").split(",")]
        if not any(media.startswith(CONTENT_TYPE_SSE) for media in accepted):
            return False
        if headers.get(MCP_PROTOCOL_VERSION_HEADER, DEFAULT_NEGOTIATED_VERSION) not in SUPPORTED_PROTOCOL_VERSIONS:
            return False
        return await self._security.validate_request(HTTPConnection(scope), is_post=False) is None

    async def serve(self, front: FrontRequest, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the caller's tool-list changes until it hangs up, MAX_SECONDS pass or the gateway stops.
        Raises the Refusal (429) when the caller has too many streams open."""
        with self.watch.subscribe(front.upstream_names, front.caller) as subscription:
            self.metrics.event_streams.inc()
            try:
                await self._stream(front, subscription, scope, receive, send)
            finally:
                self.metrics.event_streams.dec()

    async def _stream(
        self, front: FrontRequest, subscription: Subscription, scope: Scope, receive: Receive, send: Send
    ) -> None:
        sent = await self._fingerprint(front)
        resumed = HTTPConnection(scope).headers.get(LAST_EVENT_ID_HEADER)
        headers = [
            (b"content-type", CONTENT_TYPE_SSE.encode()),
            (b"cache-control", b"no-cache, no-transform"),
            (b"x-accel-buffering", b"no"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        missed = resumed is not None and sent is not None and resumed != sent
        await _event(send, sent, LIST_CHANGED if missed else b"", retry=True)  # else a priming event
        if missed:
            self.metrics.notifications.labels(front.route).inc()
        async with _until_gone(receive, self.closing, SHUTTING_DOWN) as gone:
            deadline = asyncio.get_running_loop().time() + MAX_SECONDS
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                if not await _woken(subscription.changed, gone, min(KEEPALIVE_SECONDS, left)):
                    await send({"type": "http.response.body", "body": b": keep-alive\n\n", "more_body": True})
                    continue
                if gone.is_set():
                    break
                subscription.changed.clear()
                now = self._latest(front)
                if now is not None and now != sent:
                    await _event(send, now, LIST_CHANGED)
                    self.metrics.notifications.labels(front.route).inc()
                    sent = now
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _fingerprint(self, front: FrontRequest) -> str | None:
        """What the caller sees now (listing the upstreams if needed); a member whose upstream is down counts as
        unknown: the stream still opens, and its tools' return is a change."""
        listings = await asyncio.gather(
            *(self.tools.tools(m.upstream, m.route) for m in front.members), return_exceptions=True
        )
        return front.fingerprint([None if isinstance(tools, BaseException) else tools for tools in listings])

    def _latest(self, front: FrontRequest) -> str | None:
        return front.fingerprint([self.tools.latest(member.upstream.name) for member in front.members])


async def _woken(changed: asyncio.Event, gone: asyncio.Event, within: float) -> bool:
    """Wait for a change or the end, at most `within` seconds; False if neither came."""
    waits = [asyncio.ensure_future(changed.wait()), asyncio.ensure_future(gone.wait())]
    try:
        done, _ = await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return bool(done)


async def _event(send: Send, event_id: str | None, data: bytes, *, retry: bool = False) -> None:
    lines = [b"event: message"]
    if event_id is not None:
        lines.append(b"id: " + event_id.encode())
    if retry:
        lines.append(b"retry: %d" % RETRY_MILLISECONDS)
    lines.append(b"data: " + data)
    await send({"type": "http.response.body", "body": b"\n".join(lines) + b"\n\n", "more_body": True})


@contextlib.asynccontextmanager
async def _until_gone(receive: Receive, *closing: asyncio.Event):  # type: ignore[no-untyped-def]
    """An event set when the client hangs up or any of `closing` is set (the gateway shuts down)."""
    gone = asyncio.Event()

    async def watch_client() -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

    async def watch_closing(event: asyncio.Event) -> None:
        await event.wait()
        gone.set()

    watchers = [asyncio.ensure_future(watch_client()), *(asyncio.ensure_future(watch_closing(e)) for e in closing)]
    try:
        yield gone
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
