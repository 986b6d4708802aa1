"""What each container of the local stack runs, derived from the catalog and nothing else.

Pure data: the Pulumi dev stack's parity test compares these specs with its Deployments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcpstack.catalog.checks import dependency_graph
from mcpstack.catalog.models import Catalog
from mcpstack.generate import derived_env


@dataclass(frozen=True)
class ContainerSpec:
    service: str
    image: str
    command: tuple[str, ...] | None
    env: dict[str, str]
    secret_env: dict[str, str]  # env variable -> catalog secret
    secret_files: dict[str, str]  # mount path -> catalog secret
    generated_files: dict[str, str]  # mount path -> generator
    ports: dict[str, int]  # port name -> container port
    published: dict[str, int | None]  # port name -> host port on 127.0.0.1 (None: any free port)
    volumes: dict[str, str]  # volume name -> mount path
    user: str
    read_only: bool
    tmpfs: tuple[str, ...]
    memory_limit: str | None
    cpu_limit: str | None
    health: tuple[str | None, str] | None  # (HTTP path or None for TCP, port name)
    ready: tuple[str | None, str] | None  # like health; `up` waits for it, else for health
    depends_on: frozenset[str] = field(default_factory=frozenset)
    aliases: tuple[str, ...] = ()
    sysctls: dict[str, str] = field(default_factory=dict)
    generated_env: dict[str, str] = field(default_factory=dict)  # env variable -> generator
    tmpfs_size: str = "64Mi"
    seccomp_profile: str | None = None  # repository path of a seccomp profile (JSON)
    apparmor_profile: str | None = None
    runtime: str | None = None  # OCI runtime, e.g. runsc
    pids_limit: int | None = None


def container_specs(catalog: Catalog, *, fixed_host_ports: bool = True) -> dict[str, ContainerSpec]:
    """Every service's container; all ports are published on 127.0.0.1, on the catalog's `publish`
    host ports when `fixed_host_ports`, on free ports otherwise (parallel stacks, e2e)."""
    graph = dependency_graph(catalog)
    specs = {}
    for name, service in catalog.services.items():
        published: dict[str, int | None] = {p.name: None for p in service.ports}
        if fixed_host_ports:
            for key, host_port in catalog.local.publish.items():
                service_name, _, port_name = key.partition(".")
                if service_name == name:
                    published[port_name or service.ports[0].name] = host_port
        specs[name] = ContainerSpec(
            service=name,
            image=service.image.ref,
            command=tuple(service.command) if service.command else None,
            env=dict(service.env) | derived_env(catalog, name),
            secret_env={s.env: s.secret for s in service.secrets if s.env},
            secret_files={s.file: s.secret for s in service.secrets if s.file},
            generated_files={f.path: f.generator for f in service.files},
            ports={p.name: p.port for p in service.ports},
            published=published,
            volumes={v.name: v.path for v in service.volumes},
            user=f"{service.security.user}:{service.security.group}",
            read_only=service.security.read_only_root_filesystem,
            tmpfs=tuple(service.security.tmpfs),
            memory_limit=service.resources.limits.memory,
            cpu_limit=service.resources.limits.cpu,
            health=(service.health.path, service.health.port) if service.health else None,
            ready=(service.ready.path, service.ready.port) if service.ready else None,
            depends_on=frozenset(graph[name]),
            aliases=tuple(service.aliases),
            sysctls=dict(service.security.sysctls),
            generated_env=dict(service.generated_env),
            tmpfs_size=service.security.tmpfs_size,
            seccomp_profile=service.security.seccomp_profile,
            apparmor_profile=service.security.apparmor_profile,
            runtime=service.security.runtime,
            pids_limit=service.security.pids_limit,
        )
    return specs


def start_order(specs: dict[str, ContainerSpec]) -> list[list[str]]:
    """Services grouped in levels: every service starts after the levels holding its dependencies."""
    remaining = dict(specs)
    levels: list[list[str]] = []
    placed: set[str] = set()
    while remaining:
        level = sorted(n for n, s in remaining.items() if s.depends_on <= placed)
        if not level:
            raise ValueError(f"dependency cycle among {', '.join(sorted(remaining))}")
        levels.append(level)
        placed |= set(level)
        for n in level:
            del remaining[n]
    return levels
