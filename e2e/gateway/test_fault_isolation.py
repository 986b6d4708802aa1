"""Finding 1 of issue 14: a request that breaks the MCP transport (unencodable text, non-finite numbers, an
oversized argument, a malformed or failed upstream reply) fails alone with a precise problem, logged with its
correlation ID and cause, while other callers' calls on the same route keep succeeding and /ready stays 200."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from e2e.gateway.conftest import Gateway, container, problem
from e2e.gateway.hostile import LONE_SURROGATE, MiB, raw_post
from e2e.gateway.traffic import Traffic

pytestmark = pytest.mark.docker


@contextmanager
def watched(gw: Gateway, path: str, body: dict) -> Iterator[tuple[Traffic, list[int]]]:
    """Normal traffic on a route (the e2e client) and /ready polled, while the test attacks as another client."""
    ready: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            ready.append(gw.get("/ready").status_code)
            stop.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    with Traffic(gw, path, body, workers=4, pause=0.02) as traffic:
        poller.start()
        time.sleep(0.5)
        yield traffic, ready
        time.sleep(1.0)  # calls that started right after the attack must succeed too
    stop.set()
    poller.join(timeout=10)


def assert_unharmed(traffic: Traffic, ready: list[int]) -> None:
    assert traffic.results, "no normal traffic was recorded"
    assert traffic.statuses() == {200: len(traffic.results)}, "another caller's calls failed"
    assert ready and set(ready) == {200}, f"/ready answered {sorted(set(ready))}"


def gateway_log_line(gw: Gateway, correlation_id: str) -> str:
    lines = [ln for ln in container(gw.stack, "mcpo").logs().decode().splitlines() if correlation_id in ln]
    rejections = [ln for ln in lines if "mcpstack.gateway.access" not in ln]
    assert rejections, f"no log line explains the rejection of {correlation_id}: {lines}"
    return rejections[0]


def test_a_lone_surrogate_is_400_naming_the_field_and_harms_no_one(gw: Gateway) -> None:
    trace = f"surrogate-{uuid.uuid4().hex[:8]}"
    with watched(gw, "/time/get_current_time", {"timezone": "UTC"}) as (traffic, ready):
        answers = [
            raw_post(gw, "/time/get_current_time", LONE_SURROGATE, client="loadtest", request_id=f"{trace}-{i}")
            for i in range(5)
        ]
    for answer in answers:
        body = problem(answer, 400, "unencodable-text")
        assert "timezone" in body["detail"]
    assert_unharmed(traffic, ready)
    assert "timezone" in gateway_log_line(gw, f"{trace}-0")


def test_non_finite_numbers_are_400_and_harm_no_one(gw: Gateway) -> None:
    with watched(gw, "/sandbox/execute_python", {"code": "print(1)"}) as (traffic, ready):
        for literal in (b"NaN", b"Infinity", b"1e999"):
            body = b'{"code": "print(1)", "timeout_seconds": ' + literal + b"}"
            answer = problem(raw_post(gw, "/sandbox/execute_python", body, client="loadtest"), 400, "invalid-number")
            assert "timeout_seconds" in answer["detail"]
    assert_unharmed(traffic, ready)


def test_an_argument_over_the_upstreams_message_limit_is_413_and_harms_no_one(gw: Gateway) -> None:
    trace = f"oversized-{uuid.uuid4().hex[:8]}"
    oversized = b'{"timezone": "' + b"A" * (5 * MiB) + b'"}'
    with watched(gw, "/time/get_current_time", {"timezone": "UTC"}) as (traffic, ready):
        answers = [
            raw_post(gw, "/time/get_current_time", oversized, client="loadtest", request_id=f"{trace}-{i}")
            for i in range(3)
        ]
    for answer in answers:
        assert "bytes" in problem(answer, 413, "body-too-large")["detail"]
    assert_unharmed(traffic, ready)
    assert "413" in gateway_log_line(gw, f"{trace}-0") or "body" in gateway_log_line(gw, f"{trace}-0")


@pytest.mark.parametrize("tool", ["garbage", "http_500", "hang_up"])
def test_a_broken_upstream_reply_fails_that_call_alone_with_502(gw: Gateway, tool: str) -> None:
    attempts = gw.get("/ready").json()["upstreams"]["broken"]["attempts"]
    trace = f"broken-{tool}-{uuid.uuid4().hex[:8]}"
    with watched(gw, "/broken/ok", {}) as (traffic, ready):
        started = time.monotonic()
        answers = [
            raw_post(gw, f"/broken/{tool}", b"{}", client="loadtest", request_id=f"{trace}-{i}") for i in range(5)
        ]
        elapsed = time.monotonic() - started
    for answer in answers:
        problem(answer, 502, "bad-upstream-reply")
    assert elapsed < 5, f"five broken replies took {elapsed:.1f} s: they must fail at once, not at the time limit"
    assert_unharmed(traffic, ready)
    state = gw.get("/ready").json()["upstreams"]["broken"]
    assert state["state"] == "up" and state["attempts"] == attempts, "the broken reply reset the route's session"
    assert tool in gateway_log_line(gw, f"{trace}-0") or "upstream" in gateway_log_line(gw, f"{trace}-0")
