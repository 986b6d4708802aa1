"""The MCP front's Prometheus metrics, in the gateway's registry beside the OpenAPI path's.

`gateway_mcp_requests` / `gateway_mcp_request_duration_seconds` count JSON-RPC requests by route, method
(tools/list, tools/call, initialize, ...), tool and outcome (`ok`, `tool-error`, or the problem type's slug), the
way `gateway_requests` counts the OpenAPI path's HTTP requests. Labels stay bounded: routes from the config,
tools from the upstream's tool list (else `other`), methods from the MCP spec (else `other`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from servers.gateway.metrics import LATENCY_BUCKETS, OTHER, GatewayMetrics

METHODS = frozenset(
    {"initialize", "ping", "tools/list", "tools/call", "notifications/initialized", "notifications/cancelled"}
)


class McpMetrics:
    def __init__(self, metrics: GatewayMetrics) -> None:
        self.gateway = metrics
        labels = ["route", "method", "tool", "status"]
        self.requests = Counter(
            "gateway_mcp_requests",
            "MCP front: JSON-RPC requests by route, method, tool and outcome",
            labels,
            registry=metrics.registry,
        )
        self.latency = Histogram(
            "gateway_mcp_request_duration_seconds",
            "MCP front: JSON-RPC request latency by route, method, tool and outcome",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=metrics.registry,
        )

    def observe(self, route: str, method: str, tool: str, status: str, seconds: float) -> None:
        labels = (route, method if method in METHODS else OTHER, tool, status)
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)
