"""DNS-rebinding protection of our MCP servers: the `Host` and `Origin` of every MCP request (streamable HTTP
and SSE) must name the server as its callers know it, through the MCP SDK's own transport security.

A web page on a rebinding domain (evil.example.com resolving to 127.0.0.1) reaches a server on a developer's
loopback with `Host: evil.example.com`: it is refused with 421 (bad Host) or 403 (bad Origin). Allowed are the
loopback names on any port (127.0.0.1, localhost, [::1]: the published ports, the tests, the benchmarks) and
the names in `MCP_ALLOWED_HOSTS`, a comma-separated list the catalog sets per server: the name and port the
gateway's upstream URL uses (`time:8003`), which `e2e/conformance/test_allowed_hosts.py` checks. Origins
allowed: `http://` and `https://` with an allowed host, plus `MCP_ALLOWED_ORIGINS`. /health and /metrics are
not MCP endpoints and answer any Host (probes and Prometheus scrape pod addresses).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from mcp.server.transport_security import TransportSecuritySettings

HOSTS_VARIABLE = "MCP_ALLOWED_HOSTS"
ORIGINS_VARIABLE = "MCP_ALLOWED_ORIGINS"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def allowed_hosts(env: Mapping[str, str]) -> list[str]:
    """Loopback with and without a port, then the configured names (a `name:*` entry allows any port)."""
    return [*LOOPBACK, *(f"{name}:*" for name in LOOPBACK), *_names(env.get(HOSTS_VARIABLE))]


def transport_security(env: Mapping[str, str] | None = None) -> TransportSecuritySettings:
    env = os.environ if env is None else env
    hosts = allowed_hosts(env)
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[*origins, *_names(env.get(ORIGINS_VARIABLE))],
    )
