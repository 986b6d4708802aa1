"""Config files derived from the catalog: mcpo's server config, Prometheus' scrape config.

Every runtime (local Docker, Pulumi dev/prod) mounts the same generated content at the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcpstack.catalog.models import Catalog
from mcpstack.generate.mcpo import render_mcpo_config
from mcpstack.generate.prometheus import render_prometheus_config


@dataclass(frozen=True)
class Generator:
    name: str
    secret: bool  # content may carry credentials: a Kubernetes Secret, not a ConfigMap
    render: Callable[[Catalog, str], str]  # (catalog, name of the service mounting it) -> file content


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("mcpo-config", secret=True, render=render_mcpo_config),
        Generator("prometheus-config", secret=False, render=render_prometheus_config),
    )
}
