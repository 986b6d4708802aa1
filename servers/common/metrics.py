"""Prometheus metrics for MCP tool calls, recorded by an MCP server middleware.

The middleware sits in the SDK's context tier, so it sees every `tools/call`, including calls
rejected before the tool runs (unknown tool, invalid arguments), and records them too.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import ValidationError

from servers.common.resources import register_resource_metrics

# Tool calls are expected in the 1 ms .. 30 s range (sandbox runs are the slow end).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNKNOWN_TOOL = "unknown"
CORRELATION_META_KEY = "io.mcpstack/correlation-id"  # set by the mcpstack gateway on every tools/call
logger = logging.getLogger("mcpstack.tools")


class ToolMetrics:
    """Tool-call counters and latency histogram on a registry of their own.

    A registry per server instance keeps in-process tests (several servers in one interpreter)
    from colliding on metric names.
    """

    def __init__(self, server_name: str, version: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        register_resource_metrics(self.registry)
        self.known_tools: set[str] = set()
        Gauge(
            "mcp_server_info",
            "Static information about this MCP server",
            ["server", "version"],
            registry=self.registry,
        ).labels(server_name, version).set(1)
        self.calls = Counter("mcp_tool_calls", "Tool calls received", ["tool"], registry=self.registry)
        self.errors = Counter(
            "mcp_tool_errors",
            "Tool calls that failed, by kind: tool_error (an error result: the tool failed, or the SDK rejected "
            "its arguments or name), invalid_params (malformed tools/call params), protocol_error (an MCP "
            "protocol error), error (an unexpected exception)",
            ["tool", "kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mcp_tool_call_duration_seconds",
            "Tool call latency",
            ["tool"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def tool_label(self, name: Any) -> str:
        # Only registered tool names become label values: a client cannot inflate cardinality.
        return name if isinstance(name, str) and name in self.known_tools else UNKNOWN_TOOL

    def middleware(self) -> ServerMiddleware[Any]:
        return _ToolMetricsMiddleware(self)


class _ToolMetricsMiddleware(ServerMiddleware[Any]):
    def __init__(self, metrics: ToolMetrics) -> None:
        self._metrics = metrics

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params or {}
        tool = self._metrics.tool_label(params.get("name"))
        meta = params.get("_meta")
        correlation = meta.get(CORRELATION_META_KEY) if isinstance(meta, dict) else None
        self._metrics.calls.labels(tool).inc()
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await call_next(ctx)
            match result:
                case CallToolResult(is_error=True) | {"isError": True}:
                    outcome = "tool_error"
                case _:
                    outcome = "ok"
        except ValidationError:
            outcome = "invalid_params"
            raise
        except MCPError:
            outcome = "protocol_error"
            raise
        finally:
            elapsed = time.perf_counter() - started
            self._metrics.latency.labels(tool).observe(elapsed)
            if outcome != "ok":
                self._metrics.errors.labels(tool, outcome).inc()
            logger.info(
                "tools/call %s: %s",
                tool,
                outcome,
                extra={
                    "fields": {
                        "tool": tool,
                        "outcome": outcome,
                        "duration_ms": round(elapsed * 1000, 2),
                        "correlation_id": correlation or "-",
                    }
                },
            )
        return result
