"""Token-bucket rate limits per client and for the whole gateway.

In-process buckets serve a single replica. With a Redis URL the buckets live in Redis (one atomic
Lua script per check), shared by all replicas; when Redis fails, checks fall back to the in-process
buckets and Redis is retried after a pause, so an outage degrades the limits, never the traffic.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("mcpstack.gateway.ratelimit")
GLOBAL = "__global__"
REDIS_RETRY_SECONDS = 10.0
MAX_TRACKED_CLIENTS = 50_000

# KEYS[1]: bucket key. ARGV: capacity, refill per second. Returns {allowed, retry_after_ms}.
# Time comes from the Redis server, so replicas with skewed clocks share one timeline.
BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, retry_ms}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    scope: str = ""  # "client" or "global" when refused


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class MemoryBuckets:
    def __init__(self) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, capacity: int, rate: float, now: float) -> tuple[bool, float]:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now)
            if len(self._buckets) > MAX_TRACKED_CLIENTS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, 0.0
        return False, (1 - bucket.tokens) / rate


class RateLimiter:
    def __init__(
        self, per_client_per_minute: int, global_per_minute: int, redis: Any = None, clock: Any = time.monotonic
    ) -> None:
        self._client = (per_client_per_minute, per_client_per_minute / 60.0)
        self._global = (global_per_minute, global_per_minute / 60.0)
        self._memory = MemoryBuckets()
        self._redis = redis
        self._script = redis.register_script(BUCKET_SCRIPT) if redis is not None else None
        self._redis_paused_until = 0.0
        self._clock = clock
        self.backend = "redis" if redis is not None else "memory"

    async def check(self, client_key: str) -> Decision:
        allowed, retry = await self._take(f"client:{client_key}", *self._client)
        if not allowed:
            return Decision(False, retry, "client")
        allowed, retry = await self._take(GLOBAL, *self._global)
        if not allowed:
            return Decision(False, retry, "global")
        return Decision(True)

    async def _take(self, key: str, capacity: int, rate: float) -> tuple[bool, float]:
        if self._script is not None and self._clock() >= self._redis_paused_until:
            try:
                allowed, retry_ms = await self._script(keys=[f"mcpstack:ratelimit:{key}"], args=[capacity, rate])
                self.backend = "redis"
                return bool(allowed), retry_ms / 1000
            except Exception as exc:  # any Redis failure: degrade to in-process buckets
                self._redis_paused_until = self._clock() + REDIS_RETRY_SECONDS
                self.backend = "memory-fallback"
                logger.warning("rate limiting falls back to in-process buckets: Redis failed (%s)", type(exc).__name__)
        return self._memory.take(key, capacity, rate, self._clock())
