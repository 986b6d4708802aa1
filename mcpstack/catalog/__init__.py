"""The catalog: one description of the platform, loaded into typed models."""

from mcpstack.catalog.errors import CatalogError, Location, Problem
from mcpstack.catalog.loader import environments, load_all, load_catalog
from mcpstack.catalog.models import (
    Catalog,
    GatewayService,
    McpServerService,
    PrometheusService,
    ServiceBase,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "GatewayService",
    "Location",
    "McpServerService",
    "Problem",
    "PrometheusService",
    "ServiceBase",
    "environments",
    "load_all",
    "load_catalog",
]
