"""Finding 5 of issue 14: limits at the edge, from the catalog (`services.mcpo.gateway.limits`): body size (413),
JSON depth (400), header-read and body-read timeouts, concurrent requests per client, gateway memory bounded
under hostile bodies, and an ambiguous `Authorization` (two of them) refused with 400."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from e2e.gateway.conftest import EDGE, Gateway, container, problem
from e2e.gateway.hostile import (
    MiB,
    big_body,
    deep_json,
    is_closed,
    raw_post,
    sample_rss,
    slow_bodies,
    slow_headers,
    status_of,
    two_authorizations,
)

pytestmark = pytest.mark.docker


def test_a_body_over_the_limit_is_413_before_it_is_read(gw: Gateway) -> None:
    limit = EDGE["max_body_bytes"]
    assert raw_post(gw, "/time/get_current_time", b'{"timezone": "UTC"}' + b" " * (limit - 40)).status_code == 200
    body = problem(raw_post(gw, "/time/get_current_time", b'{"timezone": "UTC"}' + b" " * limit), 413, "body-too-large")
    assert str(limit) in body["detail"]
    assert big_body(gw, 4 * limit, chunked=True) in (413, 0)  # no Content-Length: counted as it arrives


def test_json_nested_deeper_than_the_limit_is_400(gw: Gateway) -> None:
    depth = EDGE["max_json_depth"]
    assert raw_post(gw, "/time/get_current_time", deep_json(depth - 2)).status_code == 200
    problem(raw_post(gw, "/time/get_current_time", deep_json(depth + 1)), 400, "json-too-deep")
    problem(raw_post(gw, "/time/get_current_time", deep_json(100_000)), 400, "json-too-deep")


def test_connections_that_never_finish_their_headers_are_closed(gw: Gateway) -> None:
    with slow_headers(gw, 60) as sockets:
        time.sleep(EDGE["header_timeout_seconds"] + 1.5)
        still_open = sum(not is_closed(sock, timeout=0.05) for sock in sockets)
    assert still_open == 0, f"{still_open} of 60 connections with unfinished headers are still open"
    assert gw.post("/time/get_current_time", {"timezone": "UTC"}).status_code == 200


def test_a_body_that_never_arrives_is_408(gw: Gateway) -> None:
    started = time.monotonic()
    with slow_bodies(gw, 1) as (sock,):
        status = status_of(sock, timeout=EDGE["body_timeout_seconds"] + 3)
    assert status == 408
    assert time.monotonic() - started < EDGE["body_timeout_seconds"] + 2


def test_a_client_over_its_concurrency_limit_waits_then_gets_429_and_others_are_served(gw: Gateway) -> None:
    limit = EDGE["max_concurrent_requests_per_client"]
    with slow_bodies(gw, limit, client="e2e"):  # every slot of the e2e client held by an unfinished body
        time.sleep(0.3)
        refused = gw.post("/time/get_current_time", {"timezone": "UTC"})
        other = gw.post("/time/get_current_time", {"timezone": "UTC"}, client="loadtest")
    body = problem(refused, 429, "rate-limited")
    assert "concurrent" in body["detail"]
    assert other.status_code == 200
    time.sleep(EDGE["body_timeout_seconds"])
    assert gw.post("/time/get_current_time", {"timezone": "UTC"}).status_code == 200  # slots freed


def test_two_authorization_headers_are_400(gw: Gateway) -> None:
    body = problem(two_authorizations(gw), 400, "ambiguous-header")
    assert "Authorization" in body["detail"]


def test_gateway_memory_stays_bounded_under_fourteen_concurrent_10_mb_bodies(gw: Gateway) -> None:
    pid = container(gw.stack, "mcpo").attrs["State"]["Pid"]
    done = threading.Event()
    with ThreadPoolExecutor(max_workers=15) as pool:
        sampler = pool.submit(sample_rss, pid, done.is_set)
        time.sleep(0.3)
        attacks = [pool.submit(big_body, gw, 10 * MiB, chunked=i % 2 == 0) for i in range(14)]
        statuses = [a.result() for a in attacks]
        time.sleep(0.5)
        done.set()
        samples = sampler.result()
    baseline, peak = samples[0], max(samples)
    print(f"gateway RSS: {baseline / MiB:.0f} MiB before, {peak / MiB:.0f} MiB peak under 14 x 10 MB bodies")
    assert set(statuses) <= {413, 0}, statuses
    assert peak - baseline < 48 * MiB, f"RSS rose by {(peak - baseline) / MiB:.0f} MiB"
    assert gw.post("/time/get_current_time", {"timezone": "UTC"}).status_code == 200
