"""The catalog's services as a graph: which services each one needs running first."""

from __future__ import annotations

from mcpstack.catalog.models import Catalog
from mcpstack.catalog.references import references


def dependency_graph(catalog: Catalog) -> dict[str, set[str]]:
    """Service -> the services it needs running first: every service it names (depends_on, gateway routes and
    Redis, Open WebUI's LLM, gateway and Redis, Grafana's datasource: the fields typed as service references)."""
    return {
        name: {ref.service for ref in references(service) if ref.service in catalog.services}
        for name, service in catalog.services.items()
    }
