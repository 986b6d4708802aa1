"""The gateway's request pipeline, as ASGI middleware around mcpo's app in the same process.

Per request: correlation ID -> unambiguous headers -> CORS -> gateway endpoints (/health, /ready, /metrics) ->
API key -> caller (verified end user) and tenant -> tenant policy -> upstream availability -> rate limits ->
a concurrency slot of the client's -> body within limits, arguments checked -> mcpo, under a time limit; then
metrics and one structured access log line. Every refusal is logged with the correlation ID and its cause.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.middleware.cors import CORSMiddleware

from servers.gateway import edge, problems, status
from servers.gateway.auth import ApiKeys
from servers.gateway.body import ClientGone, replay
from servers.gateway.concurrency import ClientSlots
from servers.gateway.context import HEADER, begin_request, set_caller
from servers.gateway.discovery import Discovery
from servers.gateway.edge import Refusal
from servers.gateway.identity import InvalidIdentity
from servers.gateway.metrics import OTHER, GatewayMetrics
from servers.gateway.ratelimit import RateLimiter
from servers.gateway.settings import GatewaySettings
from servers.gateway.status import StatusEndpoints, respond
from servers.gateway.tenancy import Caller, TenantPolicy
from servers.gateway.upstream_meta import name_caller
from servers.gateway.upstreams import EPOCH, Upstream, Upstreams

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("mcpstack.gateway.access")
refusals = logging.getLogger("mcpstack.gateway.refused")
DOC_PATHS = {"docs", "openapi.json", "redoc", "docs/oauth2-redirect"}
CLIENT_CLOSED = 499  # in the access log and metrics: the client went away before the answer


@dataclass
class _Exchange:
    """What the pipeline learned about one request, for metrics and the access log."""

    route: str = "-"
    tool: str = "-"
    status: int = 500
    started: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class GatewayMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: GatewaySettings,
        keys: ApiKeys,
        policy: TenantPolicy,
        limiter: RateLimiter,
        upstreams: Upstreams,
        metrics: GatewayMetrics,
    ) -> None:
        self.app = app
        self.settings = settings
        self.keys = keys
        self.policy = policy
        self.limiter = limiter
        self.upstreams = upstreams
        self.metrics = metrics
        self.status = StatusEndpoints(upstreams, metrics, keys, settings.public_details)
        self.discovery = Discovery(app, metrics)
        self.slots = ClientSlots(
            settings.limits.max_concurrent_requests_per_client, settings.limits.concurrency_wait_seconds
        )
        self._single_headers = edge.single_headers(settings)
        identity = settings.identity_headers
        self._cors = CORSMiddleware(
            self._pipeline,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                identity.user_id,
                identity.email,
                identity.role,
                identity.name,
                identity.jwt,
            ],
            expose_headers=["X-Request-ID", "Retry-After"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = begin_request(headers.get(HEADER))
        exchange = _Exchange()
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.started, exchange.status = True, message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        scope["mcpstack.exchange"], scope["mcpstack.headers"] = exchange, headers
        self.metrics.in_flight.inc()
        try:
            await self._cors(scope, receive, send_with_id)
        except Exception:
            access_log.exception("unhandled error")
            if not exchange.started:
                await respond(
                    send_with_id,
                    *problems.problem_response(
                        problems.INTERNAL_ERROR, "unexpected error; quote the correlation_id when reporting it"
                    ),
                )
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            labels = (exchange.route, exchange.tool, str(exchange.status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(elapsed)
            access_log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                exchange.status,
                extra={
                    "fields": {
                        "status": exchange.status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "route": exchange.route,
                        "tool": exchange.tool,
                        **exchange.extra,
                    }
                },
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.upstreams.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.upstreams.stop()
                await self.policy.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _pipeline(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            edge.check_single(scope["headers"], self._single_headers)
            await self._steps(scope, receive, send)
        except Refusal as refusal:
            await self._refuse(send, refusal)
        except ClientGone:
            scope["mcpstack.exchange"].status = CLIENT_CLOSED
            refusals.info("the client went away before sending its whole body", extra=_cause("client-gone"))

    async def _steps(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange: _Exchange = scope["mcpstack.exchange"]
        headers: dict[str, str] = scope["mcpstack.headers"]
        path = scope["path"]
        if path in status.PATHS:
            exchange.route, exchange.tool = "-", path.strip("/")
            await self.status.serve(path, headers.get("authorization"), send)
            return
        route, _, rest = path.strip("/").partition("/")
        known = route in self.settings.routes
        exchange.route = route if known else OTHER
        exchange.tool = rest if rest in DOC_PATHS else OTHER

        caller = None
        if not (self.settings.public_docs and (rest in DOC_PATHS or route in DOC_PATHS)):
            try:
                caller = await self.identify_caller(headers)
            except Refusal as refusal:
                if refusal.kind is not problems.UNAUTHORIZED:
                    raise
                # no key: answered, not logged as a refusal (scanners would fill the log)
                await respond(send, *problems.problem_response(refusal.kind, refusal.detail, headers=refusal.headers))
                return
            name_caller(caller)  # for the upstream call's `_meta` (upstream_meta.py)
            exchange.extra.update(client=caller.client, tenant=caller.tenant or "-")
            if caller.tenant is None:  # before the route is even looked at: unknown routes get this check too
                return await self._forbid(send, caller, "no tenant admits this user")
        if not known:
            if route in DOC_PATHS or not route:
                await self.app(scope, receive, send)  # mcpo's root docs
                return
            await respond(send, *problems.problem_response(problems.NOT_FOUND, f"no route {route!r}"))
            return
        await self._route(scope, receive, send, caller, route, rest)

    async def identify_caller(self, headers: dict[str, str]) -> Caller:
        """The request's caller: the client its API key names and the end user it signed for, counted and put in the
        log context. Raises the Refusal: 401 `unauthorized` without a known key, 401 `invalid-user-identity` for a
        signed identity that does not verify. Both fronts (OpenAPI here, MCP in mcp_front.py) admit with it."""
        client = self.keys.client_for(headers.get("authorization"))
        if client is None:
            self.metrics.denied.labels("unauthenticated", "-").inc()
            raise Refusal(
                problems.UNAUTHORIZED,
                "send 'Authorization: Bearer <API key>'",
                {"WWW-Authenticate": 'Bearer realm="mcpstack"'},
            )
        set_caller(client=client)
        try:
            caller = await self.policy.identify(client, headers)
        except InvalidIdentity as exc:
            self.metrics.denied.labels("identity", "-").inc()
            raise Refusal(problems.INVALID_USER_IDENTITY, f"the signed user identity is not valid: {exc}") from None
        set_caller(client=caller.client, tenant=caller.tenant or "-", user=caller.user_id or "")
        self.metrics.client_requests.labels(caller.client, caller.tenant or "-").inc()
        if caller.user_id:
            self.metrics.saw_user(caller.user_id)
        return caller

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, caller: Caller | None, route: str, rest: str
    ) -> None:
        exchange: _Exchange = scope["mcpstack.exchange"]
        allowed: set[str] | None = None
        if caller is not None:
            allowed = self.policy.allowed_tools(caller, route)
            if allowed == set():
                return await self._forbid(send, caller, f"route {route!r} is not available to tenant {caller.tenant!r}")
        upstream = self.upstreams.by_name[self.policy.upstream(caller, route) if caller else route]
        if rest not in DOC_PATHS:
            exchange.tool = rest if rest in upstream.tools else OTHER
            if caller is not None and not self.policy.may_call(caller, route, rest):
                return await self._forbid(
                    send, caller, f"tool {rest!r} of {route!r} is not available to tenant {caller.tenant!r}"
                )
        if not upstream.available:
            upstream.suspect()  # traffic for a down upstream: try to reconnect now (at most once a second)
            await respond(
                send,
                *problems.problem_response(
                    problems.UPSTREAM_UNAVAILABLE,
                    f"the {route!r} tool server is {upstream.state}; retry later",
                    headers={"Retry-After": str(upstream.retry_after())},
                ),
            )
            return
        if caller is not None:
            await self._rate_limit(caller)
        if upstream.name != route:
            scope = {**scope, "path": f"/{upstream.name}/{rest}", "raw_path": f"/{upstream.name}/{rest}".encode()}
        if rest == "openapi.json":
            epoch = upstream.tools_since  # a reconnect or a changed tool list: the cached specs are stale
            await self.discovery.serve(
                scope, receive, send, upstream=upstream.name, route=route, allowed=allowed, epoch=epoch
            )
            return
        client = caller.client if caller else "-"
        async with self.slots.slot(client) as granted:
            if not granted:
                self.metrics.rate_limited.labels(client, "concurrency").inc()
                limit = self.settings.limits.max_concurrent_requests_per_client
                raise Refusal(
                    problems.RATE_LIMITED,
                    f"concurrency limit reached: {limit} concurrent requests per client",
                    {"Retry-After": "1"},
                )
            if scope["method"] == "POST":
                body = await edge.checked_body(receive, scope["mcpstack.headers"], self.settings)
                receive = replay(body, receive)
            await self._call(scope, receive, send, route, upstream)

    async def _rate_limit(self, caller: Caller) -> None:
        forwards = self.settings.clients[caller.client].forwards_user_identity
        user = None
        if caller.user_id:  # an asserted (unsigned) id never shares a bucket with the signed user of that id
            user = caller.user_id if caller.verified else f"unverified:{caller.user_id}"
        decision = await self.limiter.check(caller.client, user, forwards)
        self.metrics.set_backend(self.limiter.backend)
        if not decision.allowed:
            self.metrics.rate_limited.labels(caller.client, decision.scope).inc()
            retry = max(1, math.ceil(decision.retry_after))
            raise Refusal(
                problems.RATE_LIMITED,
                f"{decision.scope} rate limit reached; retry in {retry} s",
                {"Retry-After": str(retry)},
            )

    async def _call(self, scope: Scope, receive: Receive, send: Send, route: str, upstream: Upstream) -> None:
        """Call mcpo; give up with 504 after the time limit, or with 503 as soon as the upstream is lost."""
        exchange: _Exchange = scope["mcpstack.exchange"]
        scope[EPOCH] = upstream.since
        call = asyncio.ensure_future(self.app(scope, receive, send))
        lost = asyncio.ensure_future(upstream.wait_lost())
        try:
            done, _ = await asyncio.wait(
                {call, lost}, timeout=self.settings.timeout_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if call in done:
            call.result()
            return
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        if exchange.started:
            return
        if lost in done:
            kind, detail = problems.UPSTREAM_UNAVAILABLE, f"the connection to the {route!r} tool server was lost"
            headers = {"Retry-After": str(upstream.retry_after())}
        else:
            limit = self.settings.timeout_seconds
            kind, detail, headers = problems.UPSTREAM_TIMEOUT, f"no answer from {route!r} within {limit:g} s", {}
        await respond(send, *problems.problem_response(kind, detail, headers=headers))

    async def _forbid(self, send: Send, caller: Caller, detail: str) -> None:
        self.metrics.denied.labels("tenant", caller.tenant or "-").inc()
        await respond(send, *problems.problem_response(problems.FORBIDDEN, detail))

    async def _refuse(self, send: Send, refusal: Refusal) -> None:
        """Answer a refusal, after logging it (with the correlation ID, from the log context) and its cause."""
        refusals.warning(
            "refused %s: %s", refusal.kind.slug, refusal.detail, extra=_cause(refusal.kind.slug, refusal.kind.status)
        )
        self.metrics.refused.labels(refusal.kind.slug).inc()
        await respond(send, *problems.problem_response(refusal.kind, refusal.detail, headers=refusal.headers))


def _cause(cause: str, status: int | None = None) -> dict[str, Any]:
    return {"fields": {"cause": cause, **({"status": status} if status else {})}}
