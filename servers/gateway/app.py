"""Builds mcpo's FastAPI app from an mcpo config file, using mcpo's own building blocks.

mcpo's `run()` creates the app and serves it in one call; assembling it here from
`load_config`/`mount_config_servers`/`lifespan` gives mcpstack the app object to wrap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from mcpo.main import lifespan, load_config, mount_config_servers
from mcpo.utils.auth import APIKeyMiddleware, get_verify_api_key
from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def build_mcpo_app(config_path: str, api_key: str, cors_allow_origins: list[str]) -> FastAPI:
    config = load_config(config_path)
    app = FastAPI(title="mcpstack gateway", description="MCP tools as OpenAPI (mcpo 0.0.20)", lifespan=lifespan)
    app.state.path_prefix = "/"
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_allow_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    # strict auth: the key protects the docs and every OpenAPI spec as well as the tool calls
    app.add_middleware(APIKeyMiddleware, api_key=api_key)
    mount_config_servers(
        app, config, cors_allow_origins, api_key, True, get_verify_api_key(api_key), None, lifespan, "/"
    )
    return app


def with_health(app: ASGIApp) -> ASGIApp:
    """Answers GET /health before auth: liveness for probes, which carry no credentials."""
    health = JSONResponse({"status": "ok"})

    async def wrapped(
        scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        if scope["type"] == "http" and scope["path"] == "/health" and scope["method"] == "GET":
            await health(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped
