"""Cross-reference checks that the type model alone cannot express: references between services (every field
typed as a service reference, catalog/references.py), secrets and generators, port clashes, and dependency
cycles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator

from mcpstack.catalog.errors import Problem
from mcpstack.catalog.graph import dependency_graph
from mcpstack.catalog.models import (
    GENERATOR_NAMES,
    Catalog,
    GatewayService,
    McpServerService,
    OpenWebUIService,
    RedisService,
    ServiceBase,
)
from mcpstack.catalog.paths import KeyPath, SourceMap, format_path
from mcpstack.catalog.references import references
from mcpstack.catalog.scrape_coverage import check_scrape_coverage


def check_catalog(catalog: Catalog, source_map: SourceMap) -> list[Problem]:
    found: list[tuple[KeyPath, str]] = list(_check_service_references(catalog))
    for name, service in catalog.services.items():
        found += _check_service(catalog, name, service, GENERATOR_NAMES)
    found += _check_tenancy(catalog)
    found += _check_publish(catalog)
    found += _check_local_runtime(catalog)
    found += _check_cycles(catalog)
    found += _check_slos(catalog)
    found += check_scrape_coverage(catalog)
    return [Problem(format_path(path), message, source_map.value_at(path)) for path, message in found]


def _check_service_references(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    """Every field typed as a service reference names a service, of the kind the field asks for."""
    for ref in references(catalog):
        kind = ref.marker.kind
        target = catalog.services.get(ref.service)
        if target is None:
            known = [n for n, s in catalog.services.items() if kind is None or s.kind == kind]
            yield ref.path, _missing("service", ref.service, known)
        elif kind is not None and target.kind != kind:
            yield ref.path, f"service {ref.service!r} is a {target.kind}, not {_a(kind)}"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiolm" else f"a {kind}"  # an llm, an mcp-server, an open-webui


def _check_service(
    catalog: Catalog, name: str, service: ServiceBase, generators: Collection[str]
) -> Iterator[tuple[KeyPath, str]]:
    yield from _check_ports_and_mounts(name, service)
    yield from _check_references(catalog, name, service, generators)
    if isinstance(service, GatewayService):
        yield from _check_routes(catalog, name, service)
        yield from _check_virtual_servers(name, service)
        yield from _check_gateway_settings(catalog, name, service)
    if isinstance(service, RedisService):
        yield from _check_redis_password(catalog, name, service)


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
        target = catalog.services.get(route.service or "")
        if isinstance(target, McpServerService) and route.transport and route.transport not in target.mcp.transports:
            yield (
                (*path, "transport"),
                (
                    f"service {route.service!r} does not offer {route.transport!r}; "
                    f"it offers {', '.join(target.mcp.transports)}"
                ),
            )


def _check_virtual_servers(name: str, gateway: GatewayService) -> Iterator[tuple[KeyPath, str]]:
    routes = gateway.gateway.routes
    for virtual_name, virtual in gateway.gateway.virtual_servers.items():
        path: KeyPath = ("services", name, "gateway", "virtual_servers", virtual_name)
        if virtual_name in routes:
            yield path, f"a route has this name too: both would be /mcp/{virtual_name}; rename one"
        for index, route in enumerate(virtual.routes):
            if route not in routes:
                yield (*path, "routes", index), _missing("gateway route", route, routes)
            elif virtual.routes.index(route) != index:
                yield (*path, "routes", index), f"route {route!r} is listed twice"


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
    yield from _check_user_directory(catalog, name, gateway, mounted)
    redis = gateway.gateway.rate_limits.redis
    if redis and redis in catalog.services and not catalog.services[redis].ports:
        yield (*path, "rate_limits", "redis"), _missing("service", redis, catalog.services)
    target = catalog.services.get(redis or "")
    if isinstance(target, RedisService) and target.redis.password in set(catalog.secrets) - mounted:
        yield (
            (*path, "rate_limits", "redis"),
            f"Redis {redis!r} requires secret {target.redis.password!r}: mount it as a file in services.{name}.secrets",
        )


def _check_user_directory(
    catalog: Catalog, name: str, gateway: GatewayService, mounted: set[str]
) -> Iterator[tuple[KeyPath, str]]:
    """The directory's API key is a declared secret mounted as a file; it serves signed users only."""
    directory = gateway.gateway.user_directory
    if directory is None:
        return
    at: KeyPath = ("services", name, "gateway", "user_directory")
    if directory.secret not in catalog.secrets:
        yield (*at, "secret"), _missing("secret", directory.secret, catalog.secrets)
    elif directory.secret not in mounted:
        yield (*at, "secret"), f"secret {directory.secret!r} is not mounted as a file in services.{name}.secrets"
    if gateway.gateway.user_identity_secret is None:
        yield at, "groups are looked up for signed users only: set user_identity_secret too"


def _check_redis_password(catalog: Catalog, name: str, service: RedisService) -> Iterator[tuple[KeyPath, str]]:
    """Redis reads its password from a mounted file (never its command line or a ConfigMap)."""
    password = service.redis.password
    if password not in catalog.secrets:
        yield ("services", name, "redis", "password"), _missing("secret", password, catalog.secrets)
    elif password not in {ref.secret for ref in service.secrets if ref.file}:
        yield ("services", name, "redis", "password"), f"mount secret {password!r} as a file in services.{name}.secrets"


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
        if tenant.match.groups:
            for gateway_name, gateway in catalog.gateways().items():
                if gateway.gateway.user_directory is None:
                    yield (
                        ("tenancy", "tenants", name, "match", "groups"),
                        f"matching groups needs services.{gateway_name}.gateway.user_directory: the signed "
                        "identity carries no groups, Open WebUI answers them",
                    )
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
    if isinstance(service, OpenWebUIService):
        settings = service.open_webui
        gateway = catalog.services.get(settings.gateway)
        if isinstance(gateway, GatewayService):
            if settings.gateway_client not in gateway.gateway.clients:
                yield (
                    (*base, "open_webui", "gateway_client"),
                    _missing("gateway client", settings.gateway_client, gateway.gateway.clients),
                )
            offerable = {*gateway.gateway.routes, *gateway.gateway.virtual_servers}
            for index, route in enumerate(settings.routes or []):
                if route not in offerable:
                    yield (*base, "open_webui", "routes", index), _missing("route or virtual server", route, offerable)
        yield from _check_open_webui_replicas(name, service)
    if not service.local_only:
        for needed in sorted(dependency_graph(catalog)[name]):
            if catalog.services[needed].local_only:
                yield base, f"depends on {needed!r}, which is local_only: only local_only services may use it"


def _check_open_webui_replicas(name: str, service: OpenWebUIService) -> Iterator[tuple[KeyPath, str]]:
    """Replicas of Open WebUI share nothing unless told: a database, a websocket manager, one signing key."""
    if service.replicas <= 1:
        return
    base: KeyPath = ("services", name)
    secret_env = {ref.env for ref in service.secrets if ref.env}
    if not service.open_webui.redis:
        yield (*base, "open_webui"), f"{service.replicas} replicas need open_webui.redis (shared websocket manager)"
    if "DATABASE_URL" not in secret_env:
        yield (*base, "secrets"), f"{service.replicas} replicas need DATABASE_URL (PostgreSQL) from a secret"
    if "WEBUI_SECRET_KEY" not in secret_env:
        yield (*base, "secrets"), f"{service.replicas} replicas need WEBUI_SECRET_KEY from a secret"


