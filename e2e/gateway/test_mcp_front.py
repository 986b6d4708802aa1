"""The gateway's MCP front (/mcp/ROUTE) driven by the MCP SDK's own client (the SDK Open WebUI uses), against a
small stack: the time server, the stdio reference server and a probe server (structured output, progress, a
slow tool, a failing tool). What the OpenAPI path enforces, the MCP front enforces: keys, signed users, tenants;
refusals are JSON-RPC errors carrying the problem and the correlation ID; the upstream's results pass through.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from e2e.gateway.conftest import Gateway, problem, run_in_gateway_image, variant_gateway
from mcpstack.local.variants import drop_route

pytestmark = pytest.mark.docker
TIME_LIMIT_SECONDS = 3
PROBE_PORT = 8006
PROBE = f"""
import asyncio
import uvicorn
from pydantic import BaseModel
from mcp.server.mcpserver import Context, MCPServer
server = MCPServer("probe")
class Sum(BaseModel):
    sum: float
@server.tool(description="a + b, as structured content")
def add(a: float, b: float) -> Sum:
    return Sum(sum=a + b)
@server.tool(description="Sleeps for the given seconds, reporting progress four times")
async def slow(seconds: float, ctx: Context) -> str:
    for step in range(4):
        await ctx.report_progress(step + 1, 4)
        await asyncio.sleep(seconds / 4)
    return "slept"
@server.tool(description="Always fails")
def fail() -> str:
    raise ValueError("the probe failed on purpose")
app = server.streamable_http_app(stateless_http=True, json_response=False, host="0.0.0.0")
uvicorn.run(app, host="0.0.0.0", port={PROBE_PORT}, log_level="warning")
"""


def small_stack(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    catalog["services"]["probe"] = {
        "kind": "mcp-server",
        "image": catalog["services"]["time"]["image"],
        "command": ["python", "-c", PROBE],
        "ports": [{"name": "http", "port": PROBE_PORT}],
        "health": {"port": "http"},
        "mcp": {"transports": {"streamable-http": "/mcp"}},
        "metrics_unavailable": "a test double: nothing to measure",
    }
    removed = {name for name, value in overlay.get("services", {}).items() if value is None}
    keep = {"time", "mcpo", "probe", *removed}
    overlay["local"]["skip"] = sorted(name for name in catalog["services"] if name not in keep)
    gateway = catalog["services"]["mcpo"]["gateway"]
    gateway["timeout_seconds"] = TIME_LIMIT_SECONDS
    gateway["rate_limits"].update(per_client_per_minute=100_000, global_per_minute=100_000)
    gateway["routes"]["probe"] = {"service": "probe"}
    for route in ("sandbox", "github"):  # their services are not in this stack
        drop_route(catalog, route)
    catalog["slos"]["endpoints"] = {k: v for k, v in catalog["slos"]["endpoints"].items() if k.startswith("time/")}
    catalog["tenancy"]["tenants"]["platform"]["tools"]["probe"] = "*"
    gateway["virtual_servers"]["gathered"] = {"routes": ["time-reference", "probe"]}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    config = tmp_path_factory.mktemp("mcp-front") / "config"
    with variant_gateway(config, small_stack, "mcpstack-mcpfront", ("time", "time-reference", "probe")) as gateway:
        yield gateway


@asynccontextmanager
async def mcp_session(gw: Gateway, route: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    http = create_mcp_http_client(headers=headers)
    async with (
        http,
        streamable_http_client(f"{gw.url}/mcp/{route}", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def rpc(gw: Gateway, route: str, method: str, params: dict[str, Any], **headers: str) -> httpx.Response:
    """One JSON-RPC request as a raw streamable HTTP POST (stateless: no session id needed)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return httpx.post(
        f"{gw.url}/mcp/{route}",
        json=body,
        headers={**gw.headers(), "Accept": "application/json, text/event-stream", **headers},
        timeout=30,
    )


