"""The lean upstream exchange against a real MCP server (the SDK's, served by uvicorn on a loopback port, with our
servers' HTTP app: credential check, disconnect handling), over the gateway's pooled, call-isolating client.

Broken replies come from a small ASGI layer in front of the real server that spoils the reply of one tool."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servers.common.http import build_http_app
from servers.common.tests.serving import BackgroundServer
from servers.common.upstream_auth import UpstreamAuth
from servers.gateway.isolation import BAD_REPLY, FAILURE_KEY, UNREACHABLE
from servers.gateway.lean_exchange import Target, UpstreamError, call_tool
from servers.gateway.upstream_client import MAX_CONNECTIONS_PER_UPSTREAM, upstream_http_client

TOKEN = "route-credential-0123456789"
VERSION = "2025-06-18"
META = {"io.mcpstack/correlation-id": "corr-1", "io.mcpstack/caller": {"client": "ci", "tenant": "t", "user": ""}}


def mcp_server(events: list[str]) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("lean-test")

    @server.tool()
    async def echo(text: str, ctx: Context) -> str:
        meta = ctx.request_context.meta or {}
        return json.dumps({"text": text, "meta": {k: v for k, v in dict(meta).items() if k.startswith("io.")}})

    @server.tool()
    async def fail() -> str:
        raise ToolError("no such thing")

    @server.tool()
    async def refuse() -> str:
        raise MCPError(INVALID_PARAMS, "not like this")

    @server.tool()
    async def steps(count: int, ctx: Context) -> str:
        for step in range(count):
            await ctx.report_progress(step + 1, count, f"step {step + 1}")
        return "done"

    @server.tool()
    async def sleep(seconds: float) -> str:
        events.append("started")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        events.append("finished")
        return "slept"

    return server


class Spoiler:
    """Spoils the reply to a call of a tool named spoil_<how>: not JSON, another request's id, or cut off."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        message = await receive()
        body = message.get("body", b"")
        how = json.loads(body).get("params", {}).get("name", "") if body else ""

        pending = [message]

        async def replayed() -> Message:
            return pending.pop() if pending else await receive()

        if how == "spoil_html":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<html>oops</html>"})
        elif how == "spoil_json":
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": b'{"jsonrpc": "2.0", "id": '})
        elif how == "spoil_id":
            reply = {"jsonrpc": "2.0", "id": 999, "result": {"content": []}}
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": json.dumps(reply).encode()})
        elif how == "spoil_cut":
            headers = [(b"content-type", b"application/json"), (b"content-length", b"500")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"jsonrpc": "2.0",', "more_body": True})
            raise RuntimeError("the server dies mid-reply")
        else:
            await self.app(scope, replayed, send)


@pytest.fixture(scope="module")
def events() -> list[str]:
    return []


@pytest.fixture(scope="module")
def upstream(events: list[str]) -> Iterator[str]:
    """Our servers' HTTP app (JSON replies, credential required, calls cancelled on disconnect), spoiling some."""
    app = build_http_app(mcp_server(events), registry=CollectorRegistry(), auth=UpstreamAuth.of(TOKEN))
    server = BackgroundServer(Spoiler(app))  # type: ignore[arg-type]
    server.start()
    yield server.url + "/mcp"
    server.stop()


@pytest.fixture(scope="module")
def streaming_upstream(events: list[str]) -> Iterator[str]:
    """The SDK's stateless server answering with event streams (progress notifications, then the result)."""
    app = mcp_server(events).streamable_http_app(streamable_http_path="/mcp", stateless_http=True)
    server = BackgroundServer(app)
    server.start()
    yield server.url + "/mcp"
    server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with upstream_http_client({"Authorization": f"Bearer {TOKEN}"}) as http:
        yield http


def target(url: str, client: httpx.AsyncClient, version: str = VERSION) -> Target:
    return Target(url, client, version, asyncio.Semaphore(MAX_CONNECTIONS_PER_UPSTREAM))


def dumped(result: Any) -> dict[str, Any]:
    return result.model_dump(by_alias=True, exclude_none=True)


def failure_of(info: pytest.ExceptionInfo[UpstreamError]) -> str | None:
    data = info.value.error.data
    return data.get(FAILURE_KEY) if isinstance(data, dict) else None


async def test_a_call_is_one_post_with_its_meta(upstream: str, client: httpx.AsyncClient) -> None:
    result = dumped(await call_tool(target(upstream, client), 1, "echo", {"text": "hi"}, META))
    assert result.get("isError", False) is False
    assert json.loads(result["content"][0]["text"]) == {"text": "hi", "meta": META}


async def test_an_iserror_result_is_a_result(upstream: str, client: httpx.AsyncClient) -> None:
    result = dumped(await call_tool(target(upstream, client), 2, "fail", {}, META))
    assert result["isError"] is True and "no such thing" in result["content"][0]["text"]


async def test_the_upstreams_jsonrpc_error_is_raised_as_is(upstream: str, client: httpx.AsyncClient) -> None:
    with pytest.raises(UpstreamError) as info:
        await call_tool(target(upstream, client), 3, "refuse", {}, META)
    assert failure_of(info) is None  # the server's own error, not the gateway's
    assert (info.value.error.code, info.value.error.message) == (INVALID_PARAMS, "not like this")


@pytest.mark.parametrize(
    ("tool", "reason"),
    [
        ("spoil_html", "text/html"),
        ("spoil_json", "not JSON-RPC"),
        ("spoil_id", "id 999"),
        ("spoil_cut", "hung up mid-reply"),
    ],
)
async def test_a_broken_reply_fails_that_call_alone(
    upstream: str, client: httpx.AsyncClient, tool: str, reason: str
) -> None:
    to = target(upstream, client)
    broken = call_tool(to, 4, tool, {}, META)
    good = call_tool(to, 5, "echo", {"text": "still here"}, META)
    outcomes = await asyncio.gather(broken, good, return_exceptions=True)
    assert isinstance(outcomes[0], UpstreamError), outcomes[0]
    assert outcomes[0].error.data == {FAILURE_KEY: BAD_REPLY} and reason in outcomes[0].error.message
    assert json.loads(dumped(outcomes[1])["content"][0]["text"])["text"] == "still here"


async def test_the_route_headers_go_on_every_request(upstream: str) -> None:
    async with upstream_http_client() as bare:  # no route header: the server's credential check refuses
        with pytest.raises(UpstreamError) as info:
            await call_tool(target(upstream, bare), 6, "echo", {"text": "hi"}, META)
    assert failure_of(info) == BAD_REPLY and "HTTP 401" in info.value.error.message


async def test_the_negotiated_protocol_version_is_sent(upstream: str, client: httpx.AsyncClient) -> None:
    with pytest.raises(UpstreamError) as info:
        await call_tool(target(upstream, client, "1999-01-01"), 7, "echo", {"text": "hi"}, META)
    assert failure_of(info) == BAD_REPLY and "HTTP 400" in info.value.error.message


async def test_an_event_stream_reply_carries_progress_then_the_result(streaming_upstream: str) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with upstream_http_client() as http:
        result = await call_tool(target(streaming_upstream, http), 8, "steps", {"count": 3}, META, progress)
    assert dumped(result)["content"][0]["text"] == "done"
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


async def test_an_upstream_that_cannot_be_reached_is_reported_so(client: httpx.AsyncClient) -> None:
    closed = BackgroundServer(Starlette())
    url = closed.url + "/mcp"  # a free port nobody listens on
    closed.sock.close()
    with pytest.raises(UpstreamError) as info:
        await call_tool(target(url, client), 9, "echo", {"text": "hi"}, META)
    assert failure_of(info) == UNREACHABLE


async def test_cancelling_the_call_stops_it_upstream(
    upstream: str, client: httpx.AsyncClient, events: list[str]
) -> None:
    events.clear()
    call = asyncio.ensure_future(call_tool(target(upstream, client), 10, "sleep", {"seconds": 5}, META))
    for _ in range(100):
        if "started" in events:
            break
        await asyncio.sleep(0.02)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    for _ in range(100):
        if "cancelled" in events:
            break
        await asyncio.sleep(0.02)
    assert events == ["started", "cancelled"]


async def test_calls_beyond_the_slots_wait_for_one(upstream: str, client: httpx.AsyncClient) -> None:
    one_slot = Target(upstream, client, VERSION, asyncio.Semaphore(1))
    started = time.monotonic()
    await asyncio.gather(*(call_tool(one_slot, n, "sleep", {"seconds": 0.3}, META) for n in (11, 12)))
    assert time.monotonic() - started >= 0.6  # one after the other


async def test_arguments_without_a_utf8_form_fail_that_call_as_invalid(
    upstream: str, client: httpx.AsyncClient
) -> None:
    with pytest.raises(UpstreamError) as info:
        await call_tool(target(upstream, client), 13, "echo", {"text": "\ud800"}, META)
    assert info.value.error.code == INVALID_PARAMS and "cannot be sent" in info.value.error.message
