"""How the network rules read NetworkPolicies: which policies select a pod, and what each rule's
peers are (a catalog service, a helper pod, Prometheus, DNS, the ingress controller, the internet)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from infra.settings import StackSettings
from mcpstack.catalog.models import Catalog, ServiceBase
from mcpstack.policy.views import Obj, PodView, selector_matches

PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}


@dataclass(frozen=True)
class Peer:
    kind: str  # service, helper, prometheus, dns, ingress, internet, cidr, anywhere, other
    value: str = ""


def port_numbers(service: ServiceBase, names: list[str] | None = None) -> set[int]:
    return {p.port for p in service.ports if names is None or p.name in names}


def rule_ports(rule: Obj) -> set[Any] | None:
    """Port numbers a NetworkPolicy rule opens (None: every port)."""
    ports = rule.get("ports")
    if not ports:
        return None
    return {p.get("port") for p in ports}


class Network:
    """The NetworkPolicies of one rendered stack, against its pods and its catalog."""

    def __init__(
        self,
        catalog: Catalog,
        settings: StackSettings,
        pods: list[PodView],
        policies: list[Obj],
        scraper: str | None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.pods = pods
        self.policies = policies
        self.scraper = scraper  # the deployed catalog service that scrapes the others (compose), if any

    @property
    def helm(self) -> bool:
        return self.settings.deployment == "helm"

    def policies_for(self, pod: PodView) -> list[Obj]:
        return [
            p
            for p in self.policies
            if p["metadata"].get("namespace") == pod.namespace
            and p.get("spec", {}).get("podSelector") != {}
            and selector_matches(p.get("spec", {}).get("podSelector"), pod.labels)
        ]

    def service_policies(self) -> Iterator[tuple[str, Obj]]:
        """(catalog service, policy) for every policy selecting a catalog service's pods."""
        for pod in self.pods:
            if pod.service in self.catalog.services:
                for policy in self.policies_for(pod):
                    yield pod.service, policy

    def metrics_ports(self, service: str) -> set[int]:
        found = self.catalog.services.get(service or "")
        if found is None or found.metrics is None:
            return set()
        return port_numbers(found, [found.metrics.port])

    def scrape_ok(self, service: str, ports: set[Any] | None) -> bool:
        metrics = self.metrics_ports(service)
        return bool(metrics) and ports is not None and ports <= metrics

    @cached_property
    def helper_targets(self) -> dict[str, set[str]]:
        """Helper pods (not catalog services, e.g. a model pull Job) -> services their policy lets them call."""
        helpers: dict[str, set[str]] = {}
        for pod in self.pods:
            if pod.service and pod.service not in self.catalog.services:
                targets = helpers.setdefault(pod.service, set())
                for policy in self.policies_for(pod):
                    for rule in policy["spec"].get("egress") or []:
                        for peer in rule.get("to") or []:
                            classified = self.classify(peer)
                            if classified.kind == "service":
                                targets.add(classified.value)
        return helpers

    def classify(self, peer: Obj) -> Peer:  # noqa: PLR0911 - one return per kind of peer
        namespaces = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
        pod_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
        namespace = namespaces.get("kubernetes.io/metadata.name")
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            if block.get("cidr") == "0.0.0.0/0" and set(block.get("except") or []) >= PRIVATE_RANGES:
                return Peer("internet")
            return Peer("cidr", str(block.get("cidr")))
        if namespace == "kube-system" and pod_labels.get("k8s-app") == "kube-dns":
            return Peer("dns")
        if (
            self.helm
            and namespace == self.settings.monitoring_namespace
            and pod_labels.get("app.kubernetes.io/name") == "prometheus"
        ):
            return Peer("prometheus")
        if "namespaceSelector" in peer:
            if namespace and namespace == self.settings.ingress_namespace and "podSelector" not in peer:
                return Peer("ingress")
            return Peer("other", str(peer))
        if "podSelector" in peer and set(pod_labels) == {"mcpstack.io/service"}:
            name = pod_labels["mcpstack.io/service"]
            if name == self.scraper:
                return Peer("prometheus", name)
            if name in self.catalog.services:
                return Peer("service", name)
            return Peer("helper", name)
        return Peer("other", str(peer))

    def rule_peers(self, rule: Obj, direction: str) -> list[Peer]:
        peers = rule.get("from" if direction == "ingress" else "to")
        if not peers:
            return [Peer("anywhere")]
        return [self.classify(p) for p in peers]