def _check_local_runtime(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    local = catalog.local
    for real, stand_in in local.substitutes.items():
        path: KeyPath = ("local", "substitutes", real)
        if real not in catalog.services or stand_in not in catalog.services:
            continue  # an unknown service: _check_service_references reports it
        if not catalog.services[stand_in].local_only:
            yield path, f"substitute {stand_in!r} must be marked local_only"
        elif catalog.services[stand_in].kind != catalog.services[real].kind:
            yield (
                path,
                (
                    f"substitute {stand_in!r} is a {catalog.services[stand_in].kind}, "
                    f"{real!r} a {catalog.services[real].kind}"
                ),
            )


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
            continue  # _check_service_references reports it
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


def _check_slos(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    """The SLO load must name a gateway client, its endpoint overrides gateway routes, and it must fit inside the
    gateway's rate limits as configured (docs/capacity.md): the capacity test measures the stack, not the limits."""
    slos = catalog.slos
    load = slos.load
    gateways = {n: g for n, g in catalog.gateways().items() if load.client in g.gateway.clients}
    if not gateways:
        clients = {c for g in catalog.gateways().values() for c in g.gateway.clients}
        yield ("slos", "load", "client"), _missing("gateway client", load.client, clients)
        return
    gateway = next(iter(gateways.values())).gateway
    for endpoint in slos.endpoints:
        route = endpoint.partition("/")[0]
        if endpoint != "health" and route not in gateway.routes:
            yield ("slos", "endpoints", endpoint), _missing("gateway route", route, gateway.routes)
    client = gateway.clients[load.client]
    limits = gateway.rate_limits
    think = load.think_time_seconds.min
    per_user = 60 / think if think > 0 else float("inf")  # most tool calls a user makes in a minute
    total = per_user * load.users
    shown = f"{load.users} users pausing at least {think:g} s between calls make up to {total:.0f} calls/min"
    if client.forwards_user_identity:
        if per_user > limits.per_client_per_minute:
            yield (
                ("slos", "load", "think_time_seconds", "min"),
                f"one user pausing {think:g} s makes up to {per_user:.0f} calls/min, over the gateway's "
                f"per-user limit of {limits.per_client_per_minute}/min",
            )
        share = limits.forwarding_client_share * limits.global_per_minute
        if total > share:
            yield (
                ("slos", "load", "users"),
                f"{shown}, over client {load.client!r}'s share of {share:.0f}/min (forwarding_client_share "
                f"{limits.forwarding_client_share:g} x global_per_minute {limits.global_per_minute}): all users of a "
                "key that forwards them share it",
            )
        try:
            load_test_forwards_users(catalog)
        except ValueError as exc:
            yield ("slos", "load", "client"), str(exc)
    elif total > limits.per_client_per_minute:
        yield (
            ("slos", "load", "client"),
            f"{shown}, over the per-client limit of {limits.per_client_per_minute}/min: client {load.client!r} "
            "forwards no user identity, so its users share one bucket (forwards_user_identity: true gives each "
            "its own)",
        )
    if total > limits.global_per_minute:
        yield ("slos", "load", "users"), f"{shown}, over the gateway's global limit of {limits.global_per_minute}/min"


def load_test_forwards_users(catalog: Catalog) -> bool:
    """Whether the capacity test's virtual users each send an id of their own (`X-OpenWebUI-User-Id`): when its
    client forwards user identity. Unsigned, such an id gets a user its own bucket inside the client's share and
    nothing else: the gateway puts every one of them in the client's own tenant (servers/gateway/tenancy.py)."""
    load = catalog.slos.load
    clients = (g.gateway.clients for g in catalog.gateways().values())
    client = next(c[load.client] for c in clients if load.client in c)
    if client.forwards_user_identity and not client.tenant:
        raise ValueError(f"client {load.client!r} forwards user identity but has no tenant for its virtual users")
    return client.forwards_user_identity


def _duplicates(path: KeyPath, values: list[object], what: str) -> Iterator[tuple[KeyPath, str]]:
    for value, count in Counter(values).items():
        if count > 1:
            index = max(i for i, v in enumerate(values) if v == value)
            yield (*path, index), f"duplicate {what} {value!r}"


def _missing(what: str, name: str, known: Collection[str]) -> str:
    options = ", ".join(sorted(known)) or "none"
    return f"unknown {what} {name!r} (known: {options})"
