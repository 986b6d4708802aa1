"""The OpenAPI path's tool endpoints, rebuilt when an upstream's tool list changes while it stays connected.

mcpo builds one endpoint per tool when it connects (`create_dynamic_endpoints`, its own public function, from
`tools/list`), so a tool added later would be reachable over MCP but not over OpenAPI until a reconnect. When
tool_list_watch.py finds a change, mcpo's function builds the endpoints again, on a scratch FastAPI app that
shares the sub-app's session manager and settings; the upstream then swaps them in at once (upstreams.py
`adopt_tool_routes`), and the discovery cache, keyed by `tools_since`, serves the new spec. The endpoints look the
session up from the request's app (the sub-app), as mcpo's own do.
"""

from __future__ import annotations

from fastapi import FastAPI
from mcpo.main import create_dynamic_endpoints

from servers.gateway.upstreams import BUILTIN_PATHS, Upstream

SHARED_STATE = ("session_manager", "disabled_tools", "client_header_forwarding")  # what mcpo's function reads


async def rebuild_endpoints(upstream: Upstream) -> None:
    scratch = FastAPI()
    for name in SHARED_STATE:
        if hasattr(upstream.app.state, name):
            setattr(scratch.state, name, getattr(upstream.app.state, name))
    await create_dynamic_endpoints(scratch, api_dependency=getattr(upstream.app.state, "api_dependency", None))
    upstream.adopt_tool_routes([r for r in scratch.router.routes if getattr(r, "path", None) not in BUILTIN_PATHS])
