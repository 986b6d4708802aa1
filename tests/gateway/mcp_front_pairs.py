"""The MCP front's two paths side by side: one set of requests sent to a front with the fast path
(mcp_fast_call.py) and to one without it (the SDK's transport answers everything), in process, around the same
stand-in upstreams. Prints, as JSON, each request's answer from both (status, headers, body, the access log
line's fields, whether the fast path served it) and the counters of both fronts' metrics.

Needs the gateway's MCP SDK (mcp<2, as mcpo pins it), so it runs inside the gateway image:
e2e/gateway/test_mcp_front.py runs `python -m tests.gateway.mcp_front_pairs` there and compares.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from mcp.shared.exceptions import McpError
from mcp.types import INVALID_PARAMS, CallToolResult, ErrorData, ListToolsResult, TextContent, Tool

from servers.gateway.mcp_front import McpFront
from servers.gateway.metrics import GatewayMetrics
from servers.gateway.settings import GatewaySettings
from tests.gateway.identities import SIGNING_KEY, signed_user
from tests.gateway.stub_mcpo import StubUpstream, build, stub_upstreams

KEYS = {"open-webui": "k-open-webui-0123456789", "ci": "k-ci-0123456789abcdef"}
TOOLS = ("get_current_time", "convert_time", "fail", "explode", "structured", "slow")
JSON_AND_SSE = "application/json, text/event-stream"


class FakeSession:
    """The upstream's client session, as mcp_proxy.py uses it: a tool list and tool calls; `slow` waits to be
    cancelled and counts that in `cancelled`."""

    cancelled = 0

    async def list_tools(self, cursor: str | None = None) -> ListToolsResult:
        schema = {"type": "object", "properties": {"timezone": {"type": "string"}}}
        return ListToolsResult(tools=[Tool(name=name, inputSchema=schema) for name in TOOLS])

    async def call_tool(self, name: str, arguments: dict[str, Any], progress_callback: Any = None) -> CallToolResult:
        if name == "fail":
            return CallToolResult(content=[TextContent(type="text", text="it failed")], isError=True)
        if name == "slow":
            try:
                await asyncio.sleep(4)
            except asyncio.CancelledError:
                FakeSession.cancelled += 1
                raise
        if name == "explode":
            raise RuntimeError("the session broke")
        if name == "structured":
            return CallToolResult(content=[TextContent(type="text", text="{}")], structuredContent={"n": 1})
        if name not in TOOLS:
            raise McpError(ErrorData(code=INVALID_PARAMS, message=f"Unknown tool: {name}"))
        text = json.dumps({"tool": name, "arguments": arguments}, sort_keys=True)
        return CallToolResult(content=[TextContent(type="text", text=text)])


def settings(directory: Path) -> GatewaySettings:
    for name, key in {**KEYS, "signing-key": SIGNING_KEY}.items():
        (directory / name).write_text(key + "\n")
    return GatewaySettings.model_validate(
        {
            "routes": {"time": {"required": True}},
            "clients": {
                "open-webui": {"key_file": str(directory / "open-webui"), "forwards_user_identity": True},
                "ci": {"key_file": str(directory / "ci"), "tenant": "platform"},
            },
            "tenants": [
                {"name": "platform", "match": {"roles": ["admin"]}, "tools": {"time": "*"}},
                {"name": "acme", "match": {"email_domains": ["acme.test"]}, "tools": {"time": ["get_current_time"]}},
            ],
            "default_tenant": None,
            "timeout_seconds": 5.0,
            "rate_limits": {"per_client_per_minute": 100_000, "global_per_minute": 100_000},
            "user_identity_secret_file": str(directory / "signing-key"),
        }
    )


def upstreams() -> dict[str, StubUpstream]:
    stubs = stub_upstreams()
    session_manager = SimpleNamespace(current_session=FakeSession())
    for stub in stubs.values():
        stub.tools = frozenset(TOOLS)
        stub.app = SimpleNamespace(state=SimpleNamespace(session_manager=session_manager))  # type: ignore[attr-defined]
    return stubs


def request(request_id: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def call(name: str, arguments: Any = None, request_id: Any = 1) -> dict[str, Any]:
    return request(request_id, "tools/call", {"name": name, "arguments": arguments})


def cases() -> list[tuple[str, dict[str, str], bytes]]:
    """(name, headers beyond the key and the defaults, body) of each request."""
    acme = {"Authorization": f"Bearer {KEYS['open-webui']}", "X-OpenWebUI-User-Jwt": signed_user("u-1", "a@acme.test")}

    def body(message: Any) -> bytes:
        return json.dumps(message).encode()

    valid = body(call("get_current_time", {"timezone": "UTC"}))
    return [
        ("valid call", {}, valid),
        (
            "valid call, no arguments",
            {},
            body(request(2, "tools/call", {"name": "convert_time"})),
        ),
        ("structured content", {}, body(call("structured", {}))),
        ("isError result", {}, body(call("fail", {}))),
        ("unknown tool", {}, body(call("no_such_tool", {}))),
        ("upstream failure", {}, body(call("explode", {}))),
        ("tool forbidden for the tenant", acme, body(call("convert_time", {}))),
        ("tool allowed for the tenant", acme, valid),
        ("invalid params: no name", {}, body(request(3, "tools/call", {}))),
        ("invalid params: arguments a string", {}, body(call("get_current_time", "UTC"))),
        ("id string", {}, body(call("get_current_time", {}, "abc"))),
        ("id numeric string", {}, body(call("get_current_time", {}, "17"))),
        ("id int", {}, body(call("get_current_time", {}, 42))),
        ("id null", {}, body(call("get_current_time", {}, None))),
        ("id float", {}, body(call("get_current_time", {}, 1.5))),
        ("protocol version 2025-06-18", {"MCP-Protocol-Version": "2025-06-18"}, valid),
        ("protocol version 2025-03-26", {"MCP-Protocol-Version": "2025-03-26"}, valid),
        ("bad protocol version", {"MCP-Protocol-Version": "1999-01-01"}, valid),
        ("bad Host", {"Host": "evil.example.com"}, valid),
        ("allowed Host with port", {"Host": "localhost:9999"}, valid),
        ("bad Origin", {"Origin": "http://evil.example.com"}, valid),
        ("allowed Origin", {"Origin": "http://localhost"}, valid),
        ("Accept: JSON only", {"Accept": "application/json"}, valid),
        ("Accept: SSE only", {"Accept": "text/event-stream"}, valid),
        ("Accept: */*", {"Accept": "*/*"}, valid),
        ("no Accept", {"Accept": ""}, valid),
        ("Content-Type with charset", {"Content-Type": "application/json; charset=utf-8"}, valid),
        ("Content-Type in capitals", {"Content-Type": "Application/JSON"}, valid),
        ("wrong Content-Type", {"Content-Type": "text/plain"}, valid),
        ("malformed JSON", {}, b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call",'),
        ("not JSON-RPC", {}, body({"hello": "world"})),
        (
            "_meta without a progress token",
            {},
            body(request(8, "tools/call", {"name": "convert_time", "_meta": {"k": 1}})),
        ),
        ("progress token", {}, body(request(9, "tools/call", {"name": "convert_time", "_meta": {"progressToken": 1}}))),
        ("a session id", {"Mcp-Session-Id": "not-a-session"}, valid),
        ("batch", {}, body([call("get_current_time", {}), call("get_current_time", {}, 2)])),
        ("notification", {}, body({"jsonrpc": "2.0", "method": "notifications/initialized"})),
        ("tools/list", {}, body({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {}})),
        ("ping", {}, body({"jsonrpc": "2.0", "id": 6, "method": "ping"})),
        ("unknown method", {}, body({"jsonrpc": "2.0", "id": 7, "method": "tools/frobnicate", "params": {}})),
    ]


async def send_all(front: McpFront, records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    answers = []
    transport = httpx.ASGITransport(app=front)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        for index, (name, extra, content) in enumerate(cases()):
            headers = {
                "Authorization": f"Bearer {KEYS['ci']}",
                "Accept": JSON_AND_SSE,
                "Content-Type": "application/json",
                "X-Request-ID": f"case-{index}",
                **extra,
            }
            served, logged = front.fast.served if front.fast else 0, len(records)
            response = await http.post("/mcp/time", content=content, headers=headers)
            answers.append(
                {
                    "case": name,
                    "status": response.status_code,
                    "headers": sorted((k, v) for k, v in response.headers.items() if k != "date"),
                    "body": response.text,
                    "fast": (front.fast.served if front.fast else 0) > served,
                    "log": [_fields(record) for record in records[logged:]],
                }
            )
    return answers


async def hang_up(front: McpFront, records: list[logging.LogRecord]) -> dict[str, Any]:
    """A `slow` call whose client goes away after 0.2 s: what was sent, logged and cancelled."""
    body = json.dumps(call("slow", {})).encode()
    headers = {"authorization": f"Bearer {KEYS['ci']}", "accept": JSON_AND_SSE, "content-type": "application/json"}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp/time",
        "raw_path": b"/mcp/time",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *((k.encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(0.2)
        return {"type": "http.disconnect"}

    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    served, logged, cancelled = front.fast.served if front.fast else 0, len(records), FakeSession.cancelled
    started = time.monotonic()
    await front(scope, receive, send)
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.1)  # the cancelled call's own task (mcp_proxy.py; the SDK's server task) winds down
    return {
        "sent": sent,
        "log": [_fields(record) for record in records[logged:]],
        "upstream_cancelled": FakeSession.cancelled - cancelled,
        "within_a_second": elapsed < 1,
        "fast": (front.fast.served if front.fast else 0) > served,
    }


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(getattr(record, "fields", {}))
    fields.pop("duration_ms", None)
    return {"message": record.getMessage(), **fields}


def counters(metrics: GatewayMetrics) -> dict[str, float]:
    found = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name.startswith("gateway_") and sample.name.endswith("_total"):
                found[f"{sample.name}{sorted(sample.labels.items())}"] = sample.value
    return found


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def main() -> dict[str, Any]:
    records: list[logging.LogRecord] = []
    access = logging.getLogger("mcpstack.gateway.access")
    access.addHandler(_Keep(records))
    access.setLevel(logging.INFO)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as directory:
        config = settings(Path(directory))
        for path, fast_call in (("fast", True), ("sdk", False)):
            metrics = GatewayMetrics()
            front = McpFront(build(config, upstreams(), metrics), fast_call=fast_call)
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(front.manager.run())
                await stack.enter_async_context(front.streaming.run())
                answers = await send_all(front, records)
                gone = await hang_up(front, records)
            results[path] = {"answers": answers, "hang_up": gone, "counters": counters(metrics)}
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
