"""The catalog as the local runtime runs it: substitutes in place of services that cannot run here,
skipped services left out, and local_only stand-ins kept only where something uses them.

The stacks deploy the catalog itself; `local.substitutes` and `local.skip` (environment overlays)
say, service by service, where the local runtime differs. `mcpstack up --real NAME` drops a
substitution or a skip, e.g. to run real Ollama or Grafana on a machine that has their images.
"""

from __future__ import annotations

from collections.abc import Collection

from mcpstack.catalog.graph import dependency_graph
from mcpstack.catalog.models import Catalog
from mcpstack.catalog.references import rename_references


class UnknownService(ValueError):
    pass


def local_view(catalog: Catalog, real: Collection[str] = ()) -> Catalog:
    unknown = set(real) - set(catalog.local.substitutes) - set(catalog.local.skip)
    if unknown:
        raise UnknownService(
            f"--real {', '.join(sorted(unknown))}: not substituted locally "
            f"(substituted: {', '.join(sorted(catalog.local.substitutes)) or 'none'}; "
            f"skipped: {', '.join(sorted(catalog.local.skip)) or 'none'})"
        )
    substitutes = {name: stand_in for name, stand_in in catalog.local.substitutes.items() if name not in real}

    def rename(name: str) -> str:
        return substitutes.get(name, name)

    kept = {
        name: rename_references(service, rename)  # every field typed as a service reference
        for name, service in catalog.services.items()
        if name not in substitutes and (name not in catalog.local.skip or name in real)  # --real runs a skipped one
    }
    # The publish entries follow the stand-ins; substitutes and skip keep naming the services they are about.
    publish = rename_references(catalog.local, rename).publish
    view = catalog.model_copy(update={"services": kept, "local": catalog.local.model_copy(update={"publish": publish})})
    used = _used_from(view, [name for name, service in kept.items() if not service.local_only])
    return view.model_copy(update={"services": {n: s for n, s in kept.items() if not s.local_only or n in used}})


def substitutions(catalog: Catalog, real: Collection[str] = ()) -> dict[str, str]:
    return {name: stand_in for name, stand_in in catalog.local.substitutes.items() if name not in real}


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
