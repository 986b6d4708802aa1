"""The gateway's Prometheus metrics. Labels are bounded: routes and tools come from the catalog and
the discovered tools, clients and tenants from the config; user IDs never become label values."""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from servers.common.resources import register_resource_metrics

LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
OTHER = "other"
ACTIVE_WINDOW_SECONDS = 300


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        register_resource_metrics(self.registry)
        r = self.registry
        self.requests = Counter(
            "gateway_requests", "Requests by route, tool and HTTP status", ["route", "tool", "status"], registry=r
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "Request latency by route, tool and status",
            ["route", "tool", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("gateway_requests_in_flight", "Requests being served", registry=r)
        self.upstream_up = Gauge(
            "gateway_upstream_up",
            "1 while the gateway is connected to the upstream MCP server",
            ["upstream"],
            registry=r,
        )
        self.upstream_connects = Counter(
            "gateway_upstream_connects",
            "Connection attempts to an upstream, by result",
            ["upstream", "result"],
            registry=r,
        )
        self.rate_limited = Counter(
            "gateway_rate_limited", "Requests refused by a rate limit", ["client", "scope"], registry=r
        )
        self.rate_limit_backend = Gauge(
            "gateway_rate_limit_backend", "1 for the rate-limit backend in use", ["backend"], registry=r
        )
        self.client_requests = Counter(
            "gateway_client_requests",
            "Authenticated requests by client (API key name)",
            ["client", "tenant"],
            registry=r,
        )
        self.denied = Counter(
            "gateway_denied",
            "Requests refused: unauthenticated or outside the caller's tenant",
            ["reason", "tenant"],
            registry=r,
        )
        self.refused = Counter(
            "gateway_refused",
            "Requests refused at the edge (limits, unsafe arguments, identity, rate limits), by problem type",
            ["reason"],
            registry=r,
        )
        self.active_users = Gauge(
            "gateway_active_users",
            f"Distinct end users seen in the last {ACTIVE_WINDOW_SECONDS // 60} minutes",
            registry=r,
        )
        self.discovery = Counter(
            "gateway_discovery_cache", "Tool discovery (OpenAPI spec) requests by cache result", ["result"], registry=r
        )
        self._last_seen: dict[str, float] = {}
        self.active_users.set_function(self._count_active_users)
        for backend in ("memory", "redis", "memory-fallback"):
            self.rate_limit_backend.labels(backend).set(0)

    def set_backend(self, backend: str) -> None:
        for name in ("memory", "redis", "memory-fallback"):
            self.rate_limit_backend.labels(name).set(1 if name == backend else 0)

    def saw_user(self, user: str) -> None:
        self._last_seen[user] = time.monotonic()
        if len(self._last_seen) > 50_000:
            self._count_active_users()

    def _count_active_users(self) -> float:
        cutoff = time.monotonic() - ACTIVE_WINDOW_SECONDS
        self._last_seen = {user: seen for user, seen in self._last_seen.items() if seen >= cutoff}
        return len(self._last_seen)

    def declare_upstreams(self, names: Iterable[str]) -> None:
        for name in names:
            self.upstream_up.labels(name).set(0)
