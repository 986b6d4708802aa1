"""Cross-reference checks that the type model alone cannot express: references between services,
secrets and generators, port clashes, and dependency cycles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator

from mcpstack.catalog.errors import Problem
from mcpstack.catalog.models import (
    Catalog,
    GatewayService,
    GrafanaService,
    LlmService,
    McpServerService,
    OpenWebUIService,
    PrometheusService,
    ServiceBase,
)
from mcpstack.catalog.paths import KeyPath, SourceMap, format_path


def check_catalog(catalog: Catalog, source_map: SourceMap, generators: Collection[str]) -> list[Problem]:
    found: list[tuple[KeyPath, str]] = []
    for name, service in catalog.services.items():
        found += _check_service(catalog, name, service, generators)
    found += _check_tenancy(catalog)
    found += _check_publish(catalog)
    found += _check_local_runtime(catalog)
    found += _check_cycles(catalog)
    return [Problem(format_path(path), message, source_map.value_at(path)) for path, message in found]


def _check_service(
    catalog: Catalog, name: str, service: ServiceBase, generators: Collection[str]
) -> Iterator[tuple[KeyPath, str]]:
    yield from _check_ports_and_mounts(name, service)
    yield from _check_references(catalog, name, service, generators)
    if isinstance(service, GatewayService):
        yield from _check_routes(catalog, name, service)
        yield from _check_gateway_settings(catalog, name, service)


def _check_ports_and_mounts(name: str, service: ServiceBase) -> Iterator[tuple[KeyPath, str]]:
    base: KeyPath = ("services", name)
    yield from _duplicates((*base, "ports"), [p.name for p in service.ports], "port name")
    yield from _duplicates((*base, "ports"), [p.port for p in service.ports], "port number")
    yield from _duplicates((*base, "volumes"), [v.name for v in service.volumes], "volume name")
    mounts = (
        [f.path for f in service.files]
        + [s.file for s in service.secrets if s.file]
        + [v.path for v in service.volumes]
    )
    for path, count in Counter(mounts).items():
        if count > 1:
            yield base, f"mount path {path!r} is used {count} times (files, secrets and volumes)"
    for probe in ("health", "ready", "metrics"):
        endpoint = getattr(service, probe)
        if endpoint and service.port(endpoint.port) is None:
            yield (*base, probe, "port"), _missing("port", endpoint.port, [p.name for p in service.ports])
    if isinstance(service, McpServerService | GatewayService) and not service.ports:
        yield (*base, "ports"), f"a {service.kind} must declare at least one port"
    if isinstance(service, McpServerService) and service.mcp.port and service.port(service.mcp.port) is None:
        yield (*base, "mcp", "port"), _missing("port", service.mcp.port, [p.name for p in service.ports])


def _check_references(
    catalog: Catalog, name: str, service: ServiceBase, generators: Collection[str]
) -> Iterator[tuple[KeyPath, str]]:
    base: KeyPath = ("services", name)
    for index, dependency in enumerate(service.depends_on):
        if dependency == name:
            yield (*base, "depends_on", index), "a service cannot depend on itself"
        elif dependency not in catalog.services:
            yield (*base, "depends_on", index), _missing("service", dependency, catalog.services)
    for index, ref in enumerate(service.secrets):
        if ref.secret not in catalog.secrets:
            yield (*base, "secrets", index, "secret"), _missing("secret", ref.secret, catalog.secrets)
    for index, file in enumerate(service.files):
        if file.generator not in generators:
            yield (*base, "files", index, "generator"), _missing("generator", file.generator, generators)
    for variable, generator in service.generated_env.items():
        if generator not in generators:
            yield (*base, "generated_env", variable), _missing("generator", generator, generators)
        elif variable in service.env:
            yield (*base, "generated_env", variable), "also set in env; give it one value"
    yield from _check_kind_references(catalog, name, service)


def _check_routes(catalog: Catalog, name: str, gateway: GatewayService) -> Iterator[tuple[KeyPath, str]]:
    for route_name, route in gateway.gateway.routes.items():
        path: KeyPath = ("services", name, "gateway", "routes", route_name)
        if route.service is None:
            continue
        target = catalog.services.get(route.service)
        if target is None:
            yield (*path, "service"), _missing("service", route.service, catalog.mcp_servers())
        elif not isinstance(target, McpServerService):
            yield (*path, "service"), f"service {route.service!r} is a {target.kind}, not an mcp-server"
        elif route.transport and route.transport not in target.mcp.transports:
            yield (
                (*path, "transport"),
                (
                    f"service {route.service!r} does not offer {route.transport!r}; "
                    f"it offers {', '.join(target.mcp.transports)}"
                ),
            )


def _check_gateway_settings(catalog: Catalog, name: str, gateway: GatewayService) -> Iterator[tuple[KeyPath, str]]:
    path: KeyPath = ("services", name, "gateway")
    mounted = {ref.secret for ref in gateway.secrets if ref.file}
    for client_name, client in gateway.gateway.clients.items():
        at = (*path, "clients", client_name)
        if client.secret not in catalog.secrets:
            yield (*at, "secret"), _missing("secret", client.secret, catalog.secrets)
        elif client.secret not in mounted:
            yield (*at, "secret"), f"secret {client.secret!r} is not mounted as a file in services.{name}.secrets"
        if client.tenant and client.tenant not in catalog.tenancy.tenants:
            yield (*at, "tenant"), _missing("tenant", client.tenant, catalog.tenancy.tenants)
    for route_name, route in gateway.gateway.routes.items():
        for header, value in route.headers.items():
            if value.secret not in catalog.secrets:
                yield (
                    (*path, "routes", route_name, "headers", header),
                    _missing("secret", value.secret, catalog.secrets),
                )
    redis = gateway.gateway.rate_limits.redis
    if redis and (redis not in catalog.services or not catalog.services[redis].ports):
        yield (*path, "rate_limits", "redis"), _missing("service", redis, catalog.services)


def _check_tenancy(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    tenancy = catalog.tenancy
    routes = {
        route: gateway.gateway.routes[route]
        for gateway in catalog.gateways().values()
        for route in gateway.gateway.routes
    }
    if tenancy.default_tenant and tenancy.default_tenant not in tenancy.tenants:
        yield ("tenancy", "default_tenant"), _missing("tenant", tenancy.default_tenant, tenancy.tenants)
    for name, tenant in tenancy.tenants.items():
        for route in tenant.tools:
            if route not in routes:
                yield ("tenancy", "tenants", name, "tools", route), _missing("gateway route", route, routes)
        for route, headers in tenant.credentials.items():
            at: KeyPath = ("tenancy", "tenants", name, "credentials", route)
            if route not in routes:
                yield at, _missing("gateway route", route, routes)
            elif routes[route].stdio:
                yield at, "credentials apply to routes to a service, not to stdio routes"
            for header, value in headers.items():
                if value.secret not in catalog.secrets:
                    yield (*at, header), _missing("secret", value.secret, catalog.secrets)


def _check_kind_references(catalog: Catalog, name: str, service: ServiceBase) -> Iterator[tuple[KeyPath, str]]:
    base: KeyPath = ("services", name)

    def expect(path: KeyPath, target: str, kind: type[ServiceBase], what: str) -> Iterator[tuple[KeyPath, str]]:
        found = catalog.services.get(target)
        if found is None:
            yield path, _missing("service", target, [n for n, s in catalog.services.items() if isinstance(s, kind)])
        elif not isinstance(found, kind):
            yield path, f"service {target!r} is a {found.kind}, not {what}"

    if isinstance(service, OpenWebUIService):
        settings = service.open_webui
        yield from expect((*base, "open_webui", "llm"), settings.llm, LlmService, "an llm")
        yield from expect((*base, "open_webui", "gateway"), settings.gateway, GatewayService, "a gateway")
        gateway = catalog.services.get(settings.gateway)
        if isinstance(gateway, GatewayService):
            if settings.gateway_client not in gateway.gateway.clients:
                yield (
                    (*base, "open_webui", "gateway_client"),
                    _missing("gateway client", settings.gateway_client, gateway.gateway.clients),
                )
            for index, route in enumerate(settings.routes or []):
                if route not in gateway.gateway.routes:
                    yield (*base, "open_webui", "routes", index), _missing("route", route, gateway.gateway.routes)
    if isinstance(service, GrafanaService):
        yield from expect(
            (*base, "grafana", "datasource"), service.grafana.datasource, PrometheusService, "a prometheus"
        )
    if not service.local_only:
        for needed in sorted(dependency_graph(catalog)[name]):
            if catalog.services[needed].local_only:
                yield base, f"depends on {needed!r}, which is local_only: only local_only services may use it"


def _check_local_runtime(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    local = catalog.local
    for real, stand_in in local.substitutes.items():
        path: KeyPath = ("local", "substitutes", real)
        if real not in catalog.services:
            yield path, _missing("service", real, catalog.services)
        elif stand_in not in catalog.services:
            yield path, _missing("service", stand_in, catalog.services)
        elif not catalog.services[stand_in].local_only:
            yield path, f"substitute {stand_in!r} must be marked local_only"
        elif catalog.services[stand_in].kind != catalog.services[real].kind:
            yield (
                path,
                (
                    f"substitute {stand_in!r} is a {catalog.services[stand_in].kind}, "
                    f"{real!r} a {catalog.services[real].kind}"
                ),
            )
    for index, skipped in enumerate(local.skip):
        if skipped not in catalog.services:
            yield ("local", "skip", index), _missing("service", skipped, catalog.services)


def _check_substitute_transports(catalog: Catalog, real: str, stand_in: str) -> Iterator[tuple[KeyPath, str]]:
    offered = catalog.services[stand_in]
    if not isinstance(offered, McpServerService):
        return
    for gateway_name, gateway in catalog.gateways().items():
        for route_name, route in gateway.gateway.routes.items():
            if route.service != real:
                continue
            target = catalog.services[real]
            assert isinstance(target, McpServerService)
            transport = route.transport or next(iter(target.mcp.transports))
            if transport not in offered.mcp.transports:
                yield (
                    ("local", "substitutes", real),
                    (
                        f"substitute {stand_in!r} does not offer {transport!r}, which "
                        f"services.{gateway_name}.gateway.routes.{route_name} uses"
                    ),
                )


def _check_publish(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    first_use: dict[int, str] = {}
    for key, host_port in catalog.local.publish.items():
        path: KeyPath = ("local", "publish", key)
        service_name, _, port_name = key.partition(".")
        service = catalog.services.get(service_name)
        if service is None:
            yield path, _missing("service", service_name, catalog.services)
            continue
        if port_name and service.port(port_name) is None:
            yield path, _missing(f"port of service {service_name!r}", port_name, [p.name for p in service.ports])
        elif not service.ports:
            yield path, f"service {service_name!r} has no ports to publish"
        if not 1 <= host_port <= 65535:
            yield path, f"host port {host_port} is out of range 1-65535"
        elif host_port in first_use:
            yield path, f"host port {host_port} clashes with local.publish.{first_use[host_port]}"
        else:
            first_use[host_port] = key


def _check_cycles(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    graph = dependency_graph(catalog)
    state: dict[str, str] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> Iterator[tuple[KeyPath, str]]:
        state[node] = "active"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "active":
                cycle = [*trail[trail.index(nxt) :], nxt]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    yield ("services", nxt, "depends_on"), f"dependency cycle: {' -> '.join(cycle)}"
            elif nxt not in state:
                yield from visit(nxt, [*trail, nxt])
        state[node] = "done"

    for service in sorted(graph):
        if service not in state:
            yield from visit(service, [service])


def dependency_graph(catalog: Catalog) -> dict[str, set[str]]:
    """Service -> services it needs running first: explicit depends_on plus gateway routes."""
    graph: dict[str, set[str]] = {}
    for name, service in catalog.services.items():
        needs = set(service.depends_on)
        if isinstance(service, GatewayService):
            needs |= {r.service for r in service.gateway.routes.values() if r.service}
            if service.gateway.rate_limits.redis:
                needs.add(service.gateway.rate_limits.redis)
        if isinstance(service, OpenWebUIService):
            needs |= {service.open_webui.llm, service.open_webui.gateway}
        if isinstance(service, GrafanaService):
            needs.add(service.grafana.datasource)
        graph[name] = {n for n in needs if n in catalog.services}
    return graph


def _duplicates(path: KeyPath, values: list[object], what: str) -> Iterator[tuple[KeyPath, str]]:
    for value, count in Counter(values).items():
        if count > 1:
            index = max(i for i, v in enumerate(values) if v == value)
            yield (*path, index), f"duplicate {what} {value!r}"


def _missing(what: str, name: str, known: Collection[str]) -> str:
    options = ", ".join(sorted(known)) or "none"
    return f"unknown {what} {name!r} (known: {options})"
