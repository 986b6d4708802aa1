"""Upstreams that fail: killed mid-load and restarted, absent at start-up, too slow. The gateway keeps
serving the other upstreams, answers 503/504 quickly, and reconnects without a restart."""

from __future__ import annotations

import time

import pytest

from e2e.gateway.conftest import TIME_LIMIT_SECONDS, Gateway, container, problem, wait_gateway_up
from e2e.gateway.traffic import Traffic

pytestmark = pytest.mark.docker


def test_upstream_killed_mid_load_fails_fast_and_recovers_without_a_gateway_restart(gw: Gateway) -> None:
    sandbox = container(gw.stack, "sandbox")
    with (
        Traffic(gw, "/time/get_current_time", {"timezone": "UTC"}) as clock_calls,
        Traffic(gw, "/sandbox/execute_python", {"code": "print(1)"}) as code_calls,
    ):
        time.sleep(2)
        killed_at = time.monotonic() - code_calls.started
        sandbox.kill()
        time.sleep(4)
        restarted_at = time.monotonic() - code_calls.started
        sandbox.start()
        recovery = gw.wait_until(
            lambda: gw.post("/sandbox/execute_python", {"code": "print(1)"}).status_code == 200,
            timeout=30,
            what="sandbox calls succeeding again",
        )
        time.sleep(1)
    assert clock_calls.statuses() == {200: len(clock_calls.results)}, "time must be unaffected"
    # a call still in flight when the container died may fail: only calls that ended before must all succeed
    assert {status for at, status, duration in code_calls.results if at + duration < killed_at} == {200}
    during = [r for r in code_calls.results if killed_at + 1 < r[0] < restarted_at]
    assert during and {status for _, status, _ in during} == {503}
    assert max(duration for _, _, duration in during) < 1.0, "calls to a dead upstream must fail fast"
    gateway_log = container(gw.stack, "mcpo").logs().decode().splitlines()
    trouble = [ln for ln in gateway_log if '"level": "WARNING"' in ln or '"level": "ERROR"' in ln]
    assert code_calls.statuses(after=restarted_at + recovery + 0.5).keys() == {200}, trouble[-12:]
    assert set(code_calls.statuses()) <= {200, 503}, trouble[-12:]  # no other error at any moment
    states = gw.get("/ready").json()["upstreams"]["sandbox"]
    assert states["state"] == "up" and states["attempts"] >= 2


def test_upstream_absent_at_start_up_becomes_available_when_it_starts(gw: Gateway) -> None:
    sandbox, gateway = container(gw.stack, "sandbox"), container(gw.stack, "mcpo")
    sandbox.stop(timeout=1)
    try:
        gateway.restart(timeout=5)
        wait_gateway_up(gw)

        def ready_without_sandbox() -> bool:
            ready = gw.get("/ready")
            return ready.status_code == 200 and ready.json()["upstreams"]["sandbox"]["state"] == "down"

        # the sandbox route is optional: once the other upstreams are connected, the gateway is ready
        gw.wait_until(ready_without_sandbox, timeout=30, what="ready, with the sandbox reported down")
        assert gw.get("/ready").json()["upstreams"]["time"]["state"] == "up"
        refused = gw.post("/sandbox/execute_python", {"code": "print(1)"})
        problem(refused, 503, "upstream-unavailable")
        assert int(refused.headers["retry-after"]) >= 1
        assert gw.post("/time/get_current_time", {"timezone": "UTC"}).status_code == 200
    finally:
        sandbox.start()
    gw.wait_until(
        lambda: gw.post("/sandbox/execute_python", {"code": "print(7)"}).status_code == 200,
        timeout=30,
        what="sandbox available after it started",
    )


def test_required_upstream_absent_makes_the_gateway_unready_and_says_which(gw: Gateway) -> None:
    clock, gateway = container(gw.stack, "time"), container(gw.stack, "mcpo")
    clock.stop(timeout=1)
    try:
        gateway.restart(timeout=5)
        wait_gateway_up(gw)
        gw.wait_until(lambda: gw.get("/ready", client=None).status_code == 503, timeout=30, what="not ready")
        body = gw.get("/ready").json()
        assert body["status"] == "not ready"
        assert body["upstreams"]["time"]["state"] in ("connecting", "down")
        assert body["upstreams"]["time"]["required"] is True
        gw.wait_until(  # the rest works (once connected: the gateway has just restarted)
            lambda: gw.post("/sandbox/execute_python", {"code": "print(1)"}).status_code == 200,
            timeout=30,
            what="sandbox calls succeeding while time is down",
        )
    finally:
        clock.start()
    gw.wait_until(lambda: gw.get("/ready", client=None).status_code == 200, timeout=30, what="ready again")


def test_slow_tool_is_cut_with_504_and_the_upstream_stays_usable(gw: Gateway) -> None:
    started = time.monotonic()
    slow = gw.post("/sandbox/execute_python", {"code": "import time; time.sleep(8)", "timeout_seconds": 20})
    elapsed = time.monotonic() - started
    body = problem(slow, 504, "upstream-timeout")
    assert f"{TIME_LIMIT_SECONDS} s" in body["detail"]
    assert elapsed < TIME_LIMIT_SECONDS + 2
    assert gw.post("/sandbox/execute_python", {"code": "print('still here')"}).json()["stdout"] == "still here\n"
