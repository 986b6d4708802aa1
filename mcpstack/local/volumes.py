"""The persistent volumes of a local stack, each with the service that owns it and what it holds, so
`mcpstack down --volumes` can say exactly what it deletes before it deletes anything."""

from __future__ import annotations

from dataclasses import dataclass

import docker

from mcpstack.catalog import Catalog
from mcpstack.local.containers import LABEL_STACK, volume_name

# What a service kind keeps in its volumes (said before they are deleted or backed up).
HOLDS = {
    "open-webui": "Open WebUI's users, chats and settings (SQLite); `mcpstack backup` first keeps a copy",
    "prometheus": "Prometheus' time series",
    "grafana": "Grafana's database",
}


@dataclass(frozen=True)
class StackVolume:
    name: str  # the Docker volume
    service: str | None  # None: a volume of the stack no service of this catalog declares
    holds: str


def stack_volumes(client: docker.DockerClient, stack: str, catalog: Catalog) -> list[StackVolume]:
    """Every volume labelled as the stack's (what `down --volumes` removes), named after its owner."""
    owners: dict[str, tuple[str, str]] = {}
    for name, service in catalog.services.items():  # every service that might run here
        for volume in service.volumes:
            owners[volume_name(stack, name, volume.name)] = (name, HOLDS.get(service.kind, f"{name}'s data"))
    found = client.volumes.list(filters={"label": f"{LABEL_STACK}={stack}"})
    return [
        StackVolume(v.name, *owners.get(v.name, (None, "unknown contents (not in this catalog)")))
        for v in sorted(found, key=lambda v: v.name)
    ]
