"""Config files derived from the catalog: the gateway's config (mcpo's servers plus mcpstack's
gateway settings) and Prometheus' scrape config.

Every runtime (local Docker, Pulumi dev/prod) mounts the same generated content at the same path.
Generators receive secret values through a callable, so a caller that must not see them (printing,
dry runs) passes a redacting one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcpstack.catalog.models import Catalog, OpenWebUIService
from mcpstack.generate.gateway import render_gateway_config
from mcpstack.generate.grafana import render_grafana_datasources
from mcpstack.generate.open_webui import llm_env, render_tool_server_connections
from mcpstack.generate.prometheus import render_prometheus_config
from mcpstack.generate.rules import render_prometheus_rules

SecretValue = Callable[[str], str]


@dataclass(frozen=True)
class Generator:
    name: str
    secret: bool  # content may carry credentials: a Kubernetes Secret, not a ConfigMap
    render: Callable[[Catalog, str, SecretValue], str]  # (catalog, mounting service, secret values) -> content


def redacted(name: str) -> str:
    return f"<secret:{name}>"


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("gateway-config", secret=True, render=render_gateway_config),
        Generator("prometheus-config", secret=False, render=lambda c, s, _secret: render_prometheus_config(c, s)),
        Generator("prometheus-rules", secret=False, render=lambda c, s, _secret: render_prometheus_rules(c, s)),
        Generator("tool-server-connections", secret=True, render=render_tool_server_connections),
        Generator("grafana-datasources", secret=False, render=lambda c, s, _secret: render_grafana_datasources(c, s)),
    )
}


def derived_env(catalog: Catalog, name: str) -> dict[str, str]:
    """Environment a service gets from other catalog entries (e.g. Open WebUI's LLM endpoint)."""
    if isinstance(catalog.services[name], OpenWebUIService):
        return llm_env(catalog, name)
    return {}
