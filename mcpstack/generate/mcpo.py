"""mcpo's config file (`mcpServers`, Claude Desktop format) from a gateway's routes."""

from __future__ import annotations

import json
from typing import Any

from mcpstack.catalog.models import Catalog, GatewayRoute, GatewayService, McpServerService

STDIO_ROOT = "/opt/mcp-stdio"


def stdio_venv(route_name: str) -> str:
    """Where the gateway image installs a stdio server's package (see servers/gateway/Dockerfile)."""
    return f"{STDIO_ROOT}/{route_name}"


def stdio_packages(gateway: GatewayService) -> str:
    """Build argument for the gateway image: 'route=requirement' pairs separated by spaces."""
    return " ".join(
        f"{name}={route.stdio.package}" for name, route in sorted(gateway.gateway.routes.items()) if route.stdio
    )


def upstream_url(catalog: Catalog, route: GatewayRoute) -> tuple[str, str]:
    """(transport, URL) by which the gateway reaches a service route, using in-cluster DNS names."""
    assert route.service is not None
    server = catalog.services[route.service]
    assert isinstance(server, McpServerService)
    transport = route.transport or next(iter(server.mcp.transports))
    port = server.port(server.mcp.port) if server.mcp.port else server.ports[0]
    assert port is not None
    return transport, f"http://{route.service}:{port.port}{server.mcp.transports[transport]}"


def mcpo_servers(catalog: Catalog, gateway_name: str) -> dict[str, dict[str, Any]]:
    gateway = catalog.services[gateway_name]
    assert isinstance(gateway, GatewayService)
    servers: dict[str, dict[str, Any]] = {}
    for name, route in sorted(gateway.gateway.routes.items()):
        if route.stdio:
            executable, *args = route.stdio.command
            servers[name] = {"command": f"{stdio_venv(name)}/bin/{executable}", "args": args}
        else:
            transport, url = upstream_url(catalog, route)
            servers[name] = {"type": transport, "url": url}
    return servers


def render_mcpo_config(catalog: Catalog, gateway_name: str) -> str:
    return json.dumps({"mcpServers": mcpo_servers(catalog, gateway_name)}, indent=2, sort_keys=True) + "\n"
