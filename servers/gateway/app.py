"""Assembles the gateway: mcpo's FastAPI app (built from mcpo's own parts) inside GatewayMiddleware.

mcpo's `run()` builds its app and serves it in one call; building it here from `create_sub_app` and
`lifespan` gives mcpstack the app object to wrap, and lets each upstream's connection be supervised
(upstreams.py) instead of mcpo's connect-once start-up.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from mcpo.main import create_sub_app, lifespan, validate_server_config
from starlette.middleware.cors import CORSMiddleware

from servers.gateway import errors, mcp_session
from servers.gateway.auth import ApiKeys
from servers.gateway.context import configure_logging
from servers.gateway.hangup import CancelOnHangUp, note_client_closed
from servers.gateway.identity import UserIdentityVerifier
from servers.gateway.mcp_front import McpFront
from servers.gateway.metrics import GatewayMetrics
from servers.gateway.middleware import GatewayMiddleware
from servers.gateway.ratelimit import RateLimiter, connect_redis
from servers.gateway.settings import CONFIG_ENV, GatewaySettings, load_config
from servers.gateway.tenancy import TenantPolicy
from servers.gateway.upstreams import Upstream, Upstreams
from servers.gateway.user_directory import UserDirectory


def build_mcpo_app(servers: dict[str, dict[str, Any]]) -> tuple[FastAPI, dict[str, FastAPI]]:
    """mcpo's main app with one mounted sub-app per server; (main app, sub-apps by server name)."""
    app = FastAPI(
        title="mcpstack gateway",
        description="MCP tools as OpenAPI (mcpo 0.0.20)",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.path_prefix = "/"
    sub_apps = {}
    for name, config in servers.items():
        validate_server_config(name, config)
        # No key here: the gateway authenticates every request before mcpo sees it.
        sub_app = create_sub_app(name, config, [], None, False, None, None, lifespan)
        # mcpo adds a CORS layer allowing "*" when given no origins; the gateway's own CORS layer
        # (configured origins only) is the one authority.
        sub_app.user_middleware = [m for m in sub_app.user_middleware if m.cls is not CORSMiddleware]
        app.mount(f"/{name}", sub_app)
        sub_apps[name] = sub_app
    return app, sub_apps


def build_gateway(
    servers: dict[str, dict[str, Any]], settings: GatewaySettings, metrics: GatewayMetrics | None = None
) -> GatewayMiddleware:
    metrics = metrics or GatewayMetrics()
    mcp_session.install()
    mcpo_app, sub_apps = build_mcpo_app(servers)
    upstreams = {}
    for name, sub_app in sub_apps.items():
        route = next((r for r, s in settings.routes.items() if name == r or name in s.tenant_upstreams.values()), name)
        upstream = Upstream(
            name,
            sub_app,
            required=settings.routes[route].required if route in settings.routes else True,
            metrics=metrics,
        )
        errors.install(sub_app, route, upstream.suspect, upstream.lose)
        upstreams[name] = upstream
    errors.install(mcpo_app, "-", lambda: None)
    metrics.declare_upstreams(upstreams)
    limits = settings.rate_limits
    limiter = RateLimiter(
        limits.per_client_per_minute,
        limits.global_per_minute,
        connect_redis(limits),
        forwarding_client_share=limits.forwarding_client_share,
    )
    metrics.set_backend(limiter.backend)
    return GatewayMiddleware(
        CancelOnHangUp(mcpo_app, note_client_closed),  # a call whose client hangs up is cancelled upstream too
        settings=settings,
        keys=ApiKeys.from_files(settings.clients),
        policy=TenantPolicy(
            settings,
            UserIdentityVerifier.from_file(settings.user_identity_secret_file),
            UserDirectory.from_settings(settings.user_directory),
        ),
        limiter=limiter,
        upstreams=Upstreams(upstreams),
        metrics=metrics,
    )


def create_app() -> McpFront:
    """uvicorn's app factory: each worker process builds its own gateway from the config file, with the MCP
    front (/mcp/ROUTE, mcp_front.py) around the OpenAPI path."""
    configure_logging(os.environ.get("MCPSTACK_LOG_LEVEL", "INFO"))
    servers, settings = load_config(os.environ[CONFIG_ENV])
    return McpFront(build_gateway(servers, settings))
