"""Token-bucket rate limits, nested: an end user's bucket sits inside its client's, which sits inside the global one.

A request takes one token from each bucket it belongs to, all or nothing: the user's (`per_client_per_minute`,
when a client forwards users), the client's (`per_client_per_minute`; for a client that forwards users, all its
users together: `forwarding_client_share` of the global limit) and the global one (`global_per_minute`). So
rotating user ids gives no key more than its own share, and no key can drain the global bucket for the others.

In-process buckets serve a single replica. With a Redis URL the buckets live in Redis (one atomic Lua script per
check), shared by all replicas; when Redis fails, checks fall back to the in-process buckets and Redis is retried
after a pause, so an outage degrades the limits, never the traffic. Redis requires a password: it comes from a
mounted secret file (`redis_password_file`), never from the generated config.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from servers.gateway.settings import RateLimitSettings

logger = logging.getLogger("mcpstack.gateway.ratelimit")
GLOBAL = "__global__"
REDIS_RETRY_SECONDS = 10.0
REDIS_TIMEOUT_SECONDS = 0.25
MAX_TRACKED_BUCKETS = 50_000

# KEYS: the buckets. ARGV: capacity and refill per second of each, in turn. Takes a token from every bucket, or
# from none when one is empty; returns {0, 0} when taken, else {index of the empty bucket (1-based), retry ms}.
# Time comes from the Redis server, so replicas with skewed clocks share one timeline.
BUCKETS_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tokens = {}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local have = tonumber(state[1]) or capacity
  local ts = tonumber(state[2]) or now
  have = math.min(capacity, have + math.max(0, now - ts) * rate)
  if have < 1 then
    return {i, math.ceil((1 - have) / rate * 1000)}
  end
  tokens[i] = have
end
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', tokens[i] - 1, 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 1000)
end
return {0, 0}
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    capacity: int
    per_second: float
    scope: str  # "user", "client" or "global"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    scope: str = ""  # the bucket that refused: "user", "client" or "global"


@dataclass
class _State:
    tokens: float
    stamp: float


class MemoryBuckets:
    def __init__(self) -> None:
        self._states: OrderedDict[str, _State] = OrderedDict()

    def take(self, buckets: list[Bucket], now: float) -> Decision:
        """A token from each bucket, or from none; the first empty bucket refuses."""
        states = []
        for bucket in buckets:
            state = self._states.get(bucket.key)
            if state is None:
                state = self._states[bucket.key] = _State(bucket.capacity, now)
                if len(self._states) > MAX_TRACKED_BUCKETS:
                    self._states.popitem(last=False)
            else:
                self._states.move_to_end(bucket.key)
                state.tokens = min(bucket.capacity, state.tokens + (now - state.stamp) * bucket.per_second)
                state.stamp = now
            if state.tokens < 1:
                return Decision(False, (1 - state.tokens) / bucket.per_second, bucket.scope)
            states.append(state)
        for state in states:
            state.tokens -= 1
        return Decision(True)


class RateLimiter:
    def __init__(
        self,
        per_client_per_minute: int,
        global_per_minute: int,
        redis: Any = None,
        clock: Any = time.monotonic,
        forwarding_client_share: float = 0.8,
    ) -> None:
        self._per_client = per_client_per_minute
        self._global = global_per_minute
        self._share = max(1, math.floor(global_per_minute * forwarding_client_share))
        self._memory = MemoryBuckets()
        self._redis = redis
        self._script = redis.register_script(BUCKETS_SCRIPT) if redis is not None else None
        self._redis_paused_until = 0.0
        self._clock = clock
        self.backend = "redis" if redis is not None else "memory"

    def buckets(self, client: str, user: str | None = None, forwards_users: bool = False) -> list[Bucket]:
        """The buckets a request draws on, innermost first."""
        found = []
        if user is not None:
            found.append(Bucket(f"user:{client}:{user}", self._per_client, self._per_client / 60, "user"))
        capacity = self._share if forwards_users else self._per_client
        found.append(Bucket(f"client:{client}", capacity, capacity / 60, "client"))
        found.append(Bucket(GLOBAL, self._global, self._global / 60, "global"))
        return found

    async def check(self, client: str, user: str | None = None, forwards_users: bool = False) -> Decision:
        buckets = self.buckets(client, user, forwards_users)
        if self._script is not None and self._clock() >= self._redis_paused_until:
            try:
                args = [value for b in buckets for value in (b.capacity, b.per_second)]
                refused, retry_ms = await self._script(keys=[f"mcpstack:ratelimit:{b.key}" for b in buckets], args=args)
                self.backend = "redis"
                if refused:
                    return Decision(False, retry_ms / 1000, buckets[int(refused) - 1].scope)
                return Decision(True)
            except Exception as exc:  # any Redis failure: degrade to in-process buckets
                self._redis_paused_until = self._clock() + REDIS_RETRY_SECONDS
                self.backend = "memory-fallback"
                logger.warning("rate limiting falls back to in-process buckets: Redis failed (%s)", type(exc).__name__)
        return self._memory.take(buckets, self._clock())


def redis_password(path: str | None) -> str | None:
    """The Redis password from its mounted secret file (surrounding whitespace dropped); None without a file."""
    if path is None:
        return None
    password = Path(path).read_text(encoding="utf-8").strip()
    if not password:
        raise ValueError(f"the Redis password file {path} is empty")
    return password


def connect_redis(settings: RateLimitSettings) -> Redis | None:
    """The client of the shared buckets' Redis, authenticated with the password file; None: in-process buckets."""
    if not settings.redis_url:
        return None
    return Redis.from_url(
        settings.redis_url,
        password=redis_password(settings.redis_password_file),
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
