"""A route's OpenAPI spec (tool discovery), filtered to the caller's tools and cached per tenant view.

mcpo builds the spec; the gateway keeps only the tools the caller's tenant may see, serves it as if from the
route (a tenant's own upstream is not revealed), and caches it for 5 minutes per (upstream, allowed tools,
connection epoch): a reconnected upstream may have other tools.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from servers.gateway.metrics import GatewayMetrics
from servers.gateway.status import respond
from servers.gateway.tenancy import filter_openapi

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
TTL_SECONDS = 300.0
JSON = [(b"content-type", b"application/json")]


class Discovery:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app, self.metrics = app, metrics
        self._cache: dict[tuple[Any, ...], tuple[float, bytes]] = {}

    async def serve(
        self,
        scope: MutableMapping[str, Any],
        receive: Receive,
        send: Send,
        *,
        upstream: str,
        route: str,
        allowed: set[str] | None,
        epoch: float,
    ) -> None:
        key = (upstream, frozenset(allowed) if allowed is not None else None, epoch)
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < TTL_SECONDS:
            self.metrics.discovery.labels("hit").inc()
            await respond(send, 200, JSON, cached[1])
            return
        self.metrics.discovery.labels("miss").inc()
        captured = _Captured()
        await self.app(scope, receive, captured)
        if captured.status != 200:
            await respond(send, captured.status, captured.headers, captured.body)
            return
        body = json.dumps(filter_openapi(json.loads(captured.body), allowed, route)).encode()
        self._cache[key] = (time.monotonic(), body)
        await respond(send, 200, JSON, body)


class _Captured:
    def __init__(self) -> None:
        self.status, self.headers, self.body = 500, [], b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
