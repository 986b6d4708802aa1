"""The time server over real transports on a loopback port: streamable HTTP, SSE, /health, /metrics; MCP requests
carry the gateway's bearer token, as in the stack (servers/common/upstream_auth.py)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from servers.common.tests.authorized import bearer, mcp_client
from servers.common.tests.serving import Serve, scraped
from servers.common.upstream_auth import UpstreamAuth
from servers.timeserver.server import NAME, VERSION, create_app

TOKEN = "time-server-test-token-0123456789"
AUTH = UpstreamAuth.of(TOKEN)
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
    **bearer(TOKEN),
}
TOOLS = {"get_current_time", "convert_time"}


@pytest.fixture
def base_url(serve: Serve) -> str:
    _, app = create_app(AUTH)
    return serve(app)


def post_jsonrpc(base_url: str, method: str, params: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    return httpx.post(base_url + "/mcp", json=body, headers={**MCP_HEADERS, **headers})


# --- /health and /metrics ---------------------------------------------------------------------


def test_health_reports_ok_with_server_name_and_version(base_url: str) -> None:
    health = httpx.get(base_url + "/health")
    assert health.status_code == 200
    assert health.headers["content-type"] == "application/json"
    assert health.json() == {"status": "ok", "server": NAME, "version": VERSION}


def test_metrics_are_prometheus_text_with_the_server_info(base_url: str) -> None:
    response = httpx.get(base_url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE mcp_tool_calls_total counter" in response.text
    assert scraped(base_url, "mcp_server_info", server=NAME, version=VERSION) == 1


def test_health_and_metrics_only_answer_get(base_url: str) -> None:
    assert httpx.post(base_url + "/health").status_code == 405
    assert httpx.post(base_url + "/metrics").status_code == 405


# --- streamable HTTP --------------------------------------------------------------------------


async def test_streamable_http_lists_and_calls_tools(base_url: str) -> None:
    async with mcp_client(base_url + "/mcp", TOKEN) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        now = await client.call_tool("get_current_time", {"timezone": "Asia/Kolkata"})
        converted = await client.call_tool(
            "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
        )
    assert names == TOOLS
    assert not now.is_error
    assert now.structured_content["timezone"] == "Asia/Kolkata"
    assert now.structured_content["datetime"].endswith("+05:30")
    assert converted.structured_content["time_difference"] == "+9.0h"


async def test_streamable_http_reports_tool_errors_as_results(base_url: str) -> None:
    async with mcp_client(base_url + "/mcp", TOKEN) as client:
        bad = await client.call_tool("get_current_time", {"timezone": "../etc/passwd"})
        good = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert bad.is_error
    assert "Invalid timezone in 'timezone': '../etc/passwd'" in bad.content[0].text
    assert not good.is_error


async def test_metrics_page_counts_calls_made_over_mcp(base_url: str) -> None:
    assert scraped(base_url, "mcp_tool_calls_total", tool="get_current_time") is None
    async with mcp_client(base_url + "/mcp", TOKEN) as client:
        await client.call_tool("get_current_time", {"timezone": "UTC"})
        await client.call_tool("get_current_time", {"timezone": "Nowhere"})
    assert scraped(base_url, "mcp_tool_calls_total", tool="get_current_time") == 2
    assert scraped(base_url, "mcp_tool_errors_total", tool="get_current_time", kind="tool_error") == 1
    assert scraped(base_url, "mcp_tool_call_duration_seconds_count", tool="get_current_time") == 2


@pytest.mark.parametrize(
    "params",
    [{"name": "get_current_time", "arguments": "not an object"}, {"arguments": {}}],
    ids=["arguments-not-an-object", "no-tool-name"],
)
def test_malformed_tools_call_is_a_jsonrpc_error_counted_as_invalid_params(
    base_url: str, params: dict[str, Any]
) -> None:
    response = post_jsonrpc(base_url, "tools/call", params)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32602
    tool = params.get("name", "unknown")
    assert scraped(base_url, "mcp_tool_errors_total", tool=tool, kind="invalid_params") == 1
    assert scraped(base_url, "mcp_tool_calls_total", tool=tool) == 1


def test_metrics_and_log_line_after_a_call_with_a_correlation_id(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mcpstack.tools")
    response = post_jsonrpc(
        base_url,
        "tools/call",
        {
            "name": "get_current_time",
            "arguments": {"timezone": "UTC"},
            "_meta": {"io.mcpstack/correlation-id": "trace-77"},
        },
    )
    assert response.status_code == 200
    assert response.json()["result"]["isError"] is False
    assert scraped(base_url, "mcp_tool_calls_total", tool="get_current_time") == 1
    record = next(r for r in caplog.records if r.name == "mcpstack.tools")
    assert record.fields == {
        "tool": "get_current_time",
        "outcome": "ok",
        "duration_ms": record.fields["duration_ms"],
        "correlation_id": "trace-77",
    }
    assert record.fields["duration_ms"] >= 0


def test_the_catalogs_host_names_are_accepted_and_others_refused(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: Host: time:8003 (how the gateway reaches the server, config/catalog.yaml) passes; a foreign
    Host or Origin does not."""
    monkeypatch.setenv("MCP_ALLOWED_HOSTS", "time:8003")
    _, app = create_app(AUTH)
    base_url = serve(app)
    response = post_jsonrpc(base_url, "tools/list", Host="time:8003")
    assert response.status_code == 200, response.text
    assert {tool["name"] for tool in response.json()["result"]["tools"]} == TOOLS
    assert post_jsonrpc(base_url, "tools/list", Host="evil.example.com").status_code == 421
    assert post_jsonrpc(base_url, "tools/list", Origin="http://evil.example.com").status_code == 403


# --- SSE --------------------------------------------------------------------------------------


async def test_sse_transport_lists_and_calls_tools(base_url: str) -> None:
    async with mcp_client(base_url + "/sse", TOKEN) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("get_current_time", {"timezone": "Europe/Berlin"})
        error = await client.call_tool("get_current_time", {"timezone": "Mars/Olympus"})
    assert names == TOOLS
    assert result.structured_content["timezone"] == "Europe/Berlin"
    assert error.is_error and "'Mars/Olympus'" in error.content[0].text
    assert scraped(base_url, "mcp_tool_calls_total", tool="get_current_time") == 2


# --- only the gateway -------------------------------------------------------------------------


def test_a_call_without_the_gateways_token_is_refused(base_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    body["params"] = {"name": "get_current_time", "arguments": {"timezone": "UTC"}}
    headers = {key: value for key, value in MCP_HEADERS.items() if key != "Authorization"}
    assert httpx.post(base_url + "/mcp", json=body, headers=headers).status_code == 401
    assert httpx.post(base_url + "/mcp", json=body, headers={**headers, **bearer("x" * 32)}).status_code == 401
    assert scraped(base_url, "mcp_tool_calls_total", tool="get_current_time") is None  # the tool never ran
