"""One deployed service, typed: what runs, with which settings, whatever runs it.

The local Docker runtime (mcpstack.local.spec) and the Kubernetes manifests (infra.manifests) are both
renderings of a DeployedService; each adds only what is particular to its platform (host ports and
container names; Deployments, Secrets, ConfigMaps and claims). Secret values never appear here:
secrets are referenced by catalog name, and generated content shows them as `<secret:NAME>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Port:
    name: str
    port: int  # the port the process listens on inside its container


@dataclass(frozen=True)
class SecretMount:
    """A catalog secret the service reads, by name: as a read-only file or as an environment variable."""

    secret: str
    file: str | None = None
    env: str | None = None

    @property
    def target(self) -> str:
        return self.file or self.env or ""


@dataclass(frozen=True)
class Generated:
    """Content mcpstack.generate writes for the service (a mounted file or an environment value)."""

    generator: str
    secret: bool  # may carry credentials: a Kubernetes Secret (not a ConfigMap), a private file locally
    secrets: tuple[str, ...]  # catalog secrets the content embeds
    redacted: str  # the content, each embedded secret shown as <secret:NAME>


@dataclass(frozen=True)
class Volume:
    """A writable mount: persistent data (a named volume, a claim) or scratch space in memory (tmpfs)."""

    name: str
    path: str
    size: str  # a claim's size; a scratch mount's cap
    persistent: bool


@dataclass(frozen=True)
class Probe:
    port: str  # port name
    path: str | None = None  # HTTP GET path; None: a TCP connect


@dataclass(frozen=True)
class Timing:
    period_seconds: int
    failure_threshold: int
    timeout_seconds: int | None = None


@dataclass(frozen=True)
class Health:
    """When the service is alive and when it takes requests, and how patiently a platform asks."""

    live: Probe | None  # the process answers (the catalog's health)
    ready: Probe | None  # it takes requests (the catalog's ready, else its health)
    # a generous start-up budget (Open WebUI ~20 s, Grafana migrations), then strict liveness
    startup: Timing = Timing(period_seconds=2, failure_threshold=90)
    liveness: Timing = Timing(period_seconds=10, failure_threshold=3, timeout_seconds=3)
    readiness: Timing = Timing(period_seconds=5, failure_threshold=3, timeout_seconds=3)


@dataclass(frozen=True)
class Resources:
    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None
    pids_limit: int | None = None


@dataclass(frozen=True)
class Security:
    user: int
    group: int
    read_only_root: bool
    drop_capabilities: tuple[str, ...] = ("ALL",)
    no_new_privileges: bool = True
    seccomp_profile: str | None = None  # repository path of a JSON profile; None: the runtime's default
    apparmor_profile: str | None = None
    runtime: str | None = None  # OCI runtime (Kubernetes: RuntimeClass), e.g. runsc
    sysctls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployedService:
    name: str
    kind: str
    image: str  # repository:tag as the catalog names it
    built_here: bool  # built from this repository (a cluster pulls it from the stack's registry)
    command: tuple[str, ...] | None  # None: the image's entrypoint
    env: dict[str, str]  # plain values, the catalog's and those derived from other services
    secrets: tuple[SecretMount, ...]
    files: dict[str, Generated]  # mount path -> generated content
    generated_env: dict[str, Generated]  # environment variable -> generated content
    volumes: tuple[Volume, ...]  # persistent ones first, then scratch
    ports: tuple[Port, ...]
    health: Health
    resources: Resources
    security: Security
    depends_on: frozenset[str]  # services it needs running first
    replicas: int
    labels: dict[str, str]  # mcpstack.deployment.labels

    @property
    def generated(self) -> dict[str, Generated]:
        """Generator name -> its content, over files and environment."""
        return {g.generator: g for g in [*self.files.values(), *self.generated_env.values()]}
