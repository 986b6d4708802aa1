"""MCP clients that present a bearer token the way the gateway does (servers/common/upstream_auth.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def mcp_client(
    url: str, token: str | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[Client]:
    """A connected client of the MCP endpoint at `url` (SSE when it ends in /sse, else streamable HTTP) that sends
    `headers`, and `token` as a bearer token."""
    headers = {**(headers or {}), **(bearer(token) if token else {})}
    if url.rstrip("/").endswith("/sse"):
        async with Client(sse_client(url, headers=headers)) as client:
            yield client
        return
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
