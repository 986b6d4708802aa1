"""A call its client cancels kills its run over SSE and over stdio too: there the request outlives its caller's
HTTP request (SSE) or has none (stdio), so what stops it is the client's `notifications/cancelled` (what the
gateway sends for the calls it keeps on the SDK's session): the SDK cancels the tool, and the run's process group
is killed with it. Streamable HTTP (the client's disconnect): servers/common/tests/test_disconnect.py and
e2e/gateway/test_upstream_calls.py."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mcp import StdioServerParameters
from mcp.client import Client
from mcp.client.sse import sse_client

from servers.common.tests.serving import Serve
from servers.common.upstream_auth import UpstreamAuth
from servers.sandbox.server import SandboxSettings, create_app

LONG_RUN = "import time\ntime.sleep(20)\nprint('done')"
CALL = {"code": LONG_RUN, "timeout_seconds": 25}


def runs() -> list[str]:
    """The command lines of the runs under this test process (a run's code is main.py), however deep."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "main.py" in command:
                found.append(command)
    return found


async def wait_for(check: Callable[[], object], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return False


async def cancel_a_run(client: Client) -> float:
    """Start a 20 s run, cancel the call once it runs; how long the run outlived the cancellation."""
    call = asyncio.ensure_future(client.call_tool("execute_python", CALL))
    assert await wait_for(runs, 15), "the run did not start"
    call.cancel()
    cancelled = time.monotonic()
    assert await wait_for(lambda: not runs(), 5), f"the run outlived its cancelled call: {runs()}"
    return time.monotonic() - cancelled


async def test_over_sse_a_cancelled_call_kills_its_run(serve: Serve) -> None:
    _, app = create_app(replace(SandboxSettings(), transports=("sse",)), auth=UpstreamAuth.disabled())
    async with Client(sse_client(serve(app) + "/sse")) as client:
        assert await cancel_a_run(client) < 2
        again = await client.call_tool("execute_python", {"code": "print('next')"})  # the session goes on
    assert again.structured_content and again.structured_content["stdout"] == "next\n"


async def test_over_stdio_a_cancelled_call_kills_its_run() -> None:
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "servers.sandbox", "--transport", "stdio"], env=dict(os.environ)
    )
    async with Client(server) as client:
        assert await cancel_a_run(client) < 2
