"""The gateway's MCP front: every route served as MCP over streamable HTTP at /mcp/ROUTE, beside the OpenAPI path,
and every virtual server (several routes' tools together) at /mcp/NAME.

An ASGI layer around the gateway (GatewayMiddleware: the OpenAPI path, /health, /ready, /metrics). A request to
/mcp/ROUTE is admitted here the way the OpenAPI path admits one, with the same code: unambiguous headers, the API
key, the verified end user and tenant, the route (or a virtual server's routes) and the tenant's tools, a body
within the edge limits; then the MCP SDK's streamable HTTP transport serves it, statelessly (any replica serves
any request), and
mcp_server.py answers tools/list and tools/call. HTTP-level refusals are problem+json answers; refusals inside
MCP are JSON-RPC errors with the problem in `data`. Every answer carries X-Request-ID. Host and Origin are
checked against DNS rebinding (servers/common/rebinding.py: loopback plus MCP_ALLOWED_HOSTS).

Tool-list changes reach a client on its GET stream (mcp_event_stream.py; tool_list_watch.py notices them). The
SDK's clients open that stream only when the server issued an `Mcp-Session-Id`, so `initialize` is answered with
one: a random id that carries nothing. Every request is still admitted on its own key and signed user, so any
replica serves any request with any session id: nothing is looked up by it and nothing needs stickiness.

The hot request, a POST of one plain tools/call, is answered by the fast path (mcp_fast_call.py: the same
handler and bytes, without the SDK's per-request transport, session and task groups) when `fast_call` is on,
as it is by default; the tests turn it off to compare both paths' answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from contextlib import AsyncExitStack

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from servers.common.rebinding import transport_security
from servers.gateway import edge, problems
from servers.gateway.body import ClientGone, replay
from servers.gateway.context import HEADER, begin_request
from servers.gateway.edge import Refusal
from servers.gateway.front_request import FrontRequest, Member
from servers.gateway.hangup import CancelOnHangUp
from servers.gateway.mcp_event_stream import EventStreams
from servers.gateway.mcp_fast_call import FastCall
from servers.gateway.mcp_metrics import McpMetrics
from servers.gateway.mcp_proxy import UpstreamTools, current_session
from servers.gateway.mcp_server import CALL_KEY, SCOPE_KEY, McpToolServer
from servers.gateway.metrics import OTHER
from servers.gateway.middleware import CLIENT_CLOSED, GatewayMiddleware, Message, Receive, Scope, Send
from servers.gateway.openapi_rebuild import rebuild_endpoints
from servers.gateway.status import respond
from servers.gateway.tool_list_watch import ToolListWatch, refresh_forever
from servers.gateway.upstreams import Upstream

PREFIX = "/mcp/"
PROGRESS_TOKEN = b'"progressToken"'  # a request that asks for progress is answered as an SSE stream
INITIALIZE = b'"initialize"'
SESSION_HEADER = b"mcp-session-id"
access_log = logging.getLogger("mcpstack.gateway.access")
refusals = logging.getLogger("mcpstack.gateway.refused")


class McpFront:
    def __init__(self, gateway: GatewayMiddleware, *, fast_call: bool = True) -> None:
        self.gateway = gateway
        self.settings = gateway.settings
        self.metrics = McpMetrics(gateway.metrics)
        limits = gateway.settings.limits
        self.watch = ToolListWatch(per_caller=limits.max_event_streams_per_caller, total=limits.max_event_streams)
        self.tools = UpstreamTools(gateway.settings.timeout_seconds, on_change=self.watch.publish)
        tool_server = McpToolServer(gateway, self.tools, self.metrics)
        self.server = tool_server.server
        # One JSON body per POST, the cheapest answer; a request with a progressToken gets an SSE stream, which
        # can carry the upstream's progress notifications before the result.
        security = transport_security()
        self.manager = StreamableHTTPSessionManager(
            self.server, json_response=True, stateless=True, security_settings=security
        )
        self.streaming = StreamableHTTPSessionManager(
            self.server, json_response=False, stateless=True, security_settings=security
        )
        self.fast = FastCall(tool_server, security) if fast_call else None
        self.streams = EventStreams(self.tools, self.watch, security, self.metrics)
        self._single = edge.single_headers(gateway.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(self.manager.run())
                await stack.enter_async_context(self.streaming.run())
                refreshers = self._start_refreshers()
                try:
                    await self.gateway(scope, receive, send)
                finally:
                    self.streams.closing.set()
                    for task in refreshers:
                        task.cancel()
                    await asyncio.gather(*refreshers, return_exceptions=True)
            return
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self._serve(scope, receive, send)
            return
        await self.gateway(scope, receive, send)

    def _start_refreshers(self) -> list[asyncio.Task[None]]:
        """One task per upstream that lists its tools again (tool_list_watch.py), counted in the metrics."""

        def counted(upstream: str, trigger: str, outcome: str) -> None:
            self.metrics.tool_list_refreshes.labels(upstream, trigger, outcome).inc()

        async def relist(upstream: Upstream) -> bool:
            changed = await self.tools.refresh(upstream)
            if changed:  # the OpenAPI path's endpoints follow (a reconnect builds them anyway)
                await rebuild_endpoints(upstream)
            return changed

        every = self.settings.tool_list_refresh_seconds
        return [
            asyncio.create_task(
                refresh_forever(upstream, relist, _tools_changed, every, counted),
                name=f"tool-list-refresh:{upstream.name}",
            )
            for upstream in self.gateway.upstreams.by_name.values()
        ]

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = begin_request(headers.get(HEADER))
        route = scope["path"][len(PREFIX) :].strip("/")
        started, outcome = time.perf_counter(), {"status": 500, "answered": False}

        session_id: list[tuple[bytes, bytes]] = []  # an initialize's answer issues one

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"], outcome["answered"] = message["status"], True
                added = [(b"x-request-id", request_id.encode()), *session_id]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        self.gateway.metrics.in_flight.inc()
        try:
            edge.check_single(scope["headers"], self._single)
            front = await self._admit(headers, route, request_id)
            manager = self.manager
            scope[SCOPE_KEY] = front
            if scope["method"] == "POST":
                body = await edge.checked_body(receive, headers, self.settings)
                receive = replay(body, receive)
                call = await self.fast.accepts(scope, body) if self.fast is not None else None
                if self.fast is not None and call is not None:  # with its own hang-up watch
                    if not await self.fast.answer(*call, scope, receive, send_with_id):
                        outcome["status"] = CLIENT_CLOSED
                    return
                manager = self.streaming if PROGRESS_TOKEN in body else self.manager
                if INITIALIZE in body and _is_initialize(body):
                    session_id.append((SESSION_HEADER, secrets.token_urlsafe(24).encode()))
            elif scope["method"] == "GET" and await self.streams.accepts(scope):
                await self._event_stream(front, scope, receive, send_with_id)
                return

            def hung_up(_: Scope) -> None:  # the call is cancelled, its upstream request with it (hangup.py)
                if not outcome["answered"]:
                    outcome["status"] = CLIENT_CLOSED

            await CancelOnHangUp(manager.handle_request, hung_up)(scope, receive, send_with_id)
        except Refusal as refusal:
            refusals.warning(
                "refused %s: %s", refusal.kind.slug, refusal.detail, extra={"fields": {"cause": refusal.kind.slug}}
            )
            self.gateway.metrics.refused.labels(refusal.kind.slug).inc()
            known = route in self.settings.routes or route in self.settings.virtual_servers
            self.metrics.observe(route if known else OTHER, "http", "-", refusal.kind.slug, 0.0)
            await respond(
                send_with_id, *problems.problem_response(refusal.kind, refusal.detail, headers=refusal.headers)
            )
        except ClientGone:
            outcome["status"] = CLIENT_CLOSED
        finally:
            self.gateway.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            access_log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                outcome["status"],
                extra={
                    "fields": {
                        "status": outcome["status"],
                        "duration_ms": round(elapsed * 1000, 2),
                        "front": "mcp",
                        **scope.get(CALL_KEY, {}),  # a tools/call's route, tool and outcome (mcp_server.py)
                    }
                },
            )

    async def _event_stream(self, front: FrontRequest, scope: Scope, receive: Receive, send: Send) -> None:
        """A GET stream (mcp_event_stream.py), which is no request in flight: gateway_mcp_event_streams counts it."""
        in_flight = self.gateway.metrics.in_flight
        in_flight.dec()
        try:
            await self.streams.serve(front, scope, receive, send)
        finally:
            in_flight.inc()

    async def _admit(self, headers: dict[str, str], route: str, request_id: str) -> FrontRequest:
        """The request's caller and route, as the OpenAPI path decides them; else the Refusal to answer."""
        gateway = self.gateway
        caller = await gateway.identify_caller(headers)
        if caller.tenant is None:
            gateway.metrics.denied.labels("tenant", "-").inc()
            raise Refusal(problems.FORBIDDEN, "no tenant admits this user")
        virtual = self.settings.virtual_servers.get(route)
        if virtual is None and route not in self.settings.routes:
            raise Refusal(problems.NOT_FOUND, f"no route or virtual server {route!r}")
        members = []
        for member_route in virtual.routes if virtual is not None else [route]:
            allowed = gateway.policy.allowed_tools(caller, member_route)
            if allowed != set():
                upstream = gateway.upstreams.by_name[gateway.policy.upstream(caller, member_route)]
                members.append(Member(member_route, upstream, allowed))
        if not members:
            gateway.metrics.denied.labels("tenant", caller.tenant).inc()
            what = "virtual server" if virtual is not None else "route"
            raise Refusal(problems.FORBIDDEN, f"{what} {route!r} is not available to tenant {caller.tenant!r}")
        return FrontRequest(route, caller, request_id, tuple(members), virtual=virtual is not None)


def _tools_changed(upstream: Upstream) -> asyncio.Event | None:
    """The event the upstream's current session sets when it reports a tool-list change (mcp_session.py)."""
    session = current_session(upstream)
    return getattr(session, "tools_changed", None) if session is not None else None


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") == "initialize"
