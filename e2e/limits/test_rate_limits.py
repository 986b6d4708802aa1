"""Rate limits through the real gateway, with the buckets in a real Redis: a noisy client gets 429 with
Retry-After while others are served, limits survive a gateway restart (they live in Redis), and a
Redis outage degrades to in-process limits without failing requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.gateway.conftest import Gateway, container, problem, wait_gateway_up
from mcpstack.local.variants import variant_stack

pytestmark = pytest.mark.docker
PER_CLIENT, GLOBAL = 5, 9


def small_limits_with_redis(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    catalog["services"]["mcpo"]["gateway"]["rate_limits"].update(
        per_client_per_minute=PER_CLIENT, global_per_minute=GLOBAL, redis="redis"
    )
    # The SLO load must fit inside the limits (a catalog check); this suite's limits are far below it.
    catalog["slos"]["load"].update(users=1, think_time_seconds={"min": 60, "max": 60})
    # Open WebUI fetches every route's OpenAPI spec at start-up: calls that would count against the global limit.
    overlay["local"]["skip"].append("open-webui")
    overlay["services"].pop("redis")  # dev drops Redis; this suite runs it as prod does
    overlay["services"]["mcpo"]["gateway"]["rate_limits"].pop("redis")
    catalog["services"]["mcpo"]["command"] += ["--workers", "1"]  # one process: all buckets, all metrics


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with variant_stack(tmp_path_factory.mktemp("limits") / "config", small_limits_with_redis, "mcpstack-rl") as stack:
        yield Gateway(stack)


def call(gw: Gateway, client: str, **user: str) -> int:
    return gw.post("/time/get_current_time", {"timezone": "UTC"}, client=client, **user).status_code


def backend(gw: Gateway) -> str:
    lines = gw.get("/metrics", client=None).text.splitlines()
    return next(
        line.split('"')[1] for line in lines if line.startswith("gateway_rate_limit_backend{") and line.endswith(" 1.0")
    )


def test_noisy_client_is_limited_while_others_are_served_until_the_global_limit(gw: Gateway) -> None:
    assert [call(gw, "e2e") for _ in range(PER_CLIENT)] == [200] * PER_CLIENT
    refused = gw.post("/time/get_current_time", {"timezone": "UTC"}, client="e2e")
    body = problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60 // PER_CLIENT + 1
    assert "client rate limit" in body["detail"]
    assert backend(gw) == "redis"
    others = [call(gw, "loadtest") for _ in range(GLOBAL - PER_CLIENT)]
    assert others == [200] * (GLOBAL - PER_CLIENT)
    problem(gw.post("/time/get_current_time", {"timezone": "UTC"}, client="loadtest"), 429, "rate-limited")
    text = gw.get("/metrics", client=None).text
    assert 'gateway_rate_limited_total{client="e2e",scope="client"} 1.0' in text
    assert 'gateway_rate_limited_total{client="loadtest",scope="global"} 1.0' in text


def test_limits_live_in_redis_and_survive_a_gateway_restart(gw: Gateway) -> None:
    container(gw.stack, "mcpo").restart(timeout=5)
    wait_gateway_up(gw)
    gw.wait_until(lambda: gw.get("/ready", client=None).status_code == 200, what="gateway ready")
    assert call(gw, "e2e") == 429  # an in-process bucket would have been reset by the restart


def test_redis_outage_degrades_to_in_process_limits_without_failing_requests(gw: Gateway) -> None:
    redis = container(gw.stack, "redis")
    redis.stop(timeout=1)
    try:
        fresh = {"client": "open-webui", "user_id": "fresh-user", "email": "fresh@example.com"}  # signed, staff
        statuses = [call(gw, **fresh) for _ in range(PER_CLIENT + 1)]
        assert statuses == [200] * PER_CLIENT + [429]  # served, and still limited (in process)
        assert backend(gw) == "memory-fallback"
    finally:
        redis.start()
    time.sleep(11)  # the gateway retries Redis 10 s after a failure
    call(gw, "open-webui", user_id="after", email="after@example.com")
    gw.wait_until(lambda: backend(gw) == "redis", timeout=20, what="rate limits back on Redis")
