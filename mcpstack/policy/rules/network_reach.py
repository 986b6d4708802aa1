"""What a service reaches, and what must reach it: its dependencies only (nothing at all when it has
none), DNS when it reaches anything, and Prometheus on every metrics port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.network import Peer, port_numbers, rule_ports
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import ref_of

SECTION = Section()


def _egress_needs(ctx: Context, service: str) -> bool:
    deps = ctx.graph.get(service, set()) & ctx.deployed
    return bool(
        deps
        or service in ctx.catalog.kubernetes.internet_egress
        or service == ctx.scraper
        or (ctx.helm and ctx.kind_of(service) == "open-webui")
    )


@SECTION.rule(
    "NET-EGRESS-DEPENDENCIES",
    "a service reaches only its dependencies (DNS, the internet on 443 if `internet_egress`, Open WebUI's database)",
)
def _egress(ctx: Context) -> Iterator[Violation]:
    for service, policy in ctx.network.service_policies():
        for index, item in enumerate(policy["spec"].get("egress") or []):
            ports = rule_ports(item)
            for peer in ctx.network.rule_peers(item, "egress"):
                problem = _egress_problem(ctx, service, peer, ports)
                if problem:
                    yield Violation("NET-EGRESS-DEPENDENCIES", ref_of(policy), f"spec.egress[{index}]", problem)


def _egress_problem(ctx: Context, service: str, peer: Peer, ports: set[Any] | None) -> str | None:  # noqa: PLR0911
    if peer.kind in ("service", "prometheus") and peer.value:
        target = ctx.catalog.services.get(peer.value)
        if target is None:
            return f"reaches {peer.value}, not a catalog service"
        if peer.value in ctx.graph.get(service, set()):
            return None if ports is not None and ports <= port_numbers(target) else "opens ports beyond the target's"
        if service == ctx.scraper and ctx.network.scrape_ok(peer.value, ports):
            return None
        return f"reaches {peer.value}, which {service} does not depend on"
    if peer.kind == "dns":
        return None if ports is not None and ports <= {53} else "DNS rule opens more than port 53"
    if peer.kind == "internet":
        if service not in ctx.catalog.kubernetes.internet_egress:
            return f"reaches the internet; {service} is not in kubernetes.internet_egress"
        return None if ports == {443} else "internet egress must be HTTPS (443) only"
    database = ctx.helm and ctx.kind_of(service) == "open-webui" and peer.value == ctx.settings.database_cidr
    if peer.kind == "cidr" and database and ports == {ctx.settings.database_port}:
        return None
    return f"reaches {peer.kind} {peer.value}".rstrip()


@SECTION.rule("NET-NO-EGRESS", "a service that depends on nothing (the sandbox) gets no egress at all, not even DNS")
def _no_egress(ctx: Context) -> Iterator[Violation]:
    for service, policy in ctx.network.service_policies():
        if not _egress_needs(ctx, service) and policy["spec"].get("egress"):
            yield Violation("NET-NO-EGRESS", ref_of(policy), "spec.egress", f"{service} needs no egress; must be []")
        if not _egress_needs(ctx, service) and "Egress" not in (policy["spec"].get("policyTypes") or []):
            yield Violation("NET-NO-EGRESS", ref_of(policy), "spec.policyTypes", "must include Egress")


@SECTION.rule("NET-DNS", "a pod that reaches other services can resolve their names (kube-dns, port 53)")
def _dns(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        rules = [r for p in ctx.network.policies_for(pod) for r in p["spec"].get("egress") or []]
        kinds = [peer.kind for r in rules for peer in ctx.network.rule_peers(r, "egress")]
        if any(k != "dns" for k in kinds) and "dns" not in kinds:
            yield Violation("NET-DNS", pod.ref, "NetworkPolicy.spec.egress", "reaches services but cannot resolve them")


@SECTION.rule("NET-PROMETHEUS-SCRAPE", "Prometheus may scrape every service that has metrics, on the metrics port")
def _scrape(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        metrics = ctx.network.metrics_ports(pod.service or "")
        if not metrics or pod.service == ctx.scraper:
            continue
        admitted = any(
            peer.kind == "prometheus" and (rule_ports(r) is None or metrics <= (rule_ports(r) or set()))
            for p in ctx.network.policies_for(pod)
            for r in p["spec"].get("ingress") or []
            for peer in ctx.network.rule_peers(r, "ingress")
        )
        if not admitted:
            yield Violation(
                "NET-PROMETHEUS-SCRAPE",
                pod.ref,
                "NetworkPolicy.spec.ingress",
                f"Prometheus cannot scrape port {sorted(metrics)}",
            )
