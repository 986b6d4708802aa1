"""DNS-rebinding protection on a real loopback port: MCP requests whose Host or Origin is not an allowed name
are refused on both transports; the allowed names and loopback work; /health and /metrics answer any Host."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from prometheus_client import CollectorRegistry
from starlette.requests import Request

from servers.common.http import build_http_app
from servers.common.rebinding import allowed_hosts, transport_security
from servers.common.tests.serving import Serve
from servers.common.tests.test_http import echo_server
from servers.common.upstream_auth import UpstreamAuth

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
CATALOG_ENV = {"MCP_ALLOWED_HOSTS": "time:8003, time"}


@pytest.fixture
def base(serve: Serve) -> str:
    return serve(
        build_http_app(echo_server(), auth=OPEN, registry=CollectorRegistry(), security=transport_security(CATALOG_ENV))
    )


OPEN = UpstreamAuth.disabled()  # no credential checked: upstream_auth has its own tests


def initialize(base: str, **headers: str) -> int:
    return httpx.post(base + "/mcp", json=INITIALIZE, headers={**HEADERS, **headers}).status_code


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "evil.example.com", "origin": "http://evil.example.com"}, 421),  # the conformance suite's attack
        ({"host": "evil.example.com"}, 421),
        ({"host": "evil.example.com:8003"}, 421),
        ({"host": "time.evil.example.com:8003"}, 421),
        ({"origin": "http://evil.example.com"}, 403),  # a browser on the rebinding page, Host spoofed
        ({"host": "time:8003", "origin": "http://evil.example.com"}, 403),
    ],
)
def test_a_foreign_host_or_origin_is_refused(base: str, headers: dict[str, str], status: int) -> None:
    assert initialize(base, **headers) == status


@pytest.mark.parametrize(
    "headers",
    [
        {},  # httpx sends Host: 127.0.0.1:PORT
        {"host": "localhost:8003", "origin": "http://localhost:8003"},
        {"host": "[::1]:1234"},
        {"host": "localhost"},
        {"host": "time:8003"},  # the gateway's upstream URL, from the catalog
        {"host": "time"},
        {"host": "time:8003", "origin": "http://time:8003"},
    ],
)
def test_loopback_and_the_catalogs_names_are_accepted(base: str, headers: dict[str, str]) -> None:
    assert initialize(base, **headers) == 200


def test_sse_is_protected_too(base: str) -> None:
    with httpx.stream("GET", base + "/sse", headers={"host": "evil.example.com"}) as response:
        assert response.status_code == 421
    refused = httpx.post(base + "/messages/?session_id=0", json=INITIALIZE, headers={"host": "evil.example.com"})
    assert refused.status_code == 421


def test_health_and_metrics_answer_any_host(base: str) -> None:
    for path in ("/health", "/metrics"):
        assert httpx.get(base + path, headers={"host": "10.1.2.3:8003"}).status_code == 200


def test_without_configured_names_only_loopback_is_allowed() -> None:
    assert allowed_hosts({}) == ["127.0.0.1", "localhost", "[::1]", "127.0.0.1:*", "localhost:*", "[::1]:*"]
    assert allowed_hosts({"MCP_ALLOWED_HOSTS": " sandbox:8001 ,,"})[-1] == "sandbox:8001"


def accepts(settings: TransportSecuritySettings, host: str) -> bool:
    """Whether the SDK's check lets a request with this Host (and its http:// Origin) through."""
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/mcp",
            "headers": [(b"host", host.encode()), (b"origin", f"http://{host}".encode())],
        }
    )
    return asyncio.run(TransportSecurityMiddleware(settings).validate_request(request)) is None


def test_accepts_agrees_with_the_server() -> None:
    settings = transport_security(CATALOG_ENV)
    assert accepts(settings, "time:8003") and accepts(settings, "127.0.0.1:5")
    assert not accepts(settings, "evil.example.com") and not accepts(settings, "sandbox:8001")
