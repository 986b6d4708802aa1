"""Token buckets per end user inside their client's, per client and for the whole gateway, in process and in a real
Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError

from servers.gateway.ratelimit import Bucket, Decision, MemoryBuckets, RateLimiter, connect_redis, redis_password
from servers.gateway.settings import RateLimitSettings
from tests.gateway.conftest import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bucket(key: str, capacity: int, per_second: float = 1.0, scope: str = "client") -> Bucket:
    return Bucket(key, capacity, per_second, scope)


def test_bucket_allows_its_capacity_then_refuses_with_the_time_to_the_next_token() -> None:
    buckets = MemoryBuckets()
    results = [buckets.take([bucket("a", 3)], now=0.0) for _ in range(4)]
    assert [d.allowed for d in results] == [True, True, True, False]
    assert results[-1].retry_after == pytest.approx(1.0)
    assert buckets.take([bucket("a", 3)], now=0.5) == Decision(False, pytest.approx(0.5), "client")
    assert buckets.take([bucket("a", 3)], now=1.0).allowed  # one token refilled after a second


def test_buckets_are_independent_per_key() -> None:
    buckets = MemoryBuckets()
    assert buckets.take([bucket("a", 1)], now=0.0).allowed
    assert not buckets.take([bucket("a", 1)], now=0.0).allowed
    assert buckets.take([bucket("b", 1)], now=0.0).allowed


def test_a_request_takes_from_every_bucket_or_from_none() -> None:
    buckets = MemoryBuckets()
    inner, outer = bucket("user", 5, scope="user"), bucket("client", 2)
    assert [buckets.take([inner, outer], now=0.0).allowed for _ in range(3)] == [True, True, False]
    assert buckets.take([inner, outer], now=0.0).scope == "client"
    assert buckets.take([inner], now=0.0).allowed  # the refusals took nothing from the user's bucket: 3 left
    assert [buckets.take([inner], now=0.0).allowed for _ in range(3)] == [True, True, False]


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


async def test_rotating_user_ids_stay_inside_the_forwarding_clients_share() -> None:
    limiter = RateLimiter(per_client_per_minute=5, global_per_minute=20, clock=Clock(), forwarding_client_share=0.8)
    rotated = [await limiter.check("owui", f"user-{i}", forwards_users=True) for i in range(40)]
    assert sum(d.allowed for d in rotated) == 16  # 80% of the global limit, however many user ids
    assert {d.scope for d in rotated if not d.allowed} == {"client"}
    others = [(await limiter.check("ci")).allowed for _ in range(5)]
    assert others == [True, True, True, True, False]  # the global bucket had 4 left for everyone else


async def test_one_user_is_held_to_the_per_user_limit() -> None:
    limiter = RateLimiter(per_client_per_minute=3, global_per_minute=100, clock=Clock())
    decisions = [await limiter.check("owui", "ann", forwards_users=True) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].scope == "user"
    assert (await limiter.check("owui", "bob", forwards_users=True)).allowed


async def test_redis_takes_from_every_bucket_or_none_and_nests_users_in_the_client(redis_server: RedisServer) -> None:
    limiter = RateLimiter(5, 20, Redis.from_url(redis_server.url), forwarding_client_share=0.8)
    rotated = [await limiter.check("owui", f"user-{i}", forwards_users=True) for i in range(40)]
    assert sum(d.allowed for d in rotated) == 16
    assert {d.scope for d in rotated if not d.allowed} == {"client"}
    assert [(await limiter.check("ci")).allowed for _ in range(5)] == [True, True, True, True, False]
    assert limiter.backend == "redis"


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


async def test_the_gateway_authenticates_to_redis_with_the_password_file(
    redis_with_password: tuple[RedisServer, Path],
) -> None:
    server, password_file = redis_with_password
    settings = RateLimitSettings(redis_url=server.url, redis_password_file=str(password_file))
    limiter = RateLimiter(1, 100, connect_redis(settings))
    assert await limiter.check("a") == Decision(True)
    assert (await limiter.check("a")).allowed is False
    assert limiter.backend == "redis"  # not the in-process fallback: Redis accepted the password


async def test_without_the_password_redis_refuses_and_limits_fall_back_in_process(
    redis_with_password: tuple[RedisServer, Path],
) -> None:
    server, _ = redis_with_password
    with pytest.raises(AuthenticationError):  # NOAUTH
        await Redis.from_url(server.url).ping()
    limiter = RateLimiter(1, 100, connect_redis(RateLimitSettings(redis_url=server.url)))
    assert await limiter.check("a") == Decision(True)
    assert limiter.backend == "memory-fallback"


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "password").write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        redis_password(str(tmp_path / "password"))
    assert connect_redis(RateLimitSettings()) is None  # no Redis URL: in-process buckets
