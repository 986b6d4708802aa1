"""Tool-list changes through the gateway's MCP front, end to end: an upstream that adds a tool is listed again
(and its OpenAPI endpoints are rebuilt), and a client listening on its GET stream (the MCP SDK's own client, as
Open WebUI uses it) is told with `notifications/tools/list_changed` — when the upstream says so (a stateful
upstream sends the notification) and when it cannot (a stateless upstream: the gateway lists it again every
`tool_list_refresh_seconds`); a virtual server tells of a change in any of its routes. Only changes to tools the
caller's tenant may see are announced; the stream is stateless (its event ids are the tools' fingerprint, so a
reconnecting client hears of what it missed), limited per caller, and ends when the gateway stops.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import ToolListChangedNotification

from e2e.gateway.conftest import Gateway, container, problem, variant_gateway, wait_gateway_up
from e2e.gateway.test_mcp_front import small_stack

pytestmark = pytest.mark.docker
REFRESH_SECONDS = 1.0
STREAMS_PER_CALLER = 3
CHANGER = """
import sys
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
stateful = sys.argv[1] == "stateful"
server = MCPServer("changer")
@server.tool(description="Says the text back")
def echo(text: str) -> str:
    return text
@server.tool(description="Adds a tool of the given name (it answers with its own name)")
async def grow(name: str, ctx: Context) -> str:
    server.add_tool(lambda: name, name=name, description="added by grow")
    if stateful:
        await ctx.session.send_tool_list_changed()
    return "added " + name
@server.tool(description="Says its tools changed `count` times, without changing them (a hostile upstream)")
async def flood(count: int, ctx: Context) -> str:
    for _ in range(count):
        await ctx.session.send_tool_list_changed()
    return "flooded"
app = server.streamable_http_app(stateless_http=not stateful, json_response=False, host="0.0.0.0")
uvicorn.run(app, host="0.0.0.0", port=int(sys.argv[2]), log_level="warning")
"""
CHANGERS = {"changes-pushed": ("stateful", 8007), "changes-polled": ("stateless", 8008)}
TRIGGER = {"changes-pushed": "notification", "changes-polled": "interval"}  # what made the gateway list again


def changing_stack(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    small_stack(catalog, overlay)
    gateway = catalog["services"]["mcpo"]["gateway"]
    gateway["tool_list_refresh_seconds"] = REFRESH_SECONDS
    gateway["limits"]["max_event_streams_per_caller"] = STREAMS_PER_CALLER
    tenants = catalog["tenancy"]["tenants"]
    for name, (mode, port) in CHANGERS.items():
        catalog["services"][name] = {
            "kind": "mcp-server",
            "image": catalog["services"]["time"]["image"],
            "command": ["python", "-c", CHANGER, mode, str(port)],
            "ports": [{"name": "http", "port": port}],
            "health": {"port": "http"},
            "mcp": {"transports": {"streamable-http": "/mcp"}},
            "metrics_unavailable": "a test double: nothing to measure",
        }
        gateway["routes"][name] = {"service": name}
        tenants["platform"]["tools"][name] = "*"
        tenants["staff"]["tools"][name] = ["echo"]  # staff never sees what `grow` adds
    gateway["virtual_servers"]["changing"] = {"routes": list(CHANGERS)}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    config = tmp_path_factory.mktemp("tool-list-changes") / "config"
    with variant_gateway(config, changing_stack, "mcpstack-toolchanges", CHANGERS) as gateway:
        yield gateway


class Listener:
    """An MCP SDK client session on a route that records the tool-list changes it is told of."""

    def __init__(self, session: ClientSession, changes: list[float]) -> None:
        self.session, self.changes = session, changes

    async def names(self) -> set[str]:
        return {tool.name for tool in (await self.session.list_tools()).tools}

    async def told_within(self, seconds: float, already: int = 0) -> float | None:
        """Seconds until a change notification beyond the first `already` arrived; None if none came."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if len(self.changes) > already:
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        return None


@asynccontextmanager
async def listening(gw: Gateway, route: str, headers: dict[str, str]) -> AsyncIterator[Listener]:
    changes: list[float] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            changes.append(time.monotonic())

    http = create_mcp_http_client(headers=headers)
    async with (
        http,
        streamable_http_client(f"{gw.url}/mcp/{route}", http_client=http) as (read, write),
        ClientSession(read, write, message_handler=on_message) as session,
    ):
        result = await session.initialize()
        assert result.capabilities.tools is not None and result.capabilities.tools.list_changed is True
        await asyncio.sleep(0.5)  # the SDK opens its GET stream right after `initialized`
        yield Listener(session, changes)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def new_tool() -> str:
    return f"added_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("route", list(CHANGERS))
