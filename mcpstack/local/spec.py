"""What each container of the local stack runs: a DeployedService (mcpstack.deployment) rendered for
Docker. Only the Docker-specific parts are decided here: host ports published on 127.0.0.1 and the
network aliases of the catalog's `local` settings; the rest is the deployed service's, field by field.

Pure data: the Pulumi dev stack's parity test holds these and the Kubernetes manifests against the one
DeployedService both come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcpstack.catalog.models import Catalog
from mcpstack.deployment import DeployedService, Probe, describe_services

DEFAULT_TMPFS_SIZE = "64Mi"


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
    ready: tuple[str | None, str] | None  # like health: the catalog's ready, else its health; `up` waits for it
    depends_on: frozenset[str] = field(default_factory=frozenset)
    aliases: tuple[str, ...] = ()
    sysctls: dict[str, str] = field(default_factory=dict)
    generated_env: dict[str, str] = field(default_factory=dict)  # env variable -> generator
    tmpfs_size: str = DEFAULT_TMPFS_SIZE
    seccomp_profile: str | None = None  # repository path of a seccomp profile (JSON)
    apparmor_profile: str | None = None
    runtime: str | None = None  # OCI runtime, e.g. runsc
    pids_limit: int | None = None
    cap_drop: tuple[str, ...] = ("ALL",)
    no_new_privileges: bool = True
    labels: dict[str, str] = field(default_factory=dict)  # mcpstack.deployment.labels (plus the stack's)


def container_specs(catalog: Catalog, *, fixed_host_ports: bool = True) -> dict[str, ContainerSpec]:
    """Every service's container; all ports are published on 127.0.0.1, on the catalog's `publish`
    host ports when `fixed_host_ports`, on free ports otherwise (parallel stacks, e2e)."""
    return {
        name: container_spec(
            deployed,
            published=published_ports(catalog, deployed) if fixed_host_ports else {},
            aliases=tuple(catalog.services[name].aliases),
        )
        for name, deployed in describe_services(catalog).items()
    }


def published_ports(catalog: Catalog, deployed: DeployedService) -> dict[str, int]:
    """Port name -> the host port the catalog's `local.publish` fixes for it."""
    fixed: dict[str, int] = {}
    for key, host_port in catalog.local.publish.items():
        service_name, _, port_name = key.partition(".")
        if service_name == deployed.name:
            fixed[port_name or deployed.ports[0].name] = host_port
    return fixed


def container_spec(
    deployed: DeployedService, *, published: dict[str, int] | None = None, aliases: tuple[str, ...] = ()
) -> ContainerSpec:
    """The service as one Docker container: every port published (on `published` host ports, else free ones)."""
    scratch = [v for v in deployed.volumes if not v.persistent]
    security, resources = deployed.security, deployed.resources
    return ContainerSpec(
        service=deployed.name,
        image=deployed.image,
        command=deployed.command,
        env=dict(deployed.env),
        secret_env={s.env: s.secret for s in deployed.secrets if s.env},
        secret_files={s.file: s.secret for s in deployed.secrets if s.file},
        generated_files={path: g.generator for path, g in deployed.files.items()},
        ports={p.name: p.port for p in deployed.ports},
        published={p.name: (published or {}).get(p.name) for p in deployed.ports},
        volumes={v.name: v.path for v in deployed.volumes if v.persistent},
        user=f"{security.user}:{security.group}",
        read_only=security.read_only_root,
        tmpfs=tuple(v.path for v in scratch),
        memory_limit=resources.memory_limit,
        cpu_limit=resources.cpu_limit,
        health=_check(deployed.health.live),
        ready=_check(deployed.health.ready),
        depends_on=deployed.depends_on,
        aliases=aliases,
        sysctls=dict(security.sysctls),
        generated_env={var: g.generator for var, g in deployed.generated_env.items()},
        tmpfs_size=scratch[0].size if scratch else DEFAULT_TMPFS_SIZE,
        seccomp_profile=security.seccomp_profile,
        apparmor_profile=security.apparmor_profile,
        runtime=security.runtime,
        pids_limit=resources.pids_limit,
        cap_drop=security.drop_capabilities,
        no_new_privileges=security.no_new_privileges,
        labels=dict(deployed.labels),
    )


def _check(probe: Probe | None) -> tuple[str | None, str] | None:
    return (probe.path, probe.port) if probe else None


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
