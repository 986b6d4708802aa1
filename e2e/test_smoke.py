"""Smoke verification of a running stack: the tool path through mcpo, auth, and monitoring.

Also what `mcpstack smoke` runs against the stack `mcpstack up` started, with the chat checks marked smoke in
e2e/chat/test_chat.py (the seed sentence through Open WebUI's default, native function calling).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest

from e2e.target import Target
from mcpstack.catalog.models import GatewayRoute, McpServerService
from mcpstack.generate.prometheus import scrape_targets
from mcpstack.local.server_tokens import route_headers
from mcpstack.local.stack import LocalStack
from servers.common.tests.authorized import mcp_client

pytestmark = [pytest.mark.smoke]


def _tools_served_directly(stack: LocalStack, route: GatewayRoute, path: str) -> set[str]:
    """What the route's server lists, asked with the headers the gateway sends it (ours answer no one else)."""
    assert route.service is not None
    headers = route_headers(route, stack.secrets)

    async def list_tools() -> set[str]:
        async with mcp_client(stack.url(route.service) + path, headers=headers) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    return anyio.run(list_tools)


def test_every_route_lists_its_servers_tools_in_openapi(target: Target, gateway: httpx.Client) -> None:
    """Every gateway route's OpenAPI spec lists the tools its MCP server offers."""
    for route_name, route in target.gateway.gateway.routes.items():
        response = gateway.get(f"/{route_name}/openapi.json")
        assert response.status_code == 200, f"{route_name}: {response.status_code} {response.text[:200]}"
        listed = {path.strip("/") for path in response.json()["paths"]}
        assert listed, f"{route_name}: no tools"
        if target.local is None:
            continue  # a deployed stack: its MCP servers are not reachable from here, only through the gateway
        if route.service:
            server = target.catalog.services[route.service]
            assert isinstance(server, McpServerService)
            path = server.mcp.transports["streamable-http"]
            expected = _tools_served_directly(target.local, route, path)
        else:  # stdio server inside the gateway container: the reference mcp-server-time
            expected = {"get_current_time", "convert_time"}
        assert listed == expected, f"{route_name}: OpenAPI lists {sorted(listed)}, server has {sorted(expected)}"


@pytest.mark.parametrize("route", ["time", "time-reference"])
def test_time_call_returns_iso8601_timestamp_in_requested_zone(gateway: httpx.Client, route: str) -> None:
    """A time tool call through mcpo returns a current ISO-8601 timestamp in the requested zone."""
    response = gateway.post(f"/{route}/get_current_time", json={"timezone": "Asia/Tokyo"})
    assert response.status_code == 200, response.text
    body = response.json()
    moment = datetime.fromisoformat(body["datetime"])
    assert body["timezone"] == "Asia/Tokyo"
    assert moment.utcoffset() == timedelta(hours=9)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=2)


def test_sandbox_runs_python_through_the_gateway(gateway: httpx.Client) -> None:
    """execute_python("print(2+2)") through mcpo returns 4."""
    response = gateway.post("/sandbox/execute_python", json={"code": "print(2+2)"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stdout"] == "4\n"
    assert body["exit_code"] == 0
    assert body["timed_out"] is False


def test_unknown_timezone_is_a_tool_error_naming_the_problem(gateway: httpx.Client) -> None:
    """An unknown timezone is a 422 tool-error problem naming the zone (docs/gateway.md)."""
    response = gateway.post("/time/get_current_time", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:mcpstack:problem:tool-error"
    assert "Invalid timezone" in problem["detail"]
    assert "Mars/Olympus" in problem["detail"]
    assert problem["correlation_id"] == response.headers["x-request-id"]


def test_requests_without_a_valid_api_key_are_refused(target: Target) -> None:
    """No API key or a wrong one: 401 on tool calls and on the OpenAPI spec, with a generic message."""
    base = target.gateway_url
    with httpx.Client(base_url=base, timeout=10) as anonymous:
        assert anonymous.post("/time/get_current_time", json={"timezone": "UTC"}).status_code == 401
        assert anonymous.get("/time/openapi.json").status_code == 401
        wrong = anonymous.post(
            "/time/get_current_time", json={"timezone": "UTC"}, headers={"Authorization": "Bearer not-the-key"}
        )
        assert wrong.status_code == 401
        assert "not-the-key" not in wrong.text
        assert anonymous.get("/health").status_code == 200


def test_prometheus_scrapes_every_service_with_a_metrics_path(target: Target, prometheus: httpx.Client) -> None:
    """Prometheus reports every scrape target the catalog declares as up."""
    # Locally the jobs are exactly the catalog's; a deployed stack (ServiceMonitors) names them its own way.
    expected = set(scrape_targets(target.catalog)) if target.local else None
    deadline = time.monotonic() + 60
    while True:
        targets = prometheus.get("/api/v1/targets").json()["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        complete = set(health) == expected if expected is not None else bool(health)
        if complete and all(h == "up" for h in health.values()):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"targets not all up after 60 s: {health} (expected jobs {sorted(expected)})")
        time.sleep(1)
