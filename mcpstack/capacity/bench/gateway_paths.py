"""The paths the gateway benchmark measures, as the requests wrk sends, and a check that each one answers a tool
call correctly before it is measured (wrk counts only HTTP statuses; a JSON-RPC error is a 200)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx

TOOL = "get_current_time"
TOOL_ARGS = {"timezone": "UTC"}
PROTOCOL_VERSION = "2025-06-18"
JSONRPC_CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": TOOL, "arguments": TOOL_ARGS},
}
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": PROTOCOL_VERSION,
}
OURS, STDIO = "time (streamable HTTP)", "reference time (stdio)"
MCP, OPENAPI = "MCP", "OpenAPI"
DIRECT, GATEWAY, STOCK, ONE_WORKER = "direct", "gateway", "stock mcpo", "gateway, 1 worker"


@dataclass(frozen=True)
class Endpoint:
    """One measured path: who serves it (`name`, over `api`), what it calls upstream, the request wrk sends,
    and the containers whose CPU the call costs (`gateway`: the gateway or stock mcpo; `server`: the MCP server)."""

    name: str
    api: str
    upstream: str
    url: str
    body: str
    headers: dict[str, str]
    gateway: str | None
    server: str | None


def endpoints(urls: dict[str, str], key: str, server_token: str) -> list[Endpoint]:
    """direct, the gateway's MCP front and OpenAPI path (shipped, and with one worker), stock mcpo, stdio. `key`: the
    gateway client's; `server_token`: the time server's, which `direct` presents as the gateway does."""
    bearer = {"Authorization": f"Bearer {key}"}
    as_the_gateway = {"Authorization": f"Bearer {server_token}"}
    openapi_headers = {**bearer, "Content-Type": "application/json"}
    call, args = json.dumps(JSONRPC_CALL), json.dumps(TOOL_ARGS)

    def native(name: str) -> Endpoint:
        return Endpoint(name, MCP, OURS, f"{urls[name]}/mcp/time", call, {**MCP_HEADERS, **bearer}, name, "time")

    def openapi(name: str, route: str = "time", upstream: str = OURS) -> Endpoint:
        server = "time" if upstream == OURS else None  # a stdio server runs in the gateway's container
        return Endpoint(name, OPENAPI, upstream, f"{urls[name]}/{route}/{TOOL}", args, openapi_headers, name, server)

    return [
        Endpoint(DIRECT, MCP, OURS, f"{urls[DIRECT]}/mcp", call, {**MCP_HEADERS, **as_the_gateway}, None, "time"),
        native(GATEWAY),
        openapi(GATEWAY),
        openapi(STOCK),
        openapi(GATEWAY, "time-reference", STDIO),
        native(ONE_WORKER),
        openapi(ONE_WORKER),
    ]


def answers(endpoint: Endpoint) -> str | None:
    """None when the endpoint answers the tool call with a result; else what it answered."""
    try:
        reply = httpx.post(endpoint.url, content=endpoint.body, headers=endpoint.headers, timeout=10)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}: {reply.text[:300]}"
    if endpoint.api == MCP:
        doc = reply.json()
        if "result" not in doc or doc["result"].get("isError"):
            return f"not a tool result: {reply.text[:300]}"
    return None


def wait_answering(endpoint: Endpoint, timeout: float = 60) -> None:
    deadline, problem = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        problem = answers(endpoint)
        if problem is None:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{endpoint.name} ({endpoint.api}, {endpoint.url}) does not answer a tool call: {problem}")
