"""Who may call a service: only the services that depend on it (and Prometheus, and the ingress
controller when it is exposed); only the gateway calls the MCP servers, only Open WebUI the gateway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.network import Peer, port_numbers, rule_ports
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import ref_of

SECTION = Section()


def _check_ingress(
    ctx: Context,
    rule_id: str,
    applies: Callable[[str], bool],
    allowed: Callable[[str, Peer, set[Any] | None], str | None],
) -> Iterator[Violation]:
    for service, policy in ctx.network.service_policies():
        if not applies(service):
            continue
        for index, item in enumerate(policy["spec"].get("ingress") or []):
            ports = rule_ports(item)
            for peer in ctx.network.rule_peers(item, "ingress"):
                problem = allowed(service, peer, ports)
                if problem:
                    yield Violation(rule_id, ref_of(policy), f"spec.ingress[{index}]", problem)


@SECTION.rule(
    "NET-INGRESS-DEPENDENTS",
    "a service admits only the services that depend on it, Prometheus (metrics port) "
    "and, if `exposed`, the ingress controller",
)
def _ingress_dependents(ctx: Context) -> Iterator[Violation]:
    def allowed(service: str, peer: Peer, ports: set[Any] | None) -> str | None:  # noqa: PLR0911
        catalog_service = ctx.catalog.services[service]
        own = port_numbers(catalog_service)
        if peer.kind == "service":
            if service not in ctx.graph.get(peer.value, set()):
                return f"admits {peer.value}, which does not depend on {service}"
            if ports is None or not ports <= own:
                return f"opens ports {sorted(ports or [])} beyond {service}'s {sorted(own)}"
            return None
        if peer.kind == "helper":
            if service not in ctx.network.helper_targets.get(peer.value, set()):
                return f"admits {peer.value}, whose own policy does not call {service}"
            return None
        if peer.kind == "prometheus":
            return None if ctx.network.scrape_ok(service, ports) else "admits Prometheus beyond the metrics port"
        if peer.kind in ("ingress", "anywhere") and service in ctx.catalog.kubernetes.exposed:
            if peer.kind == "anywhere" and ctx.settings.ingress_namespace:
                return f"admits any source; the stack's ingress controller is in {ctx.settings.ingress_namespace}"
            return None
        return f"admits {peer.kind} {peer.value}".rstrip()

    yield from _check_ingress(ctx, "NET-INGRESS-DEPENDENTS", lambda _s: True, allowed)


def _only_callers(ctx: Context, rule_id: str, kind: str, callers: str, label: str) -> Iterator[Violation]:
    """Services of `kind` admit only services of kind `callers`, and Prometheus on the metrics port."""

    def allowed(service: str, peer: Peer, ports: set[Any] | None) -> str | None:
        if peer.kind == "service" and ctx.kind_of(peer.value) == callers:
            return None
        if peer.kind == "prometheus" and ctx.network.scrape_ok(service, ports):
            return None
        return f"{label} {service} admits {peer.kind} {peer.value}".rstrip()

    yield from _check_ingress(ctx, rule_id, lambda s: ctx.kind_of(s) == kind, allowed)


@SECTION.rule("NET-MCP-SERVERS-GATEWAY-ONLY", "only the gateway may call the MCP servers (and Prometheus scrape them)")
def _mcp_gateway_only(ctx: Context) -> Iterator[Violation]:
    yield from _only_callers(ctx, "NET-MCP-SERVERS-GATEWAY-ONLY", "mcp-server", "gateway", "MCP server")


@SECTION.rule("NET-GATEWAY-WEBUI-ONLY", "only Open WebUI may call the gateway (and Prometheus scrape it)")
def _gateway_webui_only(ctx: Context) -> Iterator[Violation]:
    yield from _only_callers(ctx, "NET-GATEWAY-WEBUI-ONLY", "gateway", "open-webui", "gateway")
