"""The MCP front's server: one low-level MCP server whose tools/list and tools/call act for the request's route
and caller (admitted by mcp_front.py), with the OpenAPI path's controls.

tools/list: the route's upstream tools, only those the caller's tenant may see (a virtual server's: each member
route's, named ROUTE_TOOL; front_request.py). tools/call: the tenant may call the tool, the caller's rate-limit
buckets (ratelimit.py) have a token, the client has a concurrency slot; then the call goes to the upstream
(mcp_proxy.py). A refusal is a JSON-RPC error carrying the problem (mcp_errors.py).
Results pass through untouched: `structuredContent`, `isError`, every content block. Progress the upstream
reports is forwarded to a caller that asked for it (a `progressToken`), as far as the response mode carries it.

Per request, cheaply: the server's initialization options (which the SDK's stateless transport asks for on every
request, looking up the SDK's version each time) are built once; a tools/call's tool and outcome go into the
front's one access log line (`CALL_KEY` in the request's scope) rather than a line of their own.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.types import (
    CallToolRequest,
    CallToolResult,
    ListToolsRequest,
    ListToolsResult,
    ServerResult,
    TextContent,
    Tool,
)

from servers.gateway import problems
from servers.gateway.context import begin_request, set_caller
from servers.gateway.front_request import FrontRequest, Member
from servers.gateway.mcp_errors import ProblemError
from servers.gateway.mcp_metrics import McpMetrics
from servers.gateway.mcp_proxy import UpstreamTools
from servers.gateway.metrics import OTHER
from servers.gateway.middleware import GatewayMiddleware, Scope
from servers.gateway.tenancy import Caller
from servers.gateway.upstream_meta import name_caller

SCOPE_KEY = "mcpstack.mcp"
CALL_KEY = "mcpstack.mcp.call"  # in the request's scope: the tools/call's fields for the access log line
logger = logging.getLogger("mcpstack.gateway.mcp")


class CachingServer(Server[Any, Any]):
    """A low-level MCP server whose default initialization options are built once (its handlers are all
    registered before the first request). They declare `tools.listChanged`: a client with a GET stream is told
    when the tools it may see change (mcp_event_stream.py)."""

    _options: InitializationOptions | None = None

    def create_initialization_options(self, *args: Any, **kwargs: Any) -> InitializationOptions:
        if args or kwargs:
            return super().create_initialization_options(*args, **kwargs)
        if self._options is None:
            self._options = super().create_initialization_options(NotificationOptions(tools_changed=True))
        return self._options


class McpToolServer:
    def __init__(self, gateway: GatewayMiddleware, tools: UpstreamTools, metrics: McpMetrics) -> None:
        self.gateway, self.tools, self.metrics = gateway, tools, metrics
        self.server: Server[Any, Any] = CachingServer("mcpstack-gateway", instructions=None)
        # registered directly: the SDK's decorators would validate every call's arguments against the schema
        # here (the upstream does) and turn a JSON-RPC error into an `isError` result
        self.server.request_handlers[ListToolsRequest] = self._list_tools
        self.server.request_handlers[CallToolRequest] = self._call_tool

    def _front_request(self) -> FrontRequest:
        request = self.server.request_context.request
        return self._adopt(request.scope[SCOPE_KEY])  # type: ignore[union-attr]

    @staticmethod
    def _adopt(front: FrontRequest) -> FrontRequest:
        begin_request(front.correlation_id)  # handlers run in the session's tasks: adopt the request's ID
        caller = front.caller
        set_caller(client=caller.client, tenant=caller.tenant or "-", user=caller.user_id or "")
        name_caller(caller)
        return front

    async def _list_tools(self, request: ListToolsRequest) -> ServerResult:
        front = self._front_request()
        started, status = time.perf_counter(), "ok"
        try:
            if not front.virtual:
                return ServerResult(ListToolsResult(tools=await self._member_tools(front, front.members[0])))
            listed = await asyncio.gather(
                *(self._member_tools(front, member) for member in front.members), return_exceptions=True
            )
            tools: list[Tool] = []
            for member, result in zip(front.members, listed, strict=True):
                if isinstance(result, ProblemError):  # a virtual server lists what its reachable routes have
                    logger.info("virtual server %s lists no tools of %s: %s", front.route, member.route, result)
                    continue
                if isinstance(result, BaseException):
                    raise result
                tools.extend(result)
            return ServerResult(ListToolsResult(tools=tools))
        except ProblemError as exc:
            status = exc.kind.slug
            raise
        finally:
            self.metrics.observe(front.route, "tools/list", "-", status, time.perf_counter() - started)

    async def _member_tools(self, front: FrontRequest, member: Member) -> list[Tool]:
        """The member route's tools the caller may see, under the names the front gives them."""
        tools = await self.tools.tools(member.upstream, member.route)
        if member.allowed is not None:
            tools = [tool for tool in tools if tool.name in member.allowed]
        if front.virtual:
            tools = [tool.model_copy(update={"name": front.exposed(member, tool.name)}) for tool in tools]
        return tools

    async def _call_tool(self, request: CallToolRequest) -> ServerResult:
        scope = self.server.request_context.request.scope  # type: ignore[union-attr]
        return await self.call_tool(scope, request, self._progress(request))

    async def call_tool(self, scope: Scope, request: CallToolRequest, progress: Any) -> ServerResult:
        """A tools/call for the request whose ASGI scope holds the front's admission (`SCOPE_KEY`); its fields
        for the access log line go into the scope (`CALL_KEY`). Used by the SDK's server (above) and by the
        front's fast path (mcp_fast_call.py), which has no SDK request context and sends no progress."""
        front = self._adopt(scope[SCOPE_KEY])
        arguments = request.params.arguments or {}
        target = front.target(request.params.name)
        if target is None:  # a virtual server's name no member has: a tool error, as an unknown tool upstream is
            scope[CALL_KEY] = {"route": front.route, "tool": OTHER, "outcome": "tool-error"}
            self.metrics.observe(front.route, "tools/call", OTHER, "tool-error", 0.0)
            text = f"Unknown tool: {request.params.name}"
            return ServerResult(CallToolResult(content=[TextContent(type="text", text=text)], isError=True))
        member, name = target
        tool = name if name in member.upstream.tools else OTHER
        started, status = time.perf_counter(), "ok"
        try:
            result = await self._checked_call(front.caller, member, name, arguments, progress)
            status = "tool-error" if result.isError else "ok"
            return ServerResult(result)
        except ProblemError as exc:
            status = exc.kind.slug
            raise
        except BaseException:
            status = "cancelled"
            raise
        finally:
            self.metrics.observe(member.route, "tools/call", tool, status, time.perf_counter() - started)
            scope[CALL_KEY] = {"route": member.route, "tool": tool, "outcome": status}

    async def _checked_call(
        self, caller: Caller, member: Member, name: str, arguments: dict[str, Any], progress: Any
    ) -> Any:
        gateway = self.gateway
        if not gateway.policy.may_call(caller, member.route, name):
            gateway.metrics.denied.labels("tenant", caller.tenant or "-").inc()
            detail = f"tool {name!r} of {member.route!r} is not available to tenant {caller.tenant!r}"
            raise ProblemError(problems.FORBIDDEN, detail)
        # a tool the upstream does not have: the upstream answers (an isError result or its JSON-RPC error)
        await self._rate_limit(caller)
        async with gateway.slots.slot(caller.client) as granted:
            if not granted:
                gateway.metrics.rate_limited.labels(caller.client, "concurrency").inc()
                limit = gateway.settings.limits.max_concurrent_requests_per_client
                raise ProblemError(
                    problems.RATE_LIMITED,
                    f"concurrency limit reached: {limit} concurrent requests per client",
                    retry_after=1,
                )
            return await self.tools.call(member.upstream, member.route, name, arguments, progress)

    async def _rate_limit(self, caller: Caller) -> None:
        """The OpenAPI path's buckets (middleware.py): the user's inside the client's inside the global one."""
        gateway = self.gateway
        user = None
        if caller.user_id:  # an asserted (unsigned) id never shares a bucket with the signed user of that id
            user = caller.user_id if caller.verified else f"unverified:{caller.user_id}"
        forwards = gateway.settings.clients[caller.client].forwards_user_identity
        decision = await gateway.limiter.check(caller.client, user, forwards)
        gateway.metrics.set_backend(gateway.limiter.backend)
        if not decision.allowed:
            gateway.metrics.rate_limited.labels(caller.client, decision.scope).inc()
            retry = max(1, math.ceil(decision.retry_after))
            raise ProblemError(
                problems.RATE_LIMITED, f"{decision.scope} rate limit reached; retry in {retry} s", retry_after=retry
            )

    def _progress(self, request: CallToolRequest) -> Any:
        meta = request.params.meta
        token = meta.progressToken if meta is not None else None
        if token is None:
            return None
        context = self.server.request_context

        async def forward(progress: float, total: float | None, message: str | None) -> None:
            await context.session.send_progress_notification(
                token, progress, total, message, related_request_id=str(context.request_id)
            )

        return forward
