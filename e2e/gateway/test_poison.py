"""Issue 14's poison test: ~100 calls/s of normal traffic on a route for ~10 s while a hostile caller sends every
kind of request the issue lists (unencodable text, non-finite numbers, oversized and deep bodies, 10 MB bodies,
unfinished headers and bodies, two Authorization headers, broken upstream replies, clients hanging up mid-call,
a forged admin). Not one normal call may fail, and /ready stays 200 throughout.

The attacker runs in a process of its own, so that its work does not slow the normal callers' own process down."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter

import pytest

from e2e.gateway.conftest import Gateway, container
from e2e.gateway.hostile import Target, run_attacks
from e2e.gateway.traffic import PacedTraffic

pytestmark = pytest.mark.docker
SECONDS = 10
RATE = 100
HOSTILE = "loadtest"  # the attacker's own key: the normal traffic is the e2e client's


def sandbox_answers_within(gw: Gateway, seconds: float) -> bool:
    started = time.monotonic()
    return gw.post("/sandbox/execute_python", {"code": "print(1)"}).status_code == 200 and (
        time.monotonic() - started < seconds
    )


def normal_traffic(gw: Gateway) -> PacedTraffic:
    return PacedTraffic(gw, "/time/get_current_time", {"timezone": "UTC"}, per_second=RATE, workers=30)


def summary(traffic: PacedTraffic) -> str:
    durations = sorted(d for _, _, d in traffic.results)
    p50, p95 = (durations[int(len(durations) * q)] * 1000 for q in (0.5, 0.95))
    return f"{len(traffic.results)} calls at {traffic.rate():.0f}/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms"


def test_normal_traffic_survives_every_hostile_request_at_once(gw: Gateway) -> None:
    with normal_traffic(gw) as quiet:  # the same traffic without an attack, for comparison
        time.sleep(SECONDS / 2)
    target = Target(gw.url, {client: gw.key(client) for client in gw.clients})
    since = int(time.time())
    ready: list[int] = []
    stop = threading.Event()

    def poll_ready() -> None:
        while not stop.is_set():
            ready.append(gw.get("/ready").status_code)
            stop.wait(0.2)

    poller = threading.Thread(target=poll_ready, daemon=True)
    with multiprocessing.get_context("spawn").Pool(1) as attacker:
        attack = attacker.apply_async(run_attacks, (target, HOSTILE, SECONDS + 1))
        time.sleep(1.0)  # the attacker's process is up and attacking
        poller.start()
        with normal_traffic(gw) as normal:
            time.sleep(SECONDS)
        seen = attack.get(timeout=180)
    stop.set()
    poller.join(timeout=10)
    # runs of callers that hung up go on in the sandbox (issue 14, finding 7): leave it idle for the next suite
    gw.wait_until(lambda: sandbox_answers_within(gw, 1.0), timeout=60, what="the sandbox idle again")

    print(f"normal traffic alone: {summary(quiet)}; under attack: {summary(normal)}")
    print(f"normal call statuses: {normal.statuses()}; /ready: {dict(Counter(ready))}")
    print("hostile requests: " + "; ".join(f"{k}: {dict(v)}" for k, v in seen.items()))
    log = container(gw.stack, "mcpo").logs(since=since).decode(errors="replace").splitlines()
    trouble = [
        ln
        for ln in log
        if any(name in ln for name in ("gateway.upstreams", "gateway.isolation", "gateway.errors"))
        or ('"status": 5' in ln and "/time/" in ln)
    ]
    assert normal.statuses() == {200: len(normal.results)}, "a normal call failed: " + "\n".join(trouble[:20])
    # 30 callers, each waiting for its answer, offer 100 calls/s; on a busy 2-core machine latency caps the rate they
    # reach (the figures above). Calls must have gone on in every second of the attack: no stall.
    per_second = Counter(int(at) for at, _, _ in normal.results if at < SECONDS)
    assert all(per_second[s] for s in range(SECONDS)), f"normal calls per second: {sorted(per_second.items())}"
    assert ready and set(ready) == {200}, f"/ready answered {Counter(ready)}"
    assert all(sum(v.values()) for v in seen.values()), "an attack never ran"
    for kind, statuses in seen.items():
        assert not {500, 503, 504} & set(statuses), f"{kind}: {dict(statuses)}"
