"""Token buckets per client and for the whole gateway, in process and in a real Redis."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from servers.gateway.ratelimit import MemoryBuckets, RateLimiter
from tests.gateway.conftest import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_its_capacity_then_refuses_with_the_time_to_the_next_token() -> None:
    buckets = MemoryBuckets()
    results = [buckets.take("a", 3, 1.0, now=0.0) for _ in range(4)]
    assert [allowed for allowed, _ in results] == [True, True, True, False]
    assert results[-1][1] == pytest.approx(1.0)
    assert buckets.take("a", 3, 1.0, now=0.5) == (False, pytest.approx(0.5))
    assert buckets.take("a", 3, 1.0, now=1.0)[0] is True  # one token refilled after a second


def test_buckets_are_independent_per_key() -> None:
    buckets = MemoryBuckets()
    assert buckets.take("a", 1, 1.0, now=0.0)[0]
    assert not buckets.take("a", 1, 1.0, now=0.0)[0]
    assert buckets.take("b", 1, 1.0, now=0.0)[0]


async def test_per_client_limit_refuses_one_client_and_not_another() -> None:
    clock = Clock()
    limiter = RateLimiter(per_client_per_minute=2, global_per_minute=100, clock=clock)
    assert [(await limiter.check("noisy")).allowed for _ in range(3)] == [True, True, False]
    refused = await limiter.check("noisy")
    assert refused.scope == "client"
    assert refused.retry_after == pytest.approx(30.0)  # 2/min: one token every 30 s
    assert (await limiter.check("quiet")).allowed
    clock.now += 30
    assert (await limiter.check("noisy")).allowed


async def test_global_limit_applies_across_clients() -> None:
    limiter = RateLimiter(per_client_per_minute=10, global_per_minute=3, clock=Clock())
    decisions = [await limiter.check(f"client-{i}") for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].scope == "global"


async def test_redis_buckets_are_shared_between_limiters(redis_server: RedisServer) -> None:
    first = RateLimiter(2, 100, Redis.from_url(redis_server.url))
    second = RateLimiter(2, 100, Redis.from_url(redis_server.url))  # another replica, same Redis
    assert (await first.check("shared")).allowed
    assert (await second.check("shared")).allowed
    refused = await first.check("shared")
    assert not refused.allowed
    assert refused.scope == "client"
    assert 0 < refused.retry_after <= 30.5
    assert first.backend == "redis"


async def test_redis_outage_degrades_to_in_process_limits_and_redis_is_used_again_after(
    redis_server: RedisServer,
) -> None:
    clock = Clock()
    limiter = RateLimiter(
        2, 100, Redis.from_url(redis_server.url, socket_timeout=0.5, socket_connect_timeout=0.5), clock=clock
    )
    assert (await limiter.check("before")).allowed
    assert limiter.backend == "redis"
    redis_server.stop()
    assert [(await limiter.check("during")).allowed for _ in range(3)] == [True, True, False]  # still limited
    assert limiter.backend == "memory-fallback"
    redis_server.start()
    clock.now += 11  # past the pause before Redis is tried again
    assert (await limiter.check("after")).allowed
    assert limiter.backend == "redis"
