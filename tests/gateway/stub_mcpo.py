"""A stand-in for mcpo's app and upstream state, and helpers to drive the gateway pipeline in process."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from servers.gateway.auth import ApiKeys
from servers.gateway.identity import UserIdentityVerifier
from servers.gateway.metrics import GatewayMetrics
from servers.gateway.middleware import GatewayMiddleware
from servers.gateway.ratelimit import RateLimiter
from servers.gateway.settings import GatewaySettings
from servers.gateway.tenancy import TenantPolicy
from servers.gateway.upstreams import Upstreams
from servers.gateway.user_directory import UserDirectory
from tests.gateway.identities import signed_user

SPEC = {
    "openapi": "3.1.0",
    "servers": [{"url": "/time"}],
    "paths": {"/get_current_time": {"post": {}}, "/convert_time": {"post": {}}},
}


class StubUpstream:
    """Connection state of one upstream, as the middleware reads it."""

    def __init__(self, name: str, tools: set[str], required: bool = True) -> None:
        self.name, self.tools, self.required = name, frozenset(tools), required
        self.state = "up"
        self.since = 1.0  # connection epoch: the discovery cache is kept per connection
        self.tools_since = 1.0  # when its tool endpoints were built (the discovery cache key)
        self.lost = asyncio.Event()
        self.suspected = 0

    @property
    def available(self) -> bool:
        return self.state == "up"

    def retry_after(self) -> int:
        return 7

    def suspect(self) -> None:
        self.suspected += 1

    async def wait_lost(self) -> None:
        await self.lost.wait()

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "required": self.required}


CALLS: list[tuple[str, bytes]] = []  # (path, body) of every request that reached the stub


async def stub_mcpo(scope: dict, receive: Any, send: Any) -> None:
    """Answers like mcpo's mounted sub-apps: echoes the path it was called with, records the call."""
    path = scope["path"]
    body, more = b"", scope["method"] == "POST"
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    CALLS.append((path, body))
    if path.endswith("/openapi.json"):
        body, status = json.dumps(SPEC).encode(), 200
    elif path.endswith("/slow"):
        await asyncio.sleep(30)
        body, status = b"{}", 200
    elif path.endswith("/explode"):
        raise RuntimeError("secret internals: token=abc")
    else:
        body, status = json.dumps({"called": path}).encode(), 200
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def stub_upstreams() -> dict[str, StubUpstream]:
    return {
        "time": StubUpstream("time", {"get_current_time", "convert_time", "slow", "explode"}),
        "sandbox": StubUpstream("sandbox", {"execute_python"}, required=False),
        "github": StubUpstream("github", {"search"}, required=False),
        "github--acme": StubUpstream("github--acme", {"search"}, required=False),
    }


def build(settings: GatewaySettings, upstreams: dict[str, StubUpstream], metrics: GatewayMetrics) -> GatewayMiddleware:
    return GatewayMiddleware(
        stub_mcpo,
        settings=settings,
        keys=ApiKeys.from_files(settings.clients),
        policy=TenantPolicy(
            settings,
            UserIdentityVerifier.from_file(settings.user_identity_secret_file),
            UserDirectory.from_settings(settings.user_directory),
        ),
        limiter=RateLimiter(settings.rate_limits.per_client_per_minute, settings.rate_limits.global_per_minute),
        upstreams=Upstreams(upstreams),
        metrics=metrics,
    )  # type: ignore[arg-type]


def auth(name: str) -> dict[str, str]:
    keys = {"open-webui": "k-open-webui-0123456789", "ci": "k-ci-0123456789abcdef", "noisy": "k-noisy-0123456789abc"}
    return {"Authorization": f"Bearer {keys[name]}"}


def user(user_id: str, email: str, role: str = "user") -> dict[str, str]:
    """Open WebUI's key and the end user, signed as Open WebUI signs it."""
    return {**auth("open-webui"), "X-OpenWebUI-User-Jwt": signed_user(user_id, email, role)}


ACME_USER = user("u-1", "ann@acme.test")


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:mcpstack:problem:{slug}"
    assert body["status"] == status
    assert body["correlation_id"] == response.headers["x-request-id"]
    return body
