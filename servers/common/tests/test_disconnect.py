"""A tool call whose HTTP client went away is cancelled; one whose client waits runs to its end."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from prometheus_client import CollectorRegistry

from servers.common.http import build_http_app
from servers.common.tests.serving import Serve
from servers.common.upstream_auth import UpstreamAuth

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}

OPEN = UpstreamAuth.disabled()  # no credential checked: upstream_auth has its own tests


def sleepy_server(events: list[str]) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("sleepy-test")

    @server.tool(description="Sleep, then say so.")
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


def call_sleep(seconds: float) -> str:
    params = {"name": "sleep", "arguments": {"seconds": seconds}}
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})


def wait_for(events: list[str], event: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while event not in events and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_call_whose_client_hung_up_is_cancelled(serve: Serve) -> None:
    events: list[str] = []
    base = serve(build_http_app(sleepy_server(events), auth=OPEN, registry=CollectorRegistry()))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(base + "/mcp", content=call_sleep(3), headers=HEADERS, timeout=0.5)
    wait_for(events, "cancelled", within=2)
    assert events == ["started", "cancelled"]
    time.sleep(3)
    assert "finished" not in events


async def test_a_call_whose_client_waits_completes(serve: Serve) -> None:
    events: list[str] = []
    base = serve(build_http_app(sleepy_server(events), auth=OPEN, registry=CollectorRegistry()))
    async with Client(base + "/mcp") as client:
        result = await client.call_tool("sleep", {"seconds": 0.3})
    assert result.content[0].text == "slept"
    assert events == ["started", "finished"]
