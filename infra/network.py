"""NetworkPolicies from the catalog: default deny, then each service admits exactly the services that
depend on it (depends_on, gateway routes, Open WebUI's LLM/gateway/Redis, Grafana's Prometheus) and
Prometheus on its metrics port, and reaches exactly its dependencies, plus DNS when it reaches
anything. `kubernetes.internet_egress` services may also open HTTPS connections outside the
cluster; `kubernetes.exposed` services admit the ingress controller. A service that depends on
nothing (the sandbox) gets no egress at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infra.manifests import LABEL_SERVICE, PRIVATE_RANGES, labels
from mcpstack.catalog.graph import connection_graph
from mcpstack.catalog.models import Catalog

Obj = dict[str, Any]
DNS_PEER: Obj = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
DEFAULT_DENY = "default-deny"


@dataclass(frozen=True)
class Topology:
    """Who talks to whom, beyond what the catalog's dependency graph says."""

    deployed: tuple[str, ...]  # catalog services with pods in the namespace
    prometheus: Obj | None  # peer of the Prometheus that scrapes (None: nobody scrapes)
    scraper: str | None = None  # deployed catalog service that scrapes the others (the dev stack's Prometheus)
    ingress_namespace: str = ""  # source exposed services admit ("" = any)
    # extra in-namespace clients: (client label value, target service) e.g. the model pull Job
    extra_clients: tuple[tuple[str, str], ...] = ()
    # extra egress rules per service, e.g. Open WebUI -> its external PostgreSQL
    extra_egress: dict[str, list[Obj]] = field(default_factory=dict)


def peer(service: str) -> Obj:
    return {"podSelector": {"matchLabels": {LABEL_SERVICE: service}}}


def ports_of(catalog: Catalog, service: str, names: Iterable[str] | None = None) -> list[Obj]:
    wanted = set(names) if names is not None else None
    return [
        {"protocol": "TCP", "port": p.port}
        for p in catalog.services[service].ports
        if wanted is None or p.name in wanted
    ]


def metrics_port(catalog: Catalog, service: str) -> list[Obj]:
    metrics = catalog.services[service].metrics
    return ports_of(catalog, service, [metrics.port]) if metrics else []


def default_deny(namespace: Any, environment: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": DEFAULT_DENY, "namespace": namespace, "labels": labels(DEFAULT_DENY, environment)},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allowed_ingress(catalog: Catalog, topology: Topology, service: str) -> list[Obj]:
    graph = connection_graph(catalog)
    rules: list[Obj] = []
    clients = sorted(c for c in topology.deployed if service in graph[c])
    clients += sorted(label for label, target in topology.extra_clients if target == service)
    if clients:
        rules.append({"from": [peer(c) for c in clients], "ports": ports_of(catalog, service)})
    if topology.prometheus is not None and catalog.services[service].metrics:
        rules.append({"from": [topology.prometheus], "ports": metrics_port(catalog, service)})
    if service in catalog.kubernetes.exposed:
        rule: Obj = {"ports": ports_of(catalog, service)}
        if topology.ingress_namespace:
            rule["from"] = [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": topology.ingress_namespace}}}
            ]
        rules.append(rule)
    return rules


def allowed_egress(catalog: Catalog, topology: Topology, service: str) -> list[Obj]:
    graph = connection_graph(catalog)
    rules = [{"to": [peer(d)], "ports": ports_of(catalog, d)} for d in sorted(graph[service]) if d in topology.deployed]
    if service == topology.scraper:
        rules += [
            {"to": [peer(t)], "ports": metrics_port(catalog, t)}
            for t in topology.deployed
            if catalog.services[t].metrics and t not in graph[service]
        ]
    rules += topology.extra_egress.get(service, [])
    if service in catalog.kubernetes.internet_egress:
        rules.append(
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
                "ports": [{"protocol": "TCP", "port": 443}],
            }
        )
    if rules:
        rules.append({"to": [DNS_PEER], "ports": DNS_PORTS})
    return rules


def pod_policy(name: str, namespace: Any, environment: str, ingress: list[Obj], egress: list[Obj]) -> Obj:
    """The NetworkPolicy of the pods labelled `name`: exactly these ingress and egress rules."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name, environment)},
        "spec": {
            "podSelector": {"matchLabels": {LABEL_SERVICE: name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def service_policy(catalog: Catalog, topology: Topology, service: str, namespace: Any) -> Obj:
    ingress = allowed_ingress(catalog, topology, service)
    return pod_policy(service, namespace, catalog.environment, ingress, allowed_egress(catalog, topology, service))


def client_policy(catalog: Catalog, client: str, target: str, namespace: Any) -> Obj:
    """A helper pod (e.g. the model pull Job) that only calls one service."""
    egress = [{"to": [peer(target)], "ports": ports_of(catalog, target)}, {"to": [DNS_PEER], "ports": DNS_PORTS}]
    return pod_policy(client, namespace, catalog.environment, [], egress)


def database_egress(cidr: str, port: int) -> list[Obj]:
    """Egress to Open WebUI's external PostgreSQL."""
    return [{"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": port}]}]


def helper_policy(name: str, namespace: Any, environment: str, egress: list[Obj]) -> Obj:
    """A helper pod (e.g. Open WebUI's migrations Job) admitting nothing and reaching only `egress`, and DNS."""
    return pod_policy(name, namespace, environment, [], [*egress, {"to": [DNS_PEER], "ports": DNS_PORTS}])


def network_policies(catalog: Catalog, topology: Topology, namespace: Any) -> list[Obj]:
    policies = [default_deny(namespace, catalog.environment)]
    policies += [service_policy(catalog, topology, s, namespace) for s in topology.deployed]
    policies += [client_policy(catalog, c, t, namespace) for c, t in topology.extra_clients]
    return policies
