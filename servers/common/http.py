"""One Starlette app per MCP server: the MCP transports plus /health and /metrics.

Streamable HTTP is served at /mcp (stateless, JSON responses: no session affinity is needed behind
a load balancer, and mcpo talks to it without SSE parsing); SSE at /sse with messages posted to
/messages/. Both transports run on the same port so one Service/port describes the server. Both check
the request's Host and Origin against the allowed names (rebinding.py), after the caller's bearer token: only the
gateway may call (upstream_auth.py); /health and /metrics answer anyone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from servers.common.disconnect import CancelOnDisconnect
from servers.common.rebinding import transport_security
from servers.common.upstream_auth import RequireBearer, UpstreamAuth, from_env, refusal_counter

Transport = Literal["streamable-http", "sse"]
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
STREAMABLE_HTTP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGE_PATH = "/messages/"


async def _always_ok() -> dict[str, Any]:
    return {}


def build_http_app(
    server: MCPServer[Any],
    *,
    registry: CollectorRegistry,
    transports: Iterable[Transport] = ("streamable-http", "sse"),
    health: HealthCheck = _always_ok,
    security: TransportSecuritySettings | None = None,
    auth: UpstreamAuth | None = None,
) -> Starlette:
    """Return the ASGI app serving `server` over the given transports.

    `health` returns extra fields for /health; raising from it turns /health into a 503. `security`: the
    Host/Origin check of the MCP endpoints (default: from the environment, rebinding.py). `auth`: who may call
    them (default: from the environment, upstream_auth.py, which raises UpstreamAuthError when it names none).
    """
    transports = set(transports)
    auth = auth if auth is not None else from_env()
    security = security or transport_security()
    routes: list[BaseRoute] = [
        Route("/health", _health_endpoint(server, health), methods=["GET"]),
        Route("/metrics", _metrics_endpoint(registry), methods=["GET"]),
    ]
    if "streamable-http" in transports:
        mcp_app = server.streamable_http_app(
            streamable_http_path=STREAMABLE_HTTP_PATH,
            stateless_http=True,
            json_response=True,
            transport_security=security,
        )
        routes += [r for r in mcp_app.routes if getattr(r, "path", None) == STREAMABLE_HTTP_PATH]
    if "sse" in transports:
        sse_app = server.sse_app(sse_path=SSE_PATH, message_path=SSE_MESSAGE_PATH, transport_security=security)
        routes += [r for r in sse_app.routes if getattr(r, "path", None) in (SSE_PATH, SSE_MESSAGE_PATH.rstrip("/"))]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if "streamable-http" in transports:
            async with server.session_manager.run():
                yield
        else:
            yield

    middleware = [
        Middleware(RequireBearer, auth=auth, refused=refusal_counter(registry)),  # outermost: before any body is read
        Middleware(CancelOnDisconnect),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def _health_endpoint(server: MCPServer[Any], health: HealthCheck) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        body: dict[str, Any] = {"status": "ok", "server": server.name, "version": server.version}
        try:
            body.update(await health())
        except Exception as exc:  # a failing health check is reported, never raised
            return JSONResponse({**body, "status": "unhealthy", "detail": str(exc)}, status_code=503)
        return JSONResponse(body)

    return endpoint


def _metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint
