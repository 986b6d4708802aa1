"""The gateway's config file: mcpo's `mcpServers` plus mcpstack's `gateway` section.

mcpo reads `mcpServers` (Claude Desktop format) and ignores the rest; mcpstack's gateway reads the
`gateway` section: routes, clients (by key file, never key value), tenancy, limits. A route with
tenant credentials gets one mcpo server per such tenant ("ROUTE--TENANT"), so each tenant's token
rides on its own upstream session and is never visible to another tenant. A client limited to some
environments (test keys) is left out of the others' config: the gateway there accepts no such key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcpstack.catalog.models import Catalog, GatewayRoute, GatewayService, McpServerService, RedisService

STDIO_ROOT = "/opt/mcp-stdio"
TENANT_UPSTREAM_SEPARATOR = "--"
SecretValue = Callable[[str], str]


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


def tenant_upstream(route: str, tenant: str) -> str:
    return f"{route}{TENANT_UPSTREAM_SEPARATOR}{tenant}"


def _gateway(catalog: Catalog, name: str) -> GatewayService:
    gateway = catalog.services[name]
    assert isinstance(gateway, GatewayService)
    return gateway


def mcpo_servers(catalog: Catalog, gateway_name: str, secret: SecretValue) -> dict[str, dict[str, Any]]:
    servers: dict[str, dict[str, Any]] = {}
    for name, route in sorted(_gateway(catalog, gateway_name).gateway.routes.items()):
        if route.stdio:
            executable, *args = route.stdio.command
            servers[name] = {"command": f"{stdio_venv(name)}/bin/{executable}", "args": args}
            continue
        transport, url = upstream_url(catalog, route)
        entry: dict[str, Any] = {"type": transport, "url": url}
        if route.headers:
            entry["headers"] = {
                header: value.prefix + secret(value.secret) for header, value in sorted(route.headers.items())
            }
        servers[name] = entry
        for tenant_name, tenant in sorted(catalog.tenancy.tenants.items()):
            if credentials := tenant.credentials.get(name):
                own = {header: value.prefix + secret(value.secret) for header, value in sorted(credentials.items())}
                headers = {**entry.get("headers", {}), **own}
                servers[tenant_upstream(name, tenant_name)] = {**entry, "headers": headers}
    return servers


def _file_of(files: dict[str, str], secret: str, gateway_name: str) -> str:
    if secret not in files:
        raise ValueError(f"secret {secret!r} is not mounted as a file in services.{gateway_name}.secrets")
    return files[secret]


def gateway_settings(catalog: Catalog, gateway_name: str) -> dict[str, Any]:
    service = _gateway(catalog, gateway_name)
    gateway = service.gateway
    key_files = {ref.secret: ref.file for ref in service.secrets if ref.file}
    clients = {
        name: client for name, client in sorted(gateway.clients.items()) if client.accepted_in(catalog.environment)
    }
    identity_secret = gateway.user_identity_secret
    redis_url = redis_password_file = None
    if gateway.rate_limits.redis:
        redis = catalog.services[gateway.rate_limits.redis]
        redis_url = f"redis://{gateway.rate_limits.redis}:{redis.ports[0].port}/0"
        if isinstance(redis, RedisService):  # its password: a mounted file, never a value in this config
            redis_password_file = _file_of(key_files, redis.redis.password, gateway_name)
    return {
        "routes": {
            name: {
                "required": route.required,
                "tenant_upstreams": {
                    tenant: tenant_upstream(name, tenant)
                    for tenant, spec in sorted(catalog.tenancy.tenants.items())
                    if name in spec.credentials
                },
            }
            for name, route in sorted(gateway.routes.items())
        },
        "virtual_servers": {
            name: {"routes": list(virtual.routes)} for name, virtual in sorted(gateway.virtual_servers.items())
        },
        "clients": {
            name: {
                "key_file": _file_of(key_files, client.secret, gateway_name),
                "tenant": client.tenant,
                "forwards_user_identity": client.forwards_user_identity,
            }
            for name, client in clients.items()
        },
        # a list: the first matching tenant wins, so the catalog's order matters
        "tenants": [
            {"name": name, "match": tenant.match.model_dump(), "tools": tenant.tools, "calls": tenant.calls}
            for name, tenant in catalog.tenancy.tenants.items()
        ],
        "default_tenant": catalog.tenancy.default_tenant,
        "timeout_seconds": gateway.timeout_seconds,
        "tool_list_refresh_seconds": gateway.tool_list_refresh_seconds,
        "rate_limits": {
            "per_client_per_minute": gateway.rate_limits.per_client_per_minute,
            "global_per_minute": gateway.rate_limits.global_per_minute,
            "forwarding_client_share": gateway.rate_limits.forwarding_client_share,
            "redis_url": redis_url,
            "redis_password_file": redis_password_file,
        },
        "limits": gateway.limits.model_dump(),
        "cors_origins": gateway.cors_origins,
        "public_docs": gateway.public_docs,
        "public_details": gateway.public_details.model_dump(),
        "identity_headers": gateway.identity_headers.model_dump(),
        "user_identity_secret_file": _file_of(key_files, identity_secret, gateway_name) if identity_secret else None,
        "user_directory": _user_directory(catalog, service, key_files, gateway_name),
        "workers": gateway.workers,
    }


def _user_directory(
    catalog: Catalog, service: GatewayService, key_files: dict[str, str], gateway_name: str
) -> dict[str, Any] | None:
    """Where the gateway asks Open WebUI for a signed user's groups: its URL and the API key's FILE (never the key)."""
    directory = service.gateway.user_directory
    if directory is None:
        return None
    open_webui = catalog.services[directory.service]
    port = open_webui.port("http") or open_webui.ports[0]
    return {
        "url": f"http://{directory.service}:{port.port}",
        "key_file": _file_of(key_files, directory.secret, gateway_name),
        "cache_seconds": directory.cache_seconds,
        "timeout_seconds": directory.timeout_seconds,
        "max_cached_users": directory.max_cached_users,
    }


def render_gateway_config(catalog: Catalog, gateway_name: str, secret: SecretValue) -> str:
    document = {
        "mcpServers": mcpo_servers(catalog, gateway_name, secret),
        "gateway": gateway_settings(catalog, gateway_name),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
