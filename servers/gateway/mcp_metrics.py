"""The MCP front's Prometheus metrics, in the gateway's registry beside the OpenAPI path's.

`gateway_mcp_requests` / `gateway_mcp_request_duration_seconds` count JSON-RPC requests by route, method
(tools/list, tools/call, initialize, ...), tool and outcome (`ok`, `tool-error`, or the problem type's slug), the
way `gateway_requests` counts the OpenAPI path's HTTP requests. Labels stay bounded: routes from the config,
tools from the upstream's tool list (else `other`), methods from the MCP spec (else `other`).

Tool-list changes: `gateway_tool_list_refreshes` counts listings by upstream, what asked for them (`notification`
from the upstream, `interval`) and what they found (`changed`, `unchanged`, `failed`);
`gateway_mcp_event_streams` is the GET streams open now, `gateway_mcp_notifications` the notifications sent on them.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

        self.tool_list_refreshes = Counter(
            "gateway_tool_list_refreshes",
            "Upstream tool lists listed again, by upstream, trigger (notification, interval) and outcome",
            ["upstream", "trigger", "outcome"],
            registry=metrics.registry,
        )
        self.event_streams = Gauge(
            "gateway_mcp_event_streams", "MCP front: GET streams open now", registry=metrics.registry
        )
        self.notifications = Counter(
            "gateway_mcp_notifications",
            "MCP front: notifications sent on GET streams, by route",
            ["route"],
            registry=metrics.registry,
        )

    def observe(self, route: str, method: str, tool: str, status: str, seconds: float) -> None:
        labels = (route, method if method in METHODS else OTHER, tool, status)
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)
