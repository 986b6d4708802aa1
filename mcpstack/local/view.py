"""The catalog as the local runtime runs it: substitutes in place of services that cannot run here,
skipped services left out, and local_only stand-ins kept only where something uses them.

The stacks deploy the catalog itself; `local.substitutes` and `local.skip` (environment overlays)
say, service by service, where the local runtime differs. `mcpstack up --real NAME` drops a
substitution, e.g. to run real Ollama on a machine that has its image.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from mcpstack.catalog.checks import dependency_graph
from mcpstack.catalog.models import (
    Catalog,
    GatewayService,
    GrafanaService,
    OpenWebUIService,
    ServiceBase,
)

Rename = Callable[[str], str]


class UnknownService(ValueError):
    pass


def local_view(catalog: Catalog, real: Collection[str] = ()) -> Catalog:
    unknown = set(real) - set(catalog.local.substitutes)
    if unknown:
        raise UnknownService(
            f"--real {', '.join(sorted(unknown))}: not substituted locally "
            f"(substituted: {', '.join(sorted(catalog.local.substitutes)) or 'none'})"
        )
    substitutes = {name: stand_in for name, stand_in in catalog.local.substitutes.items() if name not in real}

    def rename(name: str) -> str:
        return substitutes.get(name, name)

    kept = {
        name: _with_references_renamed(service, rename)
        for name, service in catalog.services.items()
        if name not in substitutes and name not in catalog.local.skip
    }
    view = catalog.model_copy(
        update={
            "services": kept,
            "local": catalog.local.model_copy(
                update={"publish": {_rename_key(key, rename): port for key, port in catalog.local.publish.items()}}
            ),
        }
    )
    used = _used_from(view, [name for name, service in kept.items() if not service.local_only])
    return view.model_copy(update={"services": {n: s for n, s in kept.items() if not s.local_only or n in used}})


def substitutions(catalog: Catalog, real: Collection[str] = ()) -> dict[str, str]:
    return {name: stand_in for name, stand_in in catalog.local.substitutes.items() if name not in real}


def _rename_key(key: str, rename: Rename) -> str:
    service, dot, port = key.partition(".")
    return rename(service) + dot + port


def _used_from(catalog: Catalog, roots: list[str]) -> set[str]:
    graph = dependency_graph(catalog)
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(graph.get(name, ()))
    return seen


def _with_references_renamed(service: ServiceBase, rename: Rename) -> ServiceBase:
    update: dict[str, object] = {"depends_on": [rename(d) for d in service.depends_on]}
    if isinstance(service, GatewayService):
        gateway = service.gateway
        routes = {
            name: route.model_copy(update={"service": rename(route.service)}) if route.service else route
            for name, route in gateway.routes.items()
        }
        limits = gateway.rate_limits
        update["gateway"] = gateway.model_copy(
            update={
                "routes": routes,
                "rate_limits": limits.model_copy(update={"redis": rename(limits.redis) if limits.redis else None}),
            }
        )
    if isinstance(service, OpenWebUIService):
        settings = service.open_webui
        update["open_webui"] = settings.model_copy(
            update={"llm": rename(settings.llm), "gateway": rename(settings.gateway)}
        )
    if isinstance(service, GrafanaService):
        update["grafana"] = service.grafana.model_copy(update={"datasource": rename(service.grafana.datasource)})
    return service.model_copy(update=update)
