"""The time server over real transports on a loopback port: streamable HTTP, SSE, /health, /metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client

from servers.timeserver.server import create_app


@pytest.fixture
def base_url(serve: Callable) -> str:
    _, app = create_app()
    return serve(app)


async def test_streamable_http_lists_and_calls_tools(base_url: str) -> None:
    async with Client(base_url + "/mcp") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool(
            "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
        )
    assert names == {"get_current_time", "convert_time"}
    assert result.structured_content["time_difference"] == "+9.0h"


async def test_sse_transport_serves_the_same_tools(base_url: str) -> None:
    async with Client(sse_client(base_url + "/sse")) as client:
        result = await client.call_tool("get_current_time", {"timezone": "Europe/Berlin"})
    assert result.structured_content["timezone"] == "Europe/Berlin"


def test_health_and_metrics(base_url: str) -> None:
    health = httpx.get(base_url + "/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "server": "mcpstack-time", "version": "0.1.0"}
    assert 'mcp_server_info{server="mcpstack-time",version="0.1.0"} 1.0' in httpx.get(base_url + "/metrics").text


def test_metrics_and_log_line_after_a_call_with_a_correlation_id(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mcpstack.tools")
    jsonrpc = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "get_current_time",
            "arguments": {"timezone": "UTC"},
            "_meta": {"io.mcpstack/correlation-id": "trace-77"},
        },
    }
    response = httpx.post(
        base_url + "/mcp",
        json=jsonrpc,
        headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"},
    )
    assert response.status_code == 200
    assert response.json()["result"]["isError"] is False
    assert 'mcp_tool_calls_total{tool="get_current_time"} 1.0' in httpx.get(base_url + "/metrics").text
    record = next(r for r in caplog.records if r.name == "mcpstack.tools")
    assert record.fields == {
        "tool": "get_current_time",
        "outcome": "ok",
        "duration_ms": record.fields["duration_ms"],
        "correlation_id": "trace-77",
    }


def test_other_containers_host_names_are_accepted(base_url: str) -> None:
    """The SDK's DNS-rebinding guard must not reject Host: time:8003 (how mcpo reaches the server)."""
    response = httpx.post(
        base_url + "/mcp",
        headers={
            "Host": "time:8003",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        },
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert response.status_code == 200, response.text
