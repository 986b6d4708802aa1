"""The shared HTTP app on a real loopback port: health checks, metrics and the transports chosen."""

from __future__ import annotations

from typing import Any

import httpx
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.server.mcpserver import MCPServer
from prometheus_client import CollectorRegistry, Counter

from servers.common.http import build_http_app
from servers.common.tests.serving import Serve
from servers.common.upstream_auth import UpstreamAuth

OPEN = UpstreamAuth.disabled()  # no credential checked: upstream_auth has its own tests


def echo_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("echo-test", version="9.9.9")

    @server.tool(description="Echo the text back.")
    def echo(text: str) -> str:
        return text

    return server


async def failing_check() -> dict[str, Any]:
    raise ConnectionError("database unreachable")


async def extra_fields() -> dict[str, Any]:
    return {"runs_in_flight": 2}


def test_health_merges_the_fields_of_the_health_check(serve: Serve) -> None:
    base = serve(build_http_app(echo_server(), auth=OPEN, registry=CollectorRegistry(), health=extra_fields))
    response = httpx.get(base + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "server": "echo-test", "version": "9.9.9", "runs_in_flight": 2}


def test_a_failing_health_check_is_a_503_with_the_reason(serve: Serve) -> None:
    base = serve(build_http_app(echo_server(), auth=OPEN, registry=CollectorRegistry(), health=failing_check))
    response = httpx.get(base + "/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unhealthy",
        "server": "echo-test",
        "version": "9.9.9",
        "detail": "database unreachable",
    }


def test_metrics_serve_the_given_registry(serve: Serve) -> None:
    registry = CollectorRegistry()
    Counter("widgets", "Widgets made", registry=registry).inc(3)
    base = serve(build_http_app(echo_server(), auth=OPEN, registry=registry))
    assert "widgets_total 3.0" in httpx.get(base + "/metrics").text


async def test_both_transports_by_default(serve: Serve) -> None:
    base = serve(build_http_app(echo_server(), auth=OPEN, registry=CollectorRegistry()))
    async with Client(base + "/mcp") as client:
        over_http = await client.call_tool("echo", {"text": "via /mcp"})
    async with Client(sse_client(base + "/sse")) as client:
        over_sse = await client.call_tool("echo", {"text": "via /sse"})
    assert over_http.content[0].text == "via /mcp"
    assert over_sse.content[0].text == "via /sse"


def test_sse_only_app_has_no_streamable_http_endpoint(serve: Serve) -> None:
    base = serve(build_http_app(echo_server(), auth=OPEN, registry=CollectorRegistry(), transports=("sse",)))
    assert httpx.post(base + "/mcp", json={}).status_code == 404
    assert httpx.get(base + "/health").status_code == 200


def test_streamable_http_only_app_has_no_sse_endpoints(serve: Serve) -> None:
    base = serve(
        build_http_app(echo_server(), auth=OPEN, registry=CollectorRegistry(), transports=("streamable-http",))
    )
    assert httpx.get(base + "/sse").status_code == 404
    assert httpx.post(base + "/messages/", json={}).status_code == 404
