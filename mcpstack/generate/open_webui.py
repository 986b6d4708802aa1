"""Open WebUI's configuration, all through its environment (ENABLE_PERSISTENT_CONFIG=false):
its LLM endpoint, derived from the catalog's `llm` service, and its tool server connections, one
OpenAPI tool server per gateway route, authenticated with the gateway client key it was given."""

from __future__ import annotations

import json
from collections.abc import Callable

from mcpstack.catalog.models import Catalog, GatewayService, LlmService, OpenWebUIService

SecretValue = Callable[[str], str]
PUBLIC_READ = {"principal_type": "user", "principal_id": "*", "permission": "read"}


def _open_webui(catalog: Catalog, name: str) -> OpenWebUIService:
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService)
    return service


def llm_env(catalog: Catalog, name: str) -> dict[str, str]:
    llm_name = _open_webui(catalog, name).open_webui.llm
    llm = catalog.services[llm_name]
    assert isinstance(llm, LlmService)
    url = f"http://{llm_name}:{llm.ports[0].port}"
    if llm.llm.api == "ollama":
        return {
            "ENABLE_OLLAMA_API": "true",
            "OLLAMA_BASE_URL": url,
            "ENABLE_OPENAI_API": "false",
            "DEFAULT_MODELS": llm.llm.models[0],
        }
    return {
        "ENABLE_OLLAMA_API": "false",
        "ENABLE_OPENAI_API": "true",
        "OPENAI_API_BASE_URLS": f"{url}/v1",
        "OPENAI_API_KEYS": "unused",
        "DEFAULT_MODELS": llm.llm.models[0],
    }


def render_tool_server_connections(catalog: Catalog, name: str, secret: SecretValue) -> str:
    settings = _open_webui(catalog, name).open_webui
    gateway = catalog.services[settings.gateway]
    assert isinstance(gateway, GatewayService)
    key = secret(gateway.gateway.clients[settings.gateway_client].secret)
    base = f"http://{settings.gateway}:{gateway.ports[0].port}"
    connections = []
    for route_name in settings.routes or list(gateway.gateway.routes):
        route = gateway.gateway.routes[route_name]
        description = (
            catalog.services[route.service].description
            if route.service in catalog.services
            else (f"{route.stdio.package} over stdio" if route.stdio else route_name)
        )
        connections.append(
            {
                "type": "openapi",
                "url": f"{base}/{route_name}",
                "path": "openapi.json",
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
