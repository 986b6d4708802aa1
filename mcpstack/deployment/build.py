"""The catalog's services as DeployedService: the one place a service's runtime settings are derived."""

from __future__ import annotations

from mcpstack.catalog.graph import dependency_graph
from mcpstack.catalog.models import Catalog, ServiceBase
from mcpstack.catalog.models import Probe as CatalogProbe
from mcpstack.deployment.labels import service_labels
from mcpstack.deployment.model import (
    DeployedService,
    Generated,
    Health,
    Port,
    Probe,
    Resources,
    SecretMount,
    Security,
    Volume,
)
from mcpstack.generate import GENERATORS, derived_env, redacted


def describe_services(catalog: Catalog) -> dict[str, DeployedService]:
    """Every service of the catalog (as given: the caller chooses the local view or the deployed one)."""
    graph = dependency_graph(catalog)
    return {name: _describe(catalog, name, frozenset(graph[name])) for name in catalog.services}


def describe_service(catalog: Catalog, name: str) -> DeployedService:
    return _describe(catalog, name, frozenset(dependency_graph(catalog)[name]))


def generated_content(catalog: Catalog, service: str, generator: str) -> Generated:
    """A generator's output for a service, secrets redacted, with the secrets it asked for."""
    asked: list[str] = []

    def placeholder(secret: str) -> str:
        asked.append(secret)
        return redacted(secret)

    found = GENERATORS[generator]
    content = found.render(catalog, service, placeholder)
    return Generated(generator=generator, secret=found.secret, secrets=tuple(sorted(set(asked))), redacted=content)


def _describe(catalog: Catalog, name: str, depends_on: frozenset[str]) -> DeployedService:
    service = catalog.services[name]
    return DeployedService(
        name=name,
        kind=service.kind,
        image=service.image.ref,
        built_here=service.image.build is not None,
        command=tuple(service.command) if service.command else None,
        env=dict(service.env) | derived_env(catalog, name),
        secrets=tuple(SecretMount(secret=s.secret, file=s.file, env=s.env) for s in catalog.mounted_secrets(name)),
        files={f.path: generated_content(catalog, name, f.generator) for f in service.files},
        generated_env={var: generated_content(catalog, name, g) for var, g in service.generated_env.items()},
        volumes=_volumes(service),
        ports=tuple(Port(name=p.name, port=p.port) for p in service.ports),
        health=Health(live=_probe(service.health), ready=_probe(service.ready or service.health)),
        resources=Resources(
            cpu_request=service.resources.requests.cpu,
            memory_request=service.resources.requests.memory,
            cpu_limit=service.resources.limits.cpu,
            memory_limit=service.resources.limits.memory,
            pids_limit=service.security.pids_limit,
        ),
        security=Security(
            user=service.security.user,
            group=service.security.group,
            read_only_root=service.security.read_only_root_filesystem,
            seccomp_profile=service.security.seccomp_profile,
            apparmor_profile=service.security.apparmor_profile,
            runtime=service.security.runtime,
            sysctls=dict(service.security.sysctls),
        ),
        depends_on=depends_on,
        replicas=service.replicas,
        labels=service_labels(name, catalog.environment),
    )


def _volumes(service: ServiceBase) -> tuple[Volume, ...]:
    persistent = [Volume(name=v.name, path=v.path, size=v.size, persistent=True) for v in service.volumes]
    scratch = [
        Volume(name=f"tmpfs-{index}", path=path, size=service.security.tmpfs_size, persistent=False)
        for index, path in enumerate(service.security.tmpfs)
    ]
    return (*persistent, *scratch)


def _probe(probe: CatalogProbe | None) -> Probe | None:
    return Probe(port=probe.port, path=probe.path) if probe else None
