"""The catalog's services as graphs: which services each one needs running first, and which it connects to."""

from __future__ import annotations

from mcpstack.catalog.models import Catalog
from mcpstack.catalog.references import references


def dependency_graph(catalog: Catalog) -> dict[str, set[str]]:
    """Service -> the services it needs running first: every service it names (depends_on, gateway routes and
    Redis, Open WebUI's LLM, gateway and Redis, Grafana's datasource: the fields typed as service references),
    except references that need not start first (the gateway's user directory)."""
    return {
        name: {
            ref.service for ref in references(service) if ref.service in catalog.services and ref.marker.starts_first
        }
        for name, service in catalog.services.items()
    }


def connection_graph(catalog: Catalog) -> dict[str, set[str]]:
    """Service -> every service it connects to (all its service references): what NetworkPolicies admit."""
    return {
        name: {ref.service for ref in references(service) if ref.service in catalog.services}
        for name, service in catalog.services.items()
    }
