"""The pool shared fairly (issue 14, finding 7): one caller cannot take every run slot and queue place from the
others, and a run whose caller went away is killed rather than left to hold its slot.

The stack's sandbox has a pool of 2, a queue of 1 and a per-caller share of one run going and one waiting
(e2e/sandbox/conftest.py). The caller is who the gateway names in the call's `_meta` (docs/sandbox.md).
"""

from __future__ import annotations

import concurrent.futures
import json
import time

import httpx
import pytest

from e2e.sandbox.conftest import SandboxClient, dump

pytestmark = pytest.mark.docker
SLOW = "import time\ntime.sleep({seconds})\nprint('done')"


def test_one_caller_holding_the_pool_does_not_make_another_callers_run_fail(sandbox: SandboxClient) -> None:
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        hogs = [pool.submit(sandbox.call, SLOW.format(seconds=8), "hog", timeout_seconds=20) for _ in range(3)]
        time.sleep(1.5)  # the hog's runs are going or waiting
        started = time.monotonic()
        other = sandbox.call("print(1)", "someone-else")
        waited = time.monotonic() - started
        hogged = [future.result() for future in hogs]
    assert other.get("stdout") == "1\n", other
    assert waited < 3, f"the other caller waited {waited:.1f} s"
    # the hog itself: one run at a time (and one waiting), the rest told the sandbox is busy for it
    assert sum(r.get("stdout") == "done\n" for r in hogged) >= 1, hogged
    busy = [r["error"] for r in hogged if "error" in r]
    assert busy and all("busy" in text for text in busy), hogged


def test_runs_beyond_the_pool_and_queue_are_told_the_sandbox_is_busy(sandbox: SandboxClient) -> None:
    """Five callers at once, pool of 2 and queue of 1: 3 run (2 at once, then 1) and 2 are busy."""
    code = SLOW.format(seconds=2)
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda n: sandbox.call(code, f"caller-{n}", timeout_seconds=10), range(5)))
    done = [r for r in results if r.get("stdout") == "done\n"]
    busy = [r for r in results if "error" in r]
    assert (len(done), len(busy)) == (3, 2), results
    assert all("sandbox is busy" in r["error"] for r in busy)


def call_and_hang_up(sandbox: SandboxClient, code: str, after: float) -> None:
    """tools/call over plain HTTP, then close the connection before the answer (a client that went away)."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "execute_python", "arguments": {"code": code, "timeout_seconds": 25}},
    }
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream", **sandbox.auth()}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(sandbox.base + "/mcp", content=json.dumps(body), headers=headers, timeout=after)


def test_a_run_whose_caller_hung_up_is_killed(sandbox: SandboxClient) -> None:
    call_and_hang_up(sandbox, SLOW.format(seconds=20), after=2)
    assert sandbox.leftovers(within=5) == [], "the run outlived its caller"
    # its slot is free again: both slots serve runs at once
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: sandbox.call("print(2)", f"after-{n}"), range(2)))
    assert [r.get("stdout") for r in results] == ["2\n", "2\n"], [dump(r) for r in results]