def test_tools_list_and_call_pass_through_structured_content_and_output_schemas(gw: Gateway) -> None:
    async def scenario() -> tuple[Any, Any, Any]:
        async with mcp_session(gw, "probe", gw.headers()) as session:
            tools = await session.list_tools()
            return tools, await session.call_tool("add", {"a": 2, "b": 3}), await session.call_tool("fail", {})

    tools, added, failed = run(scenario())
    by_name = {tool.name: tool for tool in tools.tools}
    assert set(by_name) == {"add", "slow", "fail"}
    assert by_name["add"].output_schema["properties"]["sum"]["type"] == "number"
    assert added.structured_content == {"sum": 5.0} and not added.is_error
    assert failed.is_error and "Error executing tool fail" in failed.content[0].text  # a result, not an error


def test_the_same_tools_as_the_openapi_path_over_http_and_over_stdio(gw: Gateway) -> None:
    for route in ("time", "time-reference"):
        spec = gw.get(f"/{route}/openapi.json").json()

        async def listed(route: str = route) -> set[str]:
            async with mcp_session(gw, route, gw.headers()) as session:
                return {tool.name for tool in (await session.list_tools()).tools}

        assert run(listed()) == {path.strip("/") for path in spec["paths"]}


def test_a_tenant_sees_and_calls_only_its_tools(gw: Gateway) -> None:
    staff = gw.headers("open-webui", user_id="u-staff", email="ann@example.com")
    request_id = f"mcp-{uuid.uuid4().hex[:12]}"

    async def scenario() -> tuple[set[str], Any, MCPError]:
        async with mcp_session(gw, "time-reference", {**staff, "X-Request-ID": request_id}) as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
            allowed = await session.call_tool("get_current_time", {"timezone": "UTC"})
            with pytest.raises(MCPError) as refused:
                await session.call_tool(
                    "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"}
                )
            return names, allowed, refused.value

    names, allowed, refused = run(scenario())
    assert names == {"get_current_time"}  # staff: time-reference [get_current_time] only
    assert not allowed.is_error
    assert refused.code == -32003
    assert refused.data["type"] == "urn:mcpstack:problem:forbidden"
    assert refused.data["correlation_id"] == request_id


def test_open_webui_without_a_user_lists_every_tool_and_calls_none(gw: Gateway) -> None:
    async def scenario() -> tuple[set[str], MCPError]:
        async with mcp_session(gw, "time", gw.headers("open-webui")) as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
            with pytest.raises(MCPError) as refused:
                await session.call_tool("get_current_time", {"timezone": "UTC"})
            return names, refused.value

    names, refused = run(scenario())
    assert "get_current_time" in names
    assert refused.data["type"] == "urn:mcpstack:problem:forbidden"


