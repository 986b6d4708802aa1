"""The two stacks: the whole platform in one namespace, from one catalog environment.

- DevPlatform (`deployment: compose`): one workload component per catalog service, the same
  containers as the local Docker runtime (tests/infra/test_parity.py holds them to it).
- ProdPlatform (`deployment: helm`): our services highly available (autoscaled, disruption
  budgets, spread), Open WebUI and Ollama from their official charts, monitoring from
  kube-prometheus-stack.

Neither deploys `local_only` services: those are the local runtime's stand-ins.
"""

from __future__ import annotations

from typing import Any

import pulumi

from infra import charts, manifests
from infra.components.context import Deploy, SecretValue, required_secrets
from infra.components.network import AppNamespace, NetworkPolicies
from infra.components.releases import Monitoring, OllamaRelease, OpenWebUIRelease
from infra.components.workload import KIND_COMPONENTS, CatalogWorkload, Ollama, model_pull_name
from infra.network import Topology, peer
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


class DevPlatform(pulumi.ComponentResource):
    """Compose-equivalent: every catalog service as its own Deployment + Service in one namespace."""

    namespace: pulumi.Output[str]
    urls: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        settings: StackSettings,
        secret: SecretValue,
        *,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mcpstack:component:DevPlatform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ns = AppNamespace(settings.namespace, environment=catalog.environment, opts=child)
        deploy = Deploy(catalog, settings, self.ns.name, secret)
        deployed = deployed_services(catalog)
        self.workloads: dict[str, CatalogWorkload] = {
            service: KIND_COMPONENTS[catalog.services[service].kind](service, deploy, opts=child)
            for service in deployed
        }
        scraper = next((s for s in deployed if catalog.services[s].kind == "prometheus"), None)
        topology = Topology(
            deployed=tuple(deployed),
            prometheus=peer(scraper) if scraper else None,
            scraper=scraper,
            ingress_namespace=settings.ingress_namespace,
            extra_clients=tuple(
                (model_pull_name(s), s) for s, workload in self.workloads.items() if isinstance(workload, Ollama)
            ),
        )
        self.policies = NetworkPolicies("network", deploy, topology, opts=child)
        self.namespace = self.ns.name
        self.urls = _urls({s: w.url for s, w in self.workloads.items()})
        self.register_outputs({"namespace": self.namespace, "urls": self.urls})


class ProdPlatform(pulumi.ComponentResource):
    """Production: HA services, Open WebUI and Ollama charts, kube-prometheus-stack."""

    namespace: pulumi.Output[str]
    urls: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        settings: StackSettings,
        secret: SecretValue,
        *,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mcpstack:component:ProdPlatform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ns = AppNamespace(settings.namespace, environment=catalog.environment, opts=child)
        deploy = Deploy(catalog, settings, self.ns.name, secret)
        in_namespace = [s for s in deployed_services(catalog) if catalog.services[s].kind not in MONITORING_KINDS]
        self.workloads: dict[str, Any] = {}
        for service in in_namespace:
            kind = catalog.services[service].kind
            if kind == "open-webui":
                self.workloads[service] = OpenWebUIRelease(service, deploy, opts=child)
            elif kind == "llm":
                self.workloads[service] = OllamaRelease(service, deploy, opts=child)
            else:
                self.workloads[service] = KIND_COMPONENTS[kind](
                    service,
                    deploy,
                    highly_available=manifests.is_our_service(catalog.services[service]),
                    opts=child,
                )
        self.monitoring = Monitoring("monitoring", deploy, monitored=in_namespace, opts=child)
        prometheus_peer = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": settings.monitoring_namespace}},
            "podSelector": {"matchLabels": dict(charts.PROMETHEUS_POD_LABELS)},
        }
        database = [
            {
                "to": [{"ipBlock": {"cidr": settings.database_cidr}}],
                "ports": [{"protocol": "TCP", "port": settings.database_port}],
            }
        ]
        topology = Topology(
            deployed=tuple(in_namespace),
            prometheus=prometheus_peer,
            ingress_namespace=settings.ingress_namespace,
            extra_egress={s: database for s in in_namespace if catalog.services[s].kind == "open-webui"},
        )
        self.policies = NetworkPolicies("network", deploy, topology, opts=child)
        self.namespace = self.ns.name
        self.urls = _urls(
            {
                s: pulumi.Output.from_input(f"http://{s}:{catalog.services[s].ports[0].port}")
                for s in in_namespace
                if catalog.services[s].ports
            }
        )
        self.register_outputs({"namespace": self.namespace, "urls": self.urls})


def _urls(urls: dict[str, Any]) -> pulumi.Output[dict[str, str]]:
    return pulumi.Output.all(**urls).apply(dict)
