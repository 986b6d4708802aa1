"""The gateway's request pipeline, as ASGI middleware around mcpo's app in the same process.

Per request: correlation ID -> CORS -> gateway endpoints (/health, /ready, /metrics) -> API key ->
caller and tenant -> tenant policy -> upstream availability -> rate limits -> mcpo, under a time
limit; then metrics and one structured access log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.cors import CORSMiddleware

from servers.gateway import problems
from servers.gateway.auth import ApiKeys
from servers.gateway.context import HEADER, begin_request, set_caller
from servers.gateway.metrics import OTHER, GatewayMetrics
from servers.gateway.ratelimit import RateLimiter
from servers.gateway.settings import GatewaySettings
from servers.gateway.tenancy import Caller, TenantPolicy, filter_openapi
from servers.gateway.upstreams import Upstream, Upstreams

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("mcpstack.gateway.access")
DOC_PATHS = {"docs", "openapi.json", "redoc", "docs/oauth2-redirect"}
DISCOVERY_TTL_SECONDS = 300.0


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
        self._discovery_cache: dict[tuple[Any, ...], tuple[float, bytes]] = {}
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
                await _respond(
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
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _pipeline(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange: _Exchange = scope["mcpstack.exchange"]
        headers: dict[str, str] = scope["mcpstack.headers"]
        path = scope["path"]
        if path in ("/health", "/ready", "/metrics"):
            exchange.route, exchange.tool = "-", path.strip("/")
            await self._gateway_endpoint(path, send)
            return
        route, _, rest = path.strip("/").partition("/")
        known = route in self.settings.routes
        exchange.route = route if known else OTHER
        exchange.tool = rest if rest in DOC_PATHS else OTHER

        caller = None
        if not (self.settings.public_docs and (rest in DOC_PATHS or route in DOC_PATHS)):
            client = self.keys.client_for(headers.get("authorization"))
            if client is None:
                self.metrics.denied.labels("unauthenticated", "-").inc()
                await _respond(
                    send,
                    *problems.problem_response(
                        problems.UNAUTHORIZED,
                        "send 'Authorization: Bearer <API key>'",
                        headers={"WWW-Authenticate": 'Bearer realm="mcpstack"'},
                    ),
                )
                return
            caller = self.policy.identify(client, headers)
            set_caller(client=caller.client, tenant=caller.tenant or "-", user=caller.user_id or "")
            exchange.extra.update(client=caller.client, tenant=caller.tenant or "-")
            self.metrics.client_requests.labels(caller.client, caller.tenant or "-").inc()
            if caller.user_id:
                self.metrics.saw_user(caller.user_id)
        if not known:
            await self.app(scope, receive, send)  # root docs, unknown paths: mcpo answers (404 as a problem)
            return
        await self._route(scope, receive, send, caller, route, rest)

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, caller: Caller | None, route: str, rest: str
    ) -> None:
        exchange: _Exchange = scope["mcpstack.exchange"]
        allowed: set[str] | None = None
        if caller is not None:
            if caller.tenant is None:
                return await self._forbid(send, caller, "no tenant admits this user")
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
            await _respond(
                send,
                *problems.problem_response(
                    problems.UPSTREAM_UNAVAILABLE,
                    f"the {route!r} tool server is {upstream.state}; retry later",
                    headers={"Retry-After": str(upstream.retry_after())},
                ),
            )
            return
        if caller is not None:
            decision = await self.limiter.check(caller.rate_limit_key)
            self.metrics.set_backend(self.limiter.backend)
            if not decision.allowed:
                self.metrics.rate_limited.labels(caller.client, decision.scope).inc()
                retry = max(1, math.ceil(decision.retry_after))
                await _respond(
                    send,
                    *problems.problem_response(
                        problems.RATE_LIMITED,
                        f"{decision.scope} rate limit reached; retry in {retry} s",
                        headers={"Retry-After": str(retry)},
                    ),
                )
                return
        if upstream.name != route:
            scope = {**scope, "path": f"/{upstream.name}/{rest}", "raw_path": f"/{upstream.name}/{rest}".encode()}
        if rest == "openapi.json":
            await self._discovery(scope, receive, send, upstream.name, route, allowed, upstream.since)
            return
        await self._call(scope, receive, send, route, upstream)

    async def _call(self, scope: Scope, receive: Receive, send: Send, route: str, upstream: Upstream) -> None:
        """Call mcpo; give up with 504 after the time limit, or with 503 as soon as the upstream is lost."""
        exchange: _Exchange = scope["mcpstack.exchange"]
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
        await _respond(send, *problems.problem_response(kind, detail, headers=headers))

    async def _discovery(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: str,
        route: str,
        allowed: set[str] | None,
        epoch: float,
    ) -> None:
        """A route's OpenAPI spec, filtered to the caller's tools; cached per tenant view and connection."""
        key = (upstream, frozenset(allowed) if allowed is not None else None, epoch)
        cached = self._discovery_cache.get(key)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
            self.metrics.discovery.labels("hit").inc()
            await _respond(
                send,
                200,
                [(b"content-type", b"application/json"), (b"content-length", str(len(cached[1])).encode())],
                cached[1],
            )
            return
        self.metrics.discovery.labels("miss").inc()
        captured = _Captured()
        await self.app(scope, receive, captured)
        if captured.status != 200:
            await _respond(send, captured.status, captured.headers, captured.body)
            return
        body = json.dumps(filter_openapi(json.loads(captured.body), allowed, route)).encode()
        self._discovery_cache[key] = (time.monotonic(), body)
        await _respond(
            send, 200, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())], body
        )

    async def _forbid(self, send: Send, caller: Caller, detail: str) -> None:
        self.metrics.denied.labels("tenant", caller.tenant or "-").inc()
        await _respond(send, *problems.problem_response(problems.FORBIDDEN, detail))

    async def _gateway_endpoint(self, path: str, send: Send) -> None:
        if path == "/health":
            body = json.dumps({"status": "ok"}).encode()
            await _respond(send, 200, [(b"content-type", b"application/json")], body)
        elif path == "/ready":
            ready = self.upstreams.ready()
            body = json.dumps(
                {
                    "status": "ready" if ready else "not ready",
                    "upstreams": {
                        name: upstream.describe() for name, upstream in sorted(self.upstreams.by_name.items())
                    },
                }
            ).encode()
            await _respond(send, 200 if ready else 503, [(b"content-type", b"application/json")], body)
        else:
            await _respond(
                send, 200, [(b"content-type", CONTENT_TYPE_LATEST.encode())], generate_latest(self.metrics.registry)
            )


class _Captured:
    def __init__(self) -> None:
        self.status, self.headers, self.body = 500, [], b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
