"""Open WebUI's configuration, all through its environment (ENABLE_PERSISTENT_CONFIG=false):
its LLM endpoint, derived from the catalog's `llm` service; the model defaults every model gets
(DEFAULT_MODEL_METADATA: the platform's tool servers switched on in every new chat, the LLM service's
description, Open WebUI's built-in time tools off so only the platform's time tool answers); and its tool
server connections, one per gateway route offered to people, authenticated with the gateway client key it was
given: an OpenAPI tool server (/ROUTE, via mcpo), or with the route's `open_webui_connection: mcp` an MCP server
(/mcp/ROUTE, the gateway's MCP front), which Open WebUI calls over streamable HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcpstack.catalog.models import Catalog, GatewayService, LlmService, OpenWebUIService

SecretValue = Callable[[str], str]
PUBLIC_READ = {"principal_type": "user", "principal_id": "*", "permission": "read"}
# Open WebUI's built-in tools (native function calling) that would compete with the platform's:
# get_current_timestamp / calculate_timestamp answer in UTC only, beside the time server's get_current_time.
BUILTIN_TOOLS_OFF = {"time": False}


def _open_webui(catalog: Catalog, name: str) -> OpenWebUIService:
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService)
    return service


def _gateway(catalog: Catalog, name: str) -> tuple[str, GatewayService]:
    gateway_name = _open_webui(catalog, name).open_webui.gateway
    gateway = catalog.services[gateway_name]
    assert isinstance(gateway, GatewayService)
    return gateway_name, gateway


def offered_routes(catalog: Catalog, name: str) -> list[str]:
    """The gateway routes and virtual servers Open WebUI offers as tool servers: `open_webui.routes`, else every
    route and virtual server offered to users (not the test-only routes, `offer_to_users: false`)."""
    settings = _open_webui(catalog, name).open_webui
    _, gateway = _gateway(catalog, name)
    if settings.routes is not None:
        return list(settings.routes)
    routes = [route for route, spec in gateway.gateway.routes.items() if spec.offer_to_users]
    return routes + [virtual for virtual, spec in gateway.gateway.virtual_servers.items() if spec.offer_to_users]


def _over_mcp(gateway: GatewayService, offered: str) -> bool:
    """Whether Open WebUI reaches `offered` over MCP: a virtual server always, a route when it says so."""
    route = gateway.gateway.routes.get(offered)
    return route is None or route.open_webui_connection == "mcp"


def tool_ids(catalog: Catalog, name: str) -> list[str]:
    """Open WebUI's ids of the offered tool servers: `server:<connection id>`, `server:mcp:<id>` for MCP ones."""
    _, gateway = _gateway(catalog, name)
    return [
        f"server:mcp:{offered}" if _over_mcp(gateway, offered) else f"server:{offered}"
        for offered in offered_routes(catalog, name)
    ]


def llm_env(catalog: Catalog, name: str) -> dict[str, str]:
    llm_name = _open_webui(catalog, name).open_webui.llm
    llm = catalog.services[llm_name]
    assert isinstance(llm, LlmService)
    url = f"http://{llm_name}:{llm.ports[0].port}"
    model_defaults = {
        "DEFAULT_MODELS": llm.llm.models[0],
        "DEFAULT_MODEL_METADATA": json.dumps(model_metadata(catalog, name), separators=(",", ":")),
    }
    if llm.llm.api == "ollama":
        return {"ENABLE_OLLAMA_API": "true", "OLLAMA_BASE_URL": url, "ENABLE_OPENAI_API": "false"} | model_defaults
    return {
        "ENABLE_OLLAMA_API": "false",
        "ENABLE_OPENAI_API": "true",
        "OPENAI_API_BASE_URLS": f"{url}/v1",
        "OPENAI_API_KEYS": "unused",
    } | model_defaults


def model_metadata(catalog: Catalog, name: str) -> dict[str, Any]:
    """What every model gets unless set per model: its description, default tools, built-in tools off."""
    llm = catalog.services[_open_webui(catalog, name).open_webui.llm]
    return {"description": llm.description, "toolIds": tool_ids(catalog, name), "builtinTools": BUILTIN_TOOLS_OFF}


def render_tool_server_connections(catalog: Catalog, name: str, secret: SecretValue) -> str:
    settings = _open_webui(catalog, name).open_webui
    gateway_name, gateway = _gateway(catalog, name)
    key = secret(gateway.gateway.clients[settings.gateway_client].secret)
    base = f"http://{gateway_name}:{gateway.ports[0].port}"
    connections = []
    for route_name in offered_routes(catalog, name):
        where = (
            {"type": "mcp", "url": f"{base}/mcp/{route_name}"}
            if _over_mcp(gateway, route_name)
            else {"type": "openapi", "url": f"{base}/{route_name}", "path": "openapi.json"}
        )
        description = _description(catalog, gateway, route_name)
        connections.append(
            {
                **where,
                "auth_type": "bearer",
                "key": key,
                "config": {
                    "enable": True,
                    "access_grants": [PUBLIC_READ],
                },  # every user sees them; the gateway decides calls
                "info": {"id": route_name, "name": route_name, "description": description},
            }
        )
    return json.dumps(connections, separators=(",", ":"))


def _description(catalog: Catalog, gateway: GatewayService, offered: str) -> str:
    virtual = gateway.gateway.virtual_servers.get(offered)
    if virtual is not None:
        return virtual.description or f"the tools of {', '.join(virtual.routes)}"
    route = gateway.gateway.routes[offered]
    if route.service in catalog.services:
        return catalog.services[route.service].description
    return f"{route.stdio.package} over stdio" if route.stdio else offered