def test_a_listening_client_is_told_and_then_lists_and_calls_the_new_tool(gw: Gateway, route: str) -> None:
    name = new_tool()

    async def scenario() -> tuple[set[str], float | None, set[str], Any]:
        async with listening(gw, route, gw.headers()) as client:
            before = await client.names()
            await client.session.call_tool("grow", {"name": name})
            told = await client.told_within(10 * REFRESH_SECONDS + 5)
            return before, told, await client.names(), await client.session.call_tool(name, {})

    before, told, after, called = run(scenario())
    assert name not in before and {"echo", "grow"} <= before
    assert told is not None, f"no notifications/tools/list_changed within {10 * REFRESH_SECONDS + 5:g} s on {route}"
    assert after == before | {name}
    assert called.content[0].text == name and not called.is_error
    spec = gw.get(f"/{route}/openapi.json").json()  # the OpenAPI path's endpoints follow the change
    assert f"/{name}" in spec["paths"], f"{name} is not in {route}'s OpenAPI spec: {sorted(spec['paths'])}"
    over_openapi = gw.post(f"/{route}/{name}", {})
    assert over_openapi.status_code == 200 and over_openapi.json() == name, over_openapi.text
    metrics = gw.get("/metrics").text
    found = f'gateway_tool_list_refreshes_total{{outcome="changed",trigger="{TRIGGER[route]}",upstream="{route}"}}'
    assert found in metrics, f"{route}'s change was not found by {TRIGGER[route]}"
    assert f'gateway_mcp_notifications_total{{route="{route}"}}' in metrics
    print(f"{route}: told {told:.2f} s after the tool was added")  # recorded in docs/gateway.md


def test_a_change_outside_the_callers_tenant_is_not_announced_to_it(gw: Gateway) -> None:
    staff = gw.headers("open-webui", user_id="u-staff", email="ann@example.com")
    name = new_tool()

    async def scenario() -> tuple[float | None, list[float], set[str]]:
        async with (
            listening(gw, "changes-pushed", gw.headers()) as platform,
            listening(gw, "changes-pushed", staff) as staff_client,
        ):
            await platform.session.call_tool("grow", {"name": name})
            told = await platform.told_within(10)
            await asyncio.sleep(2 * REFRESH_SECONDS)  # time enough for a notification staff should not get
            return told, staff_client.changes, await staff_client.names()

    told, staff_changes, staff_names = run(scenario())
    assert told is not None
    assert staff_changes == [] and staff_names == {"echo"}


def test_a_virtual_server_tells_of_a_change_in_any_of_its_routes(gw: Gateway) -> None:
    name = new_tool()

    async def scenario() -> tuple[set[str], float | None, set[str]]:
        async with listening(gw, "changing", gw.headers()) as client:
            before = await client.names()
            await client.session.call_tool("changes-polled_grow", {"name": name})
            told = await client.told_within(10 * REFRESH_SECONDS + 5)
            return before, told, await client.names()

    before, told, after = run(scenario())
    assert {"changes-pushed_echo", "changes-polled_grow"} <= before
    assert told is not None
    assert after == before | {f"changes-polled_{name}"}


