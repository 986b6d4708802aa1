"""The two stacks: the whole platform in one namespace, from one catalog environment.

- DevPlatform (`deployment: compose`): one workload component per catalog service, the same
  containers as the local Docker runtime (tests/infra/test_parity.py holds them to it).
- ProdPlatform (`deployment: helm`): our services highly available (autoscaled, disruption
  budgets, spread), Open WebUI and Ollama from their official charts, monitoring from
  kube-prometheus-stack.

Both are a Platform: the namespace first, then the stack's own components, then the NetworkPolicies
between them. Neither deploys `local_only` services: those are the local runtime's stand-ins.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi

from infra import charts, manifests
from infra.components.context import Deploy, SecretValue, required_secrets
from infra.components.network import AppNamespace, NetworkPolicies
from infra.components.pull_secret import image_pull_secret
from infra.components.releases import Monitoring, OllamaRelease, OpenWebUIRelease
from infra.components.workload import KIND_COMPONENTS, Ollama, model_pull_name
from infra.network import Topology, database_egress, peer
from infra.settings import StackSettings
from mcpstack.catalog.models import Catalog

MONITORING_KINDS = ("prometheus", "grafana")  # prod: kube-prometheus-stack runs them


def deployed_services(catalog: Catalog) -> list[str]:
    return [name for name, service in catalog.services.items() if not service.local_only]


def needed_secrets(catalog: Catalog, helm: bool) -> list[str]:
    """Catalog secrets a stack puts into Kubernetes Secrets. In prod, Prometheus and Grafana are
    kube-prometheus-stack's: their generated files are not used, only their secrets (Grafana's admin)."""
    deployed = deployed_services(catalog)
    if not helm:
        return required_secrets(catalog, deployed)
    monitoring = [s for s in deployed if catalog.services[s].kind in MONITORING_KINDS]
    direct = {ref.secret for s in monitoring for ref in catalog.services[s].secrets}
    return sorted(set(required_secrets(catalog, [s for s in deployed if s not in monitoring])) | direct)


def external_urls(catalog: Catalog, settings: StackSettings) -> dict[str, str]:
    """What users open from outside the cluster: the exposed services behind the stack's Ingress
    (helm, `ingressHost`; https with `ingressTlsSecret`). None in dev: port-forward."""
    if not (settings.helm and settings.ingress_host):
        return {}
    scheme = "https" if settings.ingress_tls_secret else "http"
    return {
        name: f"{scheme}://{settings.ingress_host}/"
        for name, service in catalog.services.items()
        if service.kind == "open-webui" and not service.local_only
    }


class Platform(pulumi.ComponentResource):
    """One stack's platform: its namespace (restricted, default deny), the components a subclass
    builds in it (`build`), and the NetworkPolicies of the topology those components form."""

    TYPE: ClassVar[str]

    namespace: pulumi.Output[str]
    urls: pulumi.Output[dict[str, str]]
    external_urls: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        settings: StackSettings,
        secret: SecretValue,
        *,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.child = pulumi.ResourceOptions(parent=self)
        self.ns = AppNamespace(
            settings.namespace, environment=catalog.environment, protect=settings.protect, opts=self.child
        )
        self.workloads: dict[str, Any] = {}
        deploy = Deploy(catalog, settings, self.ns.name, secret)
        self.pull_secret = image_pull_secret(deploy, self.child)
        topology, urls = self.build(deploy)
        self.policies = NetworkPolicies("network", deploy, topology, opts=self.child)
        self.namespace = self.ns.name
        self.urls = pulumi.Output.all(**urls).apply(dict)
        self.external_urls = pulumi.Output.from_input(external_urls(catalog, settings))
        self.register_outputs({"namespace": self.namespace, "urls": self.urls, "external_urls": self.external_urls})

    def build(self, deploy: Deploy) -> tuple[Topology, dict[str, Any]]:
        """Create this stack's components (children of self, in self.workloads); return who talks to
        whom among them and each service's URL."""
        raise NotImplementedError


class DevPlatform(Platform):
    """Compose-equivalent: every catalog service as its own Deployment + Service in one namespace."""

    TYPE: ClassVar[str] = "mcpstack:component:DevPlatform"

    def build(self, deploy: Deploy) -> tuple[Topology, dict[str, Any]]:
        catalog = deploy.catalog
        deployed = deployed_services(catalog)
        for service in deployed:
            self.workloads[service] = KIND_COMPONENTS[catalog.services[service].kind](service, deploy, opts=self.child)
        scraper = next((s for s in deployed if catalog.services[s].kind == "prometheus"), None)
        topology = Topology(
            deployed=tuple(deployed),
            prometheus=peer(scraper) if scraper else None,
            scraper=scraper,
            ingress_namespace=deploy.settings.ingress_namespace,
            extra_clients=tuple(
                (model_pull_name(s), s) for s, workload in self.workloads.items() if isinstance(workload, Ollama)
            ),
        )
        return topology, {s: w.url for s, w in self.workloads.items()}


class ProdPlatform(Platform):
    """Production: HA services, Open WebUI and Ollama charts, kube-prometheus-stack."""

    TYPE: ClassVar[str] = "mcpstack:component:ProdPlatform"

    def build(self, deploy: Deploy) -> tuple[Topology, dict[str, Any]]:
        catalog, settings = deploy.catalog, deploy.settings
        in_namespace = [s for s in deployed_services(catalog) if catalog.services[s].kind not in MONITORING_KINDS]
        for service in in_namespace:
            kind = catalog.services[service].kind
            if kind == "open-webui":
                self.workloads[service] = OpenWebUIRelease(service, deploy, opts=self.child)
            elif kind == "llm":
                self.workloads[service] = OllamaRelease(service, deploy, opts=self.child)
            else:
                self.workloads[service] = KIND_COMPONENTS[kind](
                    service,
                    deploy,
                    highly_available=manifests.is_our_service(catalog.services[service]),
                    opts=self.child,
                )
        self.monitoring = Monitoring("monitoring", deploy, monitored=in_namespace, opts=self.child)
        prometheus_peer = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": settings.monitoring_namespace}},
            "podSelector": {"matchLabels": dict(charts.PROMETHEUS_POD_LABELS)},
        }
        database = database_egress(settings.database_cidr, settings.database_port)
        topology = Topology(
            deployed=tuple(in_namespace),
            prometheus=prometheus_peer,
            ingress_namespace=settings.ingress_namespace,
            extra_egress={s: database for s in in_namespace if catalog.services[s].kind == "open-webui"},
        )
        urls = {
            s: pulumi.Output.from_input(f"http://{s}:{catalog.services[s].ports[0].port}")
            for s in in_namespace
            if catalog.services[s].ports
        }
        return topology, urls
