"""The HTTP client the gateway talks to an upstream MCP server with: pooled, call-isolating, quick to give up.

One per upstream connection (mcpo's transport makes it through the SDK's `httpx_client_factory` seam; the lean
exchange, lean_exchange.py, sends its tools/call POSTs on the same one). Its default headers are the route's
`headers:` from the gateway config (an upstream credential among them), so every request to the upstream carries
them. The transport isolates each call's exchange (isolation.py: a broken reply fails that call, not the session);
at most 48 connections to an upstream (the design's limit), in 6 pools of 8 (pool_shards.py: httpcore walks every
connection of a pool per request); a 1.5 s connect timeout: between containers a TCP connect takes well under a
millisecond (and a dropped SYN is retried after 1 s), so an upstream that cannot be connected to in 1.5 s is gone,
and the route is dropped (isolation.py) rather than every call waiting for it.
"""

from __future__ import annotations

import httpx

from servers.gateway.isolation import IsolatingTransport, Mode
from servers.gateway.pool_shards import ShardedTransport

POOLS_PER_UPSTREAM = 6
CONNECTIONS_PER_POOL = 8
MAX_CONNECTIONS_PER_UPSTREAM = POOLS_PER_UPSTREAM * CONNECTIONS_PER_POOL
CONNECT_TIMEOUT_SECONDS = 1.5
WRITE_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 300.0  # the gateway's own per-call time limit is the one that matters
# An idle pooled connection is dropped before the upstream's own keep-alive limit (uvicorn: 5 s) closes it, so a
# call never goes out on a connection the server is closing at that moment.
KEEPALIVE_EXPIRY_SECONDS = 2.0


def upstream_http_client(
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    auth: httpx.Auth | None = None,
    *,
    mode: Mode = "reply",
) -> httpx.AsyncClient:
    read = timeout.read if timeout and timeout.read else READ_TIMEOUT_SECONDS
    limits = httpx.Limits(
        max_connections=CONNECTIONS_PER_POOL,
        max_keepalive_connections=CONNECTIONS_PER_POOL,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    pools: list[httpx.AsyncBaseTransport] = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(POOLS_PER_UPSTREAM)]
    return httpx.AsyncClient(
        headers=headers,
        auth=auth,
        transport=IsolatingTransport(ShardedTransport(pools), mode),
        follow_redirects=False,
        timeout=httpx.Timeout(
            connect=CONNECT_TIMEOUT_SECONDS,
            read=read,
            write=WRITE_TIMEOUT_SECONDS,
            pool=read,  # waiting for a connection: bounded by the gateway's own time limit
        ),
    )