def refreshes(gw: Gateway, upstream: str, trigger: str) -> float:
    total = 0.0
    for line in gw.get("/metrics").text.splitlines():
        labels = (f'upstream="{upstream}"', f'trigger="{trigger}"')
        if line.startswith("gateway_tool_list_refreshes_total{") and all(label in line for label in labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_an_upstream_that_floods_change_notifications_gets_at_most_one_listing_a_second(gw: Gateway) -> None:
    before = refreshes(gw, "changes-pushed", "notification")

    async def flood() -> Any:
        async with listening(gw, "changes-pushed", gw.headers()) as client:
            started = time.monotonic()
            result = await client.session.call_tool("flood", {"count": 500})
            await asyncio.sleep(3)
            return result, time.monotonic() - started, len(client.changes)

    result, seconds, told = run(flood())
    assert result.content[0].text == "flooded"
    listings = refreshes(gw, "changes-pushed", "notification") - before
    assert 1 <= listings <= seconds + 2, f"{listings:g} listings in {seconds:.1f} s for 500 notifications"
    assert told == 0  # nothing changed: nothing to tell


def open_stream(gw: Gateway, client: httpx.Client, route: str, headers: dict[str, str]) -> Any:
    request = client.build_request(
        "GET", f"{gw.url}/mcp/{route}", headers={**headers, "Accept": "text/event-stream"}, timeout=30
    )
    return client.send(request, stream=True)


def first_event(response: httpx.Response) -> dict[str, str]:
    """The stream's first event's fields (id, data, ...)."""
    event: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if event:
                return event
            continue
        field, _, value = line.partition(":")
        if field:
            event[field] = value.removeprefix(" ")
    raise AssertionError(f"the stream ended before its first event: {event}")


def test_a_client_that_reconnects_hears_of_a_change_it_missed_from_any_replica(gw: Gateway) -> None:
    with httpx.Client() as client:
        response = open_stream(gw, client, "changes-pushed", gw.headers())
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        priming = first_event(response)
        response.close()
    assert priming["data"] == "" and priming["id"]  # a priming event: an id to resume from, no message

    async def grow() -> None:
        async with listening(gw, "changes-pushed", gw.headers()) as grower:
            await grower.session.call_tool("grow", {"name": new_tool()})

    run(grow())
    # no state links the two GETs: the event id alone says what the client last heard of
    resumed_headers = {**gw.headers(), "Last-Event-ID": priming["id"]}
    with httpx.Client() as client:
        missed = gw.wait_until(lambda: _resumed_event(gw, client, resumed_headers).get("data") != "", 15, "a change")
        event = _resumed_event(gw, client, resumed_headers)
        current = _resumed_event(gw, client, {**gw.headers(), "Last-Event-ID": event["id"]})
    assert missed < 15
    assert '"notifications/tools/list_changed"' in event["data"] and event["id"] != priming["id"]
    assert current["data"] == "" and current["id"] == event["id"]  # nothing new since: a priming event again


def _resumed_event(gw: Gateway, client: httpx.Client, headers: dict[str, str]) -> dict[str, str]:
    response = open_stream(gw, client, "changes-pushed", headers)
    try:
        return first_event(response)
    finally:
        response.close()


@contextmanager
def streams(gw: Gateway, count: int, headers: dict[str, str]) -> Iterator[list[httpx.Response]]:
    with httpx.Client() as client:
        opened = [open_stream(gw, client, "changes-polled", headers) for _ in range(count)]
        try:
            yield opened
        finally:
            for response in opened:
                response.close()


def test_a_caller_cannot_hold_more_streams_than_its_share_and_others_are_unaffected(gw: Gateway) -> None:
    staff = gw.headers("open-webui", user_id="u-staff", email="ann@example.com")
    with streams(gw, STREAMS_PER_CALLER + 1, gw.headers()) as mine:
        assert [r.status_code for r in mine[:STREAMS_PER_CALLER]] == [200] * STREAMS_PER_CALLER
        mine[-1].read()
        refused = problem(mine[-1], 429, "rate-limited")
        assert str(STREAMS_PER_CALLER) in refused["detail"] and mine[-1].headers["retry-after"]
        with streams(gw, 1, staff) as others:
            assert others[0].status_code == 200  # another caller's share
            metrics = gw.get("/metrics").text
            assert f"gateway_mcp_event_streams {STREAMS_PER_CALLER + 1}.0" in metrics
            assert "gateway_requests_in_flight 1.0" in metrics  # this request: open streams are not in flight
    with streams(gw, 1, gw.headers()) as again:  # closed streams give their share back
        assert again[0].status_code == 200


def test_a_stream_is_refused_as_the_rest_of_the_front_refuses(gw: Gateway) -> None:
    with httpx.Client() as client:
        no_key = open_stream(gw, client, "changes-polled", {})
        no_key.read()
        problem(no_key, 401, "unauthorized")
        wrong_accept = client.get(
            f"{gw.url}/mcp/changes-polled", headers={**gw.headers(), "Accept": "application/json"}
        )
        assert wrong_accept.status_code == 406  # the SDK transport's own answer
        rebinding = open_stream(gw, client, "changes-polled", {**gw.headers(), "Host": "evil.example.com"})
        rebinding.read()
        assert rebinding.status_code == 421
        guest = gw.headers("open-webui", user_id="u-guest", email="gus@guest.example.com")
        outside = open_stream(gw, client, "changes-polled", guest)  # guests have no tools on this route
        outside.read()
        problem(outside, 403, "forbidden")


def test_initialize_issues_a_session_id_that_no_replica_needs_to_know(gw: Gateway) -> None:
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}
    headers = {**gw.headers(), "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    answer = httpx.post(f"{gw.url}/mcp/changes-polled", json=body, headers=headers, timeout=10)
    assert answer.json()["result"]["capabilities"]["tools"]["listChanged"] is True
    issued = answer.headers["mcp-session-id"]
    assert len(issued) >= 32
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    for session_id in (issued, "never-issued-by-anyone"):  # as after a replica change: any id is served
        listed = httpx.post(
            f"{gw.url}/mcp/changes-polled", json=listing, headers={**headers, "Mcp-Session-Id": session_id}, timeout=10
        )
        assert listed.status_code == 200 and {"echo", "grow"} <= {t["name"] for t in listed.json()["result"]["tools"]}
    closed = httpx.delete(f"{gw.url}/mcp/changes-polled", headers={**headers, "Mcp-Session-Id": issued}, timeout=10)
    assert closed.status_code == 405  # nothing is kept under the id: nothing to end


def test_open_streams_end_when_the_gateway_stops(gw: Gateway) -> None:
    """uvicorn waits for every response in progress before it stops: the streams must end by themselves."""
    gateway = container(gw.stack, "mcpo")
    with streams(gw, 2, gw.headers()):
        started = time.monotonic()
        gateway.stop(timeout=25)
        stopped = time.monotonic() - started
    gateway.reload()
    exit_code = gateway.attrs["State"]["ExitCode"]
    gateway.start()
    wait_gateway_up(gw, 60)
    assert stopped < 10, f"the gateway took {stopped:.1f} s to stop with two streams open"
    assert exit_code == 0, f"the gateway was killed (exit {exit_code}), it did not stop by itself"
