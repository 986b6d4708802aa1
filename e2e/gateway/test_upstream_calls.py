"""What the gateway's upstream calls do for their caller, against the real sandbox, on both paths (OpenAPI and the
MCP front): a call whose client hangs up, or that the gateway gives up on, is stopped upstream (the run is
killed, not left to hold its slot: issue 14, finding 7), over streamable HTTP (the lean exchange: the POST is
cancelled) and over SSE (the SDK's session: the gateway sends `notifications/cancelled`); each end user gets their
own share of the sandbox's pool (the caller in `_meta`, issue 17).

The stack's sandbox has 4 run slots and 2 per caller; the gateway's time limit is 3 s (conftest.py)."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import time
from typing import Any

import httpx
import pytest

from e2e.gateway.conftest import TIME_LIMIT_SECONDS, Gateway, container, run_in_gateway_image
from e2e.gateway.hostile import address

pytestmark = pytest.mark.docker
LONG_RUN = "import time\ntime.sleep(20)\nprint('done')"  # would end 20 s after it started
STAMPED = "import time\nprint(time.time())\ntime.sleep(1.5)"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
# each front, to the sandbox over streamable HTTP ("sandbox") and over SSE ("sandbox-sse", conftest.py)
FRONTS_AND_ROUTES = [
    pytest.param(path, route, id=f"{path}-{route}")
    for route in ("sandbox", "sandbox-sse")
    for path in ("openapi", "mcp")
]


def request(path: str, arguments: dict[str, Any], route: str = "sandbox") -> tuple[str, bytes]:
    """The path and body of an execute_python call on the OpenAPI path or (path "mcp") on the MCP front."""
    if path == "mcp":
        call = {"name": "execute_python", "arguments": arguments}
        return f"/mcp/{route}", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}).encode()
    return f"/{route}/execute_python", json.dumps(arguments).encode()


def runs(gw: Gateway) -> list[str]:
    """The sandbox container's processes other than its server (tini and python): runs in progress."""
    top = container(gw.stack, "sandbox").top(ps_args="-eo pid,args")
    return [row[-1] for row in top["Processes"] if "servers.sandbox" not in row[-1]]


def wait_for(check: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(autouse=True)
def no_runs_left(gw: Gateway) -> None:
    assert wait_for(lambda: not runs(gw), 25), f"runs of an earlier test still going: {runs(gw)}"


@pytest.mark.parametrize(("path", "route"), FRONTS_AND_ROUTES)
def test_a_run_whose_client_hangs_up_is_killed(gw: Gateway, path: str, route: str) -> None:
    url, body = request(path, {"code": LONG_RUN, "timeout_seconds": 25}, route)
    headers = [f"{k}: {v}" for k, v in {**gw.headers(), **MCP_HEADERS}.items()]
    host, port = address(gw)  # the MCP front checks Host against DNS rebinding: loopback passes
    head = [f"POST {url} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json", *headers]
    started = time.monotonic()
    with socket.create_connection(address(gw), timeout=5) as sock:
        sock.sendall(("\r\n".join([*head, f"Content-Length: {len(body)}", "", ""])).encode() + body)
        assert wait_for(lambda: runs(gw), TIME_LIMIT_SECONDS - 1), "the run did not start"
    # the client is gone: the run is killed at once, not when it ends (20 s) nor at the gateway's time limit
    assert wait_for(lambda: not runs(gw), 5), f"the run outlived its caller: {runs(gw)}"
    assert time.monotonic() - started < TIME_LIMIT_SECONDS, "killed only when the gateway's time limit fired"


@pytest.mark.parametrize(("path", "route"), FRONTS_AND_ROUTES)
def test_a_run_the_gateway_gives_up_on_is_killed(gw: Gateway, path: str, route: str) -> None:
    url, body = request(path, {"code": LONG_RUN, "timeout_seconds": 25}, route)
    headers = {**gw.headers(), **MCP_HEADERS, "Content-Type": "application/json"}
    answer = httpx.post(gw.url + url, content=body, headers=headers, timeout=15)
    gave_up = time.monotonic()
    text = answer.text
    assert answer.status_code == 504 or "upstream-timeout" in text, f"{answer.status_code}: {text[:300]}"
    assert wait_for(lambda: not runs(gw), 5), f"the run outlived the gateway's answer: {runs(gw)}"
    assert time.monotonic() - gave_up < 5


@pytest.mark.parametrize("path", ["openapi", "mcp"])
def test_two_users_get_separate_shares_of_the_sandbox_pool(gw: Gateway, path: str) -> None:
    """Two runs each for two end users: all four run at once (each user's share is 2 of the 4 slots). Were both
    one caller, two runs would wait for the other two (1.5 s)."""
    users = [{"user_id": f"share-{n}", "email": f"share-{n}@elsewhere.test", "role": "admin"} for n in (1, 2)]

    def run(user: dict[str, str]) -> float:
        url, body = request(path, {"code": STAMPED, "timeout_seconds": 10})
        headers = {**gw.headers("open-webui", **user), **MCP_HEADERS, "Content-Type": "application/json"}
        answer = httpx.post(gw.url + url, content=body, headers=headers, timeout=20)
        assert answer.status_code == 200, answer.text[:300]
        reply = answer.json()
        assert "error" not in reply, reply
        stdout = reply["result"]["structuredContent"]["stdout"] if path == "mcp" else reply["stdout"]
        return float(stdout)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = list(pool.map(run, [*users, *users]))
    assert max(started) - min(started) < 1, f"runs started {max(started) - min(started):.1f} s apart: {started}"


def test_a_storm_of_cancelled_calls_leaves_the_upstream_session_alive(gw: Gateway) -> None:
    """tests/gateway/cancel_storm.py, in the gateway's image: 30 rounds of 100 tools/calls cancelled in flight on
    one stdio session. Cancelling inside SDK 1.30's session killed it within the 30 rounds every time."""
    outcome = run_in_gateway_image(gw, "tests.gateway.cancel_storm")
    assert outcome["died"] is None and outcome["survived"] == outcome["rounds"], outcome