def test_a_request_without_a_key_or_with_a_forged_user_is_refused_as_a_problem(gw: Gateway) -> None:
    response = httpx.post(f"{gw.url}/mcp/time", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    forged = gw.headers("open-webui", user_id="u1", email="a@example.com")
    forged["X-OpenWebUI-User-Jwt"] = gw.user_token("u1", "a@example.com", secret="not-the-key-" * 4)
    problem(rpc(gw, "time", "tools/list", {}, **forged), 401, "invalid-user-identity")
    problem(rpc(gw, "no-such-route", "tools/list", {}), 404, "not-found")


def test_an_unknown_tool_is_answered_by_the_upstream_and_every_answer_carries_the_request_id(gw: Gateway) -> None:
    response = rpc(gw, "time", "tools/call", {"name": "no_such_tool", "arguments": {}}, **{"X-Request-ID": "req-123"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "req-123"
    result = response.json()["result"]  # the time server's own answer, passed through
    assert result["isError"] is True and "no_such_tool" in result["content"][0]["text"]


def test_the_time_limit_ends_a_call_with_upstream_timeout(gw: Gateway) -> None:
    response = rpc(gw, "probe", "tools/call", {"name": "slow", "arguments": {"seconds": TIME_LIMIT_SECONDS + 2}})
    error = response.json()["error"]
    assert error["data"]["type"] == "urn:mcpstack:problem:upstream-timeout", error


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ],
)
def test_protocol_version_negotiation(gw: Gateway, asked: str, answered: str) -> None:
    params = {"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}
    result = rpc(gw, "time", "initialize", params).json()["result"]
    assert result["protocolVersion"] == answered
    assert result["capabilities"]["tools"] is not None


def test_progress_of_the_upstream_reaches_a_client_that_asked_for_it(gw: Gateway) -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async def scenario() -> Any:
        async with mcp_session(gw, "probe", gw.headers()) as session:
            return await session.call_tool("slow", {"seconds": 0.4}, progress_callback=progress)

    result = run(scenario())
    assert result.content[0].text == "slept"
    assert seen == [1, 2, 3, 4]


def test_a_client_that_disconnects_mid_call_affects_no_other_call(gw: Gateway) -> None:
    async def scenario() -> list[Any]:
        async def walk_away() -> None:
            body = {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "tools/call",
                "params": {"name": "slow", "arguments": {"seconds": 2}},
            }
            headers = {**gw.headers(), "Accept": "application/json, text/event-stream"}
            async with httpx.AsyncClient(timeout=0.5) as client:
                with pytest.raises(httpx.ReadTimeout):
                    await client.post(f"{gw.url}/mcp/probe", json=body, headers=headers)

        async def add(n: int) -> Any:
            async with mcp_session(gw, "probe", gw.headers()) as session:
                return await session.call_tool("add", {"a": n, "b": 1})

        await asyncio.gather(*(walk_away() for _ in range(5)))
        return await asyncio.gather(*(add(n) for n in range(10)))

    results = run(scenario())
    assert [r.structured_content["sum"] for r in results] == [n + 1.0 for n in range(10)]
    ready = httpx.get(gw.url + "/ready", headers=gw.headers(), timeout=5).json()
    assert ready["upstreams"]["probe"]["state"] == "up"


def test_metrics_count_mcp_calls_by_route_tool_and_outcome(gw: Gateway) -> None:
    rpc(gw, "probe", "tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}})
    rpc(gw, "probe", "tools/call", {"name": "fail", "arguments": {}})
    text = gw.get("/metrics").text
    assert 'gateway_mcp_requests_total{method="tools/call",route="probe",status="ok",tool="add"}' in text
    assert 'gateway_mcp_requests_total{method="tools/call",route="probe",status="tool-error",tool="fail"}' in text


def test_dns_rebinding_is_refused(gw: Gateway) -> None:
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}
    refused = rpc(gw, "time", "initialize", params, Host="evil.example.com")
    assert 400 <= refused.status_code < 500
    assert json.dumps(rpc(gw, "time", "initialize", params).json()["result"]["serverInfo"])


def test_a_virtual_server_gathers_its_routes_tools_under_route_names(gw: Gateway) -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async def scenario() -> tuple[dict[str, Any], Any, Any, Any, Any]:
        async with mcp_session(gw, "gathered", gw.headers()) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            added = await session.call_tool("probe_add", {"a": 2, "b": 3})
            now = await session.call_tool("time-reference_get_current_time", {"timezone": "Asia/Tokyo"})
            unknown = await session.call_tool("nowhere_add", {"a": 1, "b": 1})
            slow = await session.call_tool("probe_slow", {"seconds": 0.4}, progress_callback=progress)
            return tools, added, now, unknown, slow

    tools, added, now, unknown, slow = run(scenario())
    assert set(tools) == {
        "time-reference_get_current_time",
        "time-reference_convert_time",
        "probe_add",
        "probe_slow",
        "probe_fail",
    }
    assert tools["probe_add"].output_schema["properties"]["sum"]["type"] == "number"  # schemas as declared
    assert added.structured_content == {"sum": 5.0}
    assert "+09:00" in now.content[0].text
    assert unknown.is_error and "Unknown tool: nowhere_add" in unknown.content[0].text
    assert slow.content[0].text == "slept" and seen == [1, 2, 3, 4]
    text = gw.get("/metrics").text  # counted by the member route, as on the route's own endpoint
    assert 'gateway_mcp_requests_total{method="tools/call",route="probe",status="ok",tool="add"}' in text
    assert 'gateway_mcp_requests_total{method="tools/list",route="gathered",status="ok",tool="-"}' in text


def test_a_virtual_server_keeps_each_routes_tenancy(gw: Gateway) -> None:
    staff = gw.headers("open-webui", user_id="u-staff", email="ann@example.com")

    async def scenario() -> tuple[set[str], Any, MCPError]:
        async with mcp_session(gw, "gathered", staff) as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
            absent = await session.call_tool("probe_add", {"a": 1, "b": 1})
            with pytest.raises(MCPError) as refused:
                await session.call_tool(
                    "time-reference_convert_time",
                    {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"},
                )
            return names, absent, refused.value

    names, absent, refused = run(scenario())
    assert names == {"time-reference_get_current_time"}  # staff: no probe, only get_current_time of the other
    assert absent.is_error and "Unknown tool: probe_add" in absent.content[0].text  # a route outside the tenant
    assert refused.data["type"] == "urn:mcpstack:problem:forbidden"  # a tool outside it, on a route inside it
    guest = gw.headers("open-webui", user_id="u-guest", email="gus@guest.example.com")  # guests: time only
    problem(rpc(gw, "gathered", "tools/list", {}, **guest), 403, "forbidden")
    arguments = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"}
    fast = rpc(gw, "gathered", "tools/call", {"name": "time-reference_convert_time", "arguments": arguments}, **staff)
    assert fast.json()["error"]["data"]["type"] == "urn:mcpstack:problem:forbidden"  # the fast path checks it too


# Requests the MCP front's fast path (servers/gateway/mcp_fast_call.py) answers; every other one of the set goes to
# the SDK's transport on both fronts.
FAST = {
    "valid call",
    "valid call, no arguments",
    "structured content",
    "isError result",
    "unknown tool",
    "upstream failure",
    "tool forbidden for the tenant",
    "tool allowed for the tenant",
    "id string",
    "id numeric string",
    "id int",
    "protocol version 2025-06-18",
    "protocol version 2025-03-26",
    "allowed Host with port",
    "allowed Origin",
    "Accept: JSON only",
    "Content-Type with charset",
    "_meta without a progress token",
    "a session id",
}


@pytest.fixture(scope="module")
def both_paths(gw: Gateway) -> dict[str, Any]:
    """tests/gateway/mcp_front_pairs.py's answers from a front with the fast path and one without, in process,
    run in the gateway's image (its MCP SDK is the gateway's, mcp<2, not this venv's)."""
    return run_in_gateway_image(gw, "tests.gateway.mcp_front_pairs")


def test_the_fast_path_answers_plain_tool_calls_exactly_as_the_sdk_path_does(both_paths: dict[str, Any]) -> None:
    fast, sdk = both_paths["fast"]["answers"], both_paths["sdk"]["answers"]
    assert [a["case"] for a in fast] == [a["case"] for a in sdk] and len(fast) > len(FAST)
    assert {a["case"] for a in fast if a["fast"]} == FAST  # the others went to the SDK's transport
    assert not any(a["fast"] for a in sdk)
    for mine, theirs in zip(fast, sdk, strict=True):
        for part in ("status", "headers", "body", "log"):
            assert mine[part] == theirs[part], (mine["case"], part, mine[part], theirs[part])
    assert both_paths["fast"]["counters"] == both_paths["sdk"]["counters"]


def test_the_fast_path_keeps_the_tenant_the_problem_and_one_log_line(both_paths: dict[str, Any]) -> None:
    answers = {a["case"]: a for a in both_paths["fast"]["answers"]}
    forbidden = answers["tool forbidden for the tenant"]
    error = json.loads(forbidden["body"])["error"]
    assert error["data"]["type"] == "urn:mcpstack:problem:forbidden"
    assert error["data"]["correlation_id"] == dict(forbidden["headers"])["x-request-id"]
    valid = answers["valid call"]
    assert dict(valid["headers"])["content-type"] == "application/json"
    assert json.loads(valid["body"])["result"]["isError"] is False
    assert [line["outcome"] for line in valid["log"]] == ["ok"]
    assert json.loads(answers["id string"]["body"])["id"] == "abc"


def test_the_fast_path_cancels_a_call_whose_client_hangs_up(both_paths: dict[str, Any]) -> None:
    fast, sdk = both_paths["fast"]["hang_up"], both_paths["sdk"]["hang_up"]
    assert fast["fast"] and not sdk["fast"]
    for gone in (fast, sdk):  # nothing sent, the upstream call cancelled at once, one 499 line
        assert gone["sent"] == [] and gone["upstream_cancelled"] == 1 and gone["within_a_second"], gone
        assert [line["status"] for line in gone["log"]] == [499], gone
    # the fast path's line also names the call (the SDK's handler ends after the line is written)
    assert fast["log"][0]["tool"] == "slow" and fast["log"][0]["outcome"] == "cancelled"
