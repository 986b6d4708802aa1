"""What a rule sees: the rendered stack (objects, Helm releases, pods) and the catalog it was built from."""

from __future__ import annotations

from functools import cached_property

from infra.render import Registered, Rendered
from mcpstack.catalog.graph import connection_graph
from mcpstack.catalog.models import Catalog, ServiceBase
from mcpstack.policy.rules.network import Network
from mcpstack.policy.views import Obj, pods

OUR_KINDS = ("mcp-server", "gateway")


class Context:
    """One rendered stack as every rule of one run reads it; what is derived is derived once."""

    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered
        self.catalog: Catalog = rendered.catalog
        self.settings = rendered.settings
        self.objects = rendered.objects()
        self.releases = rendered.releases()
        self.pods = pods(rendered)

    @property
    def helm(self) -> bool:
        return self.settings.deployment == "helm"

    @cached_property
    def graph(self) -> dict[str, set[str]]:
        return connection_graph(self.catalog)  # who may reach whom

    def service(self, name: str | None) -> ServiceBase | None:
        return self.catalog.services.get(name or "")

    @cached_property
    def deployed(self) -> set[str]:
        """Catalog services with pods in the rendered stack."""
        return {p.service for p in self.pods if p.service in self.catalog.services}

    def kind_of(self, name: str) -> str | None:
        service = self.service(name)
        return service.kind if service else None

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.get("kind") == kind]

    def secret_data(self, namespace: str, name: str) -> Obj | None:
        for obj in self.of_kind("Secret"):
            meta = obj["metadata"]
            if meta.get("name") == name and meta.get("namespace") == namespace:
                return {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
        return None

    def release(self, chart: str) -> Registered | None:
        return next((r for r in self.releases if r.body.get("chart") == chart), None)

    @cached_property
    def scraper(self) -> str | None:
        """The catalog's Prometheus when it runs in the namespace (compose); else the operator's."""
        return next((s for s in self.deployed if self.kind_of(s) == "prometheus"), None)

    @cached_property
    def network(self) -> Network:
        """The NetworkPolicies, and who each of their rules lets in or out."""
        return Network(self.catalog, self.settings, self.pods, self.of_kind("NetworkPolicy"), self.scraper)
