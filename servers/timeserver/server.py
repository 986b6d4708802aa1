"""Assembles the time MCP server and its HTTP app."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field
from starlette.applications import Starlette

from servers.common.http import build_http_app
from servers.common.metrics import ToolMetrics
from servers.common.upstream_auth import UpstreamAuth
from servers.timeserver import tools

NAME = "mcpstack-time"
VERSION = "0.1.0"


def create_server() -> tuple[MCPServer[Any], ToolMetrics]:
    metrics = ToolMetrics(NAME, VERSION)
    server: MCPServer[Any] = MCPServer(
        NAME,
        version=VERSION,
        middleware=[metrics.middleware()],
        instructions="Current time in any IANA timezone, and conversion of a wall-clock time between zones.",
    )

    @server.tool(description="Get the current time in an IANA timezone.")
    def get_current_time(
        timezone: Annotated[str, Field(description="IANA timezone name, e.g. 'Europe/Berlin' or 'UTC'")],
    ) -> tools.TimeResult:
        return tools.get_current_time(timezone)

    @server.tool(description="Convert a 24-hour HH:MM time today from one IANA timezone to another.")
    def convert_time(
        source_timezone: Annotated[str, Field(description="IANA timezone of the given time")],
        time: Annotated[str, Field(description="Time in 24-hour HH:MM format")],
        target_timezone: Annotated[str, Field(description="IANA timezone to convert to")],
    ) -> tools.TimeConversionResult:
        return tools.convert_time(source_timezone, time, target_timezone)

    metrics.known_tools.update({"get_current_time", "convert_time"})
    return server, metrics


def create_app(auth: UpstreamAuth | None = None) -> tuple[MCPServer[Any], Starlette]:
    """`auth`: who may call the MCP endpoints (default: from the environment, servers/common/upstream_auth.py)."""
    server, metrics = create_server()
    return server, build_http_app(server, registry=metrics.registry, auth=auth)
