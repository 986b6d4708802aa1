"""Carries the request's correlation ID to the MCP server, in the tools/call request's `_meta`.

mcpo calls `session.call_tool(name, arguments=...)` on a ClientSession it creates itself; the session
class mcpo's module uses is swapped for one that adds `_meta` from the request context. MCP servers see
it as `io.mcpstack/correlation-id` in the request metadata (ours log it).
"""

from __future__ import annotations

from typing import Any

import mcpo.main
from mcp import ClientSession

from servers.gateway.context import correlation_id

META_KEY = "io.mcpstack/correlation-id"


class CorrelatedClientSession(ClientSession):
    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *args: Any,
        meta: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        return await super().call_tool(
            name, arguments, *args, meta={**(meta or {}), META_KEY: correlation_id()}, **kwargs
        )


def propagate_correlation_ids() -> None:
    mcpo.main.ClientSession = CorrelatedClientSession  # type: ignore[misc]
