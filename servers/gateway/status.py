"""The gateway's own endpoints: /health (liveness), /ready (readiness) and /metrics (Prometheus).

Their status codes are public (probes need no key). Their details are not, unless the catalog says so
(`public_details`): /ready lists each upstream's state and last error only to a caller with a client key, and
/metrics (client names, tenants) asks for a key when `public_details.metrics` is false.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from servers.gateway import problems
from servers.gateway.auth import ApiKeys
from servers.gateway.metrics import GatewayMetrics
from servers.gateway.settings import PublicDetails
from servers.gateway.upstreams import Upstreams

PATHS = ("/health", "/ready", "/metrics")
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
JSON = [(b"content-type", b"application/json")]


class StatusEndpoints:
    def __init__(self, upstreams: Upstreams, metrics: GatewayMetrics, keys: ApiKeys, public: PublicDetails) -> None:
        self.upstreams, self.metrics, self.keys, self.public = upstreams, metrics, keys, public

    async def serve(self, path: str, authorization: str | None, send: Send) -> None:
        keyed = self.keys.client_for(authorization) is not None
        if path == "/health":
            await respond(send, 200, JSON, json.dumps({"status": "ok"}).encode())
        elif path == "/ready":
            ready = self.upstreams.ready()
            body: dict[str, Any] = {"status": "ready" if ready else "not ready"}
            if keyed or self.public.ready:
                body["upstreams"] = {name: u.describe() for name, u in sorted(self.upstreams.by_name.items())}
            await respond(send, 200 if ready else 503, JSON, json.dumps(body).encode())
        elif keyed or self.public.metrics:
            content_type = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
            await respond(send, 200, content_type, generate_latest(self.metrics.registry))
        else:
            await respond(
                send,
                *problems.problem_response(
                    problems.UNAUTHORIZED,
                    "send 'Authorization: Bearer <API key>'",
                    headers={"WWW-Authenticate": 'Bearer realm="mcpstack"'},
                ),
            )


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
