"""Typed model of the catalog: services, images, ports, env, secret references, resources,
probes and MCP transports. The reference for users is docs/catalog.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from mcpstack.catalog.references import ServiceReference

DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
Name = Annotated[str, StringConstraints(pattern=DNS_LABEL)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
AbsolutePath = Annotated[str, StringConstraints(pattern=r"^/[^\s]*$")]
CpuQuantity = Annotated[str, StringConstraints(pattern=r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")]
MemoryQuantity = Annotated[str, StringConstraints(pattern=r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$")]
Duration = Annotated[str, StringConstraints(pattern=r"^[0-9]+(ms|s|m|h|d)$")]
# The name of another catalog service (any kind). Typing a field so is what makes it a reference: validated,
# followed by the dependency graph and renamed for local stand-ins (catalog/references.py).
ServiceName = Annotated[Name, ServiceReference()]


def _inside_repository(path: str) -> str:
    if ".." in path.split("/"):
        raise ValueError("'..' is not allowed: give a path inside the repository")
    return path


# a .json file in the repository, relative to its root
RepoJsonPath = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*\.json$"), AfterValidator(_inside_repository)
]
McpTransport = Literal["streamable-http", "sse", "stdio"]
HttpTransport = Literal["streamable-http", "sse"]


def _env_value(value: Any) -> Any:
    # YAML reads `true` and `3` as bool and int; the process environment only has strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _pinned_tag(tag: str) -> str:
    if tag == "latest":
        raise ValueError("tag 'latest' is not pinned; use an exact version such as '1.2.3'")
    return tag


EnvValue = Annotated[str, BeforeValidator(_env_value)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Build(Model):
    """How to build an image locally."""

    dockerfile: str = Field(description="Dockerfile path, relative to the repository root")
    include: list[str] = Field(
        min_length=1,
        description="repository paths copied into the build context (the context holds nothing else)",
    )
    args: dict[EnvName, EnvValue] = Field(default_factory=dict, description="extra build arguments")
    host_wheels: list[str] = Field(
        default_factory=list,
        description="wheel file patterns taken from this machine's pip find-links into .mcpstack-build/wheels "
        "(e.g. a CPU torch build); absent ones are left to the image's package index",
    )


class Image(Model):
    repository: str = Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")
    tag: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"), AfterValidator(_pinned_tag)]
    build: Build | None = Field(default=None, description="absent: the image comes from a registry")

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


class Port(Model):
    name: Name
    port: int = Field(ge=1, le=65535, description="port the process listens on inside the container")


class HttpEndpoint(Model):
    path: AbsolutePath
    port: Name = Field(description="name of one of the service's ports")


class Probe(Model):
    port: Name = Field(description="name of one of the service's ports")
    path: AbsolutePath | None = Field(default=None, description="HTTP GET path; none: a TCP connect probe")


class ResourceList(Model):
    cpu: CpuQuantity | None = None
    memory: MemoryQuantity | None = None


class Resources(Model):
    requests: ResourceList = ResourceList()
    limits: ResourceList = ResourceList()


class SecretRef(Model):
    """Makes a catalog secret available to a service, as a file (preferred) or an env variable."""

    secret: Name
    file: AbsolutePath | None = None
    env: EnvName | None = None

    @model_validator(mode="after")
    def _exactly_one_target(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of 'file' or 'env'")
        return self


# The config generators a catalog may name (files[].generator, generated_env); mcpstack.generate implements each.
GENERATOR_NAMES = (
    "gateway-config",
    "prometheus-config",
    "prometheus-rules",
    "tool-server-connections",
    "grafana-datasources",
)


class GeneratedFile(Model):
    """A file the catalog generates (e.g. mcpo's config) mounted into the container."""

    path: AbsolutePath
    generator: str = Field(description="name of a config generator, e.g. 'gateway-config'")


class Volume(Model):
    name: Name
    path: AbsolutePath
    size: MemoryQuantity = "1Gi"


class Security(Model):
    user: int = Field(default=10001, ge=1, description="non-root uid the process runs as")
    group: int = Field(default=10001, ge=1)
    read_only_root_filesystem: bool = True
    tmpfs: list[AbsolutePath] = Field(default_factory=lambda: ["/tmp"])  # noqa: S108 - a private tmpfs
    tmpfs_size: MemoryQuantity = Field(default="64Mi", description="size cap of each tmpfs mount")
    sysctls: dict[str, str] = Field(
        default_factory=dict, description="namespaced sysctls, e.g. to let a non-root process bind port 443"
    )
    seccomp_profile: RepoJsonPath | None = Field(
        default=None,
        description="seccomp profile (OCI JSON, repository path) in place of the runtime's default; "
        "Kubernetes: a Localhost profile of the same content on the nodes",
    )
    apparmor_profile: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = Field(
        default=None, description="AppArmor profile (loaded on the host) in place of the runtime's default"
    )
    runtime: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")] | None = Field(
        default=None, description="OCI runtime, e.g. runsc for gVisor (Docker --runtime; Kubernetes runtimeClassName)"
    )
    pids_limit: int | None = Field(
        default=None, ge=1, description="most processes and threads the container may have (Docker --pids-limit)"
    )


class McpEndpoint(Model):
    transports: dict[HttpTransport, AbsolutePath] = Field(
        min_length=1, description="MCP transports the server offers and the path of each; the first is the default"
    )
    port: Name | None = Field(default=None, description="port name serving MCP; default: the first port")


class StdioServer(Model):
    """An MCP server the gateway spawns as a child process speaking MCP over stdio."""

    package: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$",
        description="pinned pip requirement installed into its own venv in the gateway image",
    )
    command: list[str] = Field(min_length=1, description="executable (from the package's venv) and arguments")


def _secret_header(value: Any) -> Any:
    return {"secret": value} if isinstance(value, str) else value


class SecretHeader(Model):
    """An HTTP header value taken from a secret, e.g. {secret: github-token, prefix: "Bearer "}."""

    secret: Name
    prefix: str = ""


HeaderValue = Annotated[SecretHeader, BeforeValidator(_secret_header)]


class GatewayRoute(Model):
    """One mcpo route (/NAME): a catalog MCP server reached over HTTP, or a stdio child process."""

    service: Annotated[Name, ServiceReference("mcp-server")] | None = None
    transport: HttpTransport | None = Field(
        default=None, description="transport to the service; default: its first listed transport"
    )
    stdio: StdioServer | None = None
    required: bool = Field(default=True, description="the gateway is ready only while this upstream is connected")
    offer_to_users: bool = Field(
        default=True, description="Open WebUI offers its tools to people; false for a route only tests call"
    )
    open_webui_connection: Literal["openapi", "mcp"] = Field(
        default="openapi",
        description="how Open WebUI connects to this route: an OpenAPI tool server (/ROUTE, via mcpo) or natively "
        "over MCP (/mcp/ROUTE, the gateway's MCP front)",
    )
    headers: dict[str, HeaderValue] = Field(
        default_factory=dict,
        description="upstream request headers from secrets: header -> secret (or {secret, prefix})",
    )

    @model_validator(mode="after")
    def _exactly_one_upstream(self) -> GatewayRoute:
        if (self.service is None) == (self.stdio is None):
            raise ValueError("give exactly one of 'service' or 'stdio'")
        if self.stdio is not None and (self.transport is not None or self.headers):
            raise ValueError("'transport' and 'headers' apply to 'service' routes only")
        return self


class GatewayClient(Model):
    """A client of the gateway, authenticated by its own bearer key (a secret)."""

    secret: Name
    tenant: Name | None = Field(
        default=None, description="tenant of this client's requests that carry no forwarded user identity"
    )
    forwards_user_identity: bool = Field(
        default=False,
        description="its requests carry end users: the user Open WebUI signed (X-OpenWebUI-User-Jwt) chooses the "
        "tenant; a plain X-OpenWebUI-User-Id only gets a rate-limit bucket inside this client's share",
    )
    environments: list[Name] | None = Field(
        default=None,
        description="environments whose gateway accepts this key; none: every one (test keys: only where asked)",
    )

    def accepted_in(self, environment: str) -> bool:
        """The gateway of `environment` accepts this key (else its config, Secret and mount leave it out)."""
        return self.environments is None or environment in self.environments


class RateLimits(Model):
    per_client_per_minute: int = Field(default=100, ge=1, description="a client's bucket; each end user's bucket")
    global_per_minute: int = Field(default=1000, ge=1)
    forwarding_client_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="share of global_per_minute for a client that forwards users (all its users' buckets inside)",
    )
    redis: ServiceName | None = Field(
        default=None, description="a catalog service running Redis, shared by all gateway replicas"
    )


class GatewayLimits(Model):
    """Edge limits: what a request may take of the gateway before it reaches mcpo (docs/gateway.md)."""

    max_body_bytes: int = Field(default=262_144, ge=1024, description="larger request bodies: 413")
    max_json_depth: int = Field(default=32, ge=2, le=500, description="deeper nested JSON bodies: 400")
    header_timeout_seconds: float = Field(default=10.0, gt=0, description="request headers not complete: 408, closed")
    body_timeout_seconds: float = Field(default=10.0, gt=0, description="request body not complete: 408")
    max_concurrent_requests_per_client: int = Field(default=32, ge=1, description="requests of one key at once")
    concurrency_wait_seconds: float = Field(
        default=2.0, ge=0, description="how long a request beyond that waits for a slot before 429"
    )
    max_event_streams_per_caller: int = Field(
        default=8, ge=1, description="MCP front GET streams of one verified user (else one key) at once; more: 429"
    )
    max_event_streams: int = Field(default=1024, ge=1, description="MCP front GET streams of a gateway process at once")


class PublicDetails(Model):
    """Details the gateway's status endpoints give a caller without a key (status codes are always public)."""

    ready: bool = Field(default=False, description="/ready lists each upstream's state and last error")
    metrics: bool = Field(
        default=True, description="/metrics (client and tenant names); Prometheus scrapes it without a key"
    )


class IdentityHeaders(Model):
    """Request headers carrying the end user's identity (Open WebUI's ENABLE_FORWARD_USER_INFO_HEADERS)."""

    user_id: str = "X-OpenWebUI-User-Id"
    email: str = "X-OpenWebUI-User-Email"
    role: str = "X-OpenWebUI-User-Role"
    name: str = "X-OpenWebUI-User-Name"
    jwt: str = Field(default="X-OpenWebUI-User-Jwt", description="the user, signed (FORWARD_USER_INFO_HEADER_JWT)")


class UserDirectory(Model):
    """Where the gateway looks up a signed user's Open WebUI groups, for tenant rules that match `groups`."""

    service: Annotated[Name, ServiceReference("open-webui", starts_first=False)] = Field(
        description="the `open-webui` service that answers a user's groups (`GET /api/v1/users/ID/groups`)"
    )
    secret: Name = Field(
        description="API key (`sk-...`) of a dedicated Open WebUI admin account, mounted as a file: Open WebUI "
        "answers another user's groups to admins only, so this key holds Open WebUI admin rights"
    )
    cache_seconds: float = Field(default=60, ge=0, le=3600, description="how long a user's groups are reused")
    timeout_seconds: float = Field(default=2.0, gt=0, le=30, description="longer: the call fails closed (503)")
    max_cached_users: int = Field(default=10_000, ge=1, description="users whose groups are kept at once")


class VirtualServer(Model):
    """An MCP server the gateway serves at /mcp/NAME that gathers several routes' tools, each named ROUTE_TOOL;
    each route keeps its own tenancy, limits and upstream (docs/gateway.md, *Virtual servers*)."""

    description: str = Field(default="", description="what it offers, shown to Open WebUI's users")
    routes: list[Name] = Field(min_length=1, description="the gateway routes whose tools it serves")
    offer_to_users: bool = Field(
        default=False,
        description="Open WebUI offers it as one MCP tool server (beside the routes it offers); default: not offered",
    )


class Gateway(Model):
    routes: dict[Name, GatewayRoute] = Field(min_length=1)
    clients: dict[Name, GatewayClient] = Field(min_length=1)
    virtual_servers: dict[Name, VirtualServer] = Field(
        default_factory=dict, description="MCP-only servers at /mcp/NAME that gather several routes' tools"
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="upstream tool call time limit")
    tool_list_refresh_seconds: float = Field(
        default=30.0,
        ge=0.5,
        description="how often each upstream's tools are listed again to notice changes (at once when it says so)",
    )
    rate_limits: RateLimits = RateLimits()
    limits: GatewayLimits = GatewayLimits()
    cors_origins: list[str] = Field(default_factory=list)
    public_docs: bool = Field(default=False, description="serve /docs and OpenAPI specs without a key")
    public_details: PublicDetails = PublicDetails()
    identity_headers: IdentityHeaders = IdentityHeaders()
    user_identity_secret: Name | None = Field(
        default=None,
        description="secret (mounted as a file) that signs end users: Open WebUI's FORWARD_USER_INFO_HEADER_JWT_SECRET",
    )
    user_directory: UserDirectory | None = Field(
        default=None, description="where signed users' groups are looked up; needed by tenant rules on `groups`"
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        description="gateway processes per replica, each with its own upstream sessions; none: the CPUs it may use",
    )

    def refused_keys(self, environment: str) -> set[str]:
        """Secrets that are only keys of clients `environment` refuses (test keys outside their environments)."""
        accepted = {c.secret for c in self.clients.values() if c.accepted_in(environment)}
        refused = {c.secret for c in self.clients.values() if not c.accepted_in(environment)}
        return refused - accepted - {self.user_identity_secret}


def _config_file(path: str) -> str:
    if path.startswith("/") or ".." in path.split("/"):
        raise ValueError("give a path relative to config/, without '..'")
    return path


RuleFile = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_./-]+\.ya?ml$"), AfterValidator(_config_file)]


class PrometheusSettings(Model):
    scrape_interval: Duration = "15s"
    evaluation_interval: Duration = "15s"
    rule_files: list[RuleFile] = Field(
        default_factory=list,
        description="Prometheus rule files (`groups:`) under config/; the prod stack makes one PrometheusRule of each",
    )


class ServiceBase(Model):
    description: str = ""
    image: Image
    command: list[str] | None = Field(
        default=None, min_length=1, description="replaces the image's entrypoint and command"
    )
    ports: list[Port] = Field(default_factory=list)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    secrets: list[SecretRef] = Field(default_factory=list)
    files: list[GeneratedFile] = Field(default_factory=list)
    generated_env: dict[EnvName, str] = Field(
        default_factory=dict,
        description="env variable -> generator whose output is its value (secret if the generator is)",
    )
    volumes: list[Volume] = Field(default_factory=list)
    resources: Resources = Resources()
    health: Probe | None = Field(default=None, description="liveness: the process answers")
    ready: Probe | None = Field(default=None, description="readiness, when it differs from health")
    metrics: HttpEndpoint | None = None
    metrics_unavailable: str | None = Field(
        default=None,
        min_length=1,
        description="why Prometheus does not scrape this service (no `metrics`); the generated Prometheus config "
        "lists these reasons",
    )
    depends_on: list[ServiceName] = Field(default_factory=list)
    replicas: int = Field(default=1, ge=0)
    security: Security = Security()
    local_only: bool = Field(
        default=False,
        description="a stand-in for the local runtime (e.g. a test double): never deployed by the stacks",
    )
    aliases: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]] = Field(
        default_factory=list, description="local runtime: extra host names on the stack's network"
    )

    def port(self, name: str) -> Port | None:
        return next((p for p in self.ports if p.name == name), None)


class McpServerService(ServiceBase):
    kind: Literal["mcp-server"]
    mcp: McpEndpoint


class GatewayService(ServiceBase):
    kind: Literal["gateway"]
    gateway: Gateway


class PrometheusService(ServiceBase):
    kind: Literal["prometheus"]
    prometheus: PrometheusSettings = PrometheusSettings()


class RedisSettings(Model):
    password: Name = Field(
        description="the catalog secret Redis requires (requirepass); every client authenticates with it"
    )


class RedisService(ServiceBase):
    kind: Literal["redis"]
    redis: RedisSettings


class GenericService(ServiceBase):
    """A plain container with no kind-specific settings."""

    kind: Literal["service"]


class OpenWebUISettings(Model):
    llm: Annotated[Name, ServiceReference("llm")] = Field(description="the `llm` service Open WebUI chats with")
    gateway: Annotated[Name, ServiceReference("gateway")] = Field(
        description="the gateway whose routes become Open WebUI's tool servers"
    )
    gateway_client: Name = Field(description="the gateway client (API key) Open WebUI presents")
    routes: list[Name] | None = Field(
        default=None,
        description="gateway routes (or virtual servers) offered as tool servers; default: those offered to users",
    )
    redis: Annotated[Name, ServiceReference("redis")] | None = Field(
        default=None,
        description="the `redis` service the replicas share (websocket manager, app state); needed when replicas > 1",
    )


class OpenWebUIService(ServiceBase):
    kind: Literal["open-webui"]
    open_webui: OpenWebUISettings


class LlmSettings(Model):
    api: Literal["ollama", "openai"] = Field(description="the API Open WebUI speaks to it")
    models: list[str] = Field(min_length=1, description="models it serves (Ollama pulls them at start-up)")


class LlmService(ServiceBase):
    kind: Literal["llm"]
    llm: LlmSettings


class GrafanaSettings(Model):
    datasource: Annotated[Name, ServiceReference("prometheus")] = Field(
        description="the Prometheus service Grafana reads"
    )
    dashboards: list[str] = Field(default_factory=list, description="dashboard JSON files under config/")


class GrafanaService(ServiceBase):
    kind: Literal["grafana"]
    grafana: GrafanaSettings


Service = Annotated[
    McpServerService
    | GatewayService
    | PrometheusService
    | RedisService
    | OpenWebUIService
    | LlmService
    | GrafanaService
    | GenericService,
    Field(discriminator="kind"),
]
SERVICE_KINDS: dict[str, type[ServiceBase]] = {
    "mcp-server": McpServerService,
    "gateway": GatewayService,
    "prometheus": PrometheusService,
    "redis": RedisService,
    "open-webui": OpenWebUIService,
    "llm": LlmService,
    "grafana": GrafanaService,
    "service": GenericService,
}


ToolList = Literal["*"] | list[str]


class TenantMatch(Model):
    """Which signed end users belong to a tenant: any one rule that fits admits them."""

    emails: list[str] = Field(default_factory=list)
    email_domains: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(
        default_factory=list,
        description="exact Open WebUI group names (a subgroup's members count); the gateway looks them up in "
        "Open WebUI (`gateway.user_directory`), since the signed identity carries none",
    )


class Tenant(Model):
    description: str = ""
    match: TenantMatch = TenantMatch()
    tools: dict[Name, ToolList] = Field(
        default_factory=dict, description="gateway route -> allowed tools ('*' for all)"
    )
    credentials: dict[Name, dict[str, HeaderValue]] = Field(
        default_factory=dict, description="gateway route -> upstream header -> secret, for this tenant only"
    )
    calls: bool = Field(
        default=True, description="may call its tools; false: may only discover them (read OpenAPI specs)"
    )


class Tenancy(Model):
    default_tenant: Name | None = Field(
        default=None, description="tenant of users no tenant matches; none: they are denied"
    )
    tenants: dict[Name, Tenant] = Field(default_factory=dict)


class KubernetesSettings(Model):
    """How the Pulumi stacks let services talk (NetworkPolicies); cluster specifics live in the stack config."""

    internet_egress: list[ServiceName] = Field(
        default_factory=list,
        description="services that may open HTTPS (443) connections outside the cluster, e.g. to pull models",
    )
    exposed: list[ServiceName] = Field(
        default_factory=list,
        description="services reachable from outside the namespace (ingress controller, users); every other "
        "service admits only the services that depend on it and Prometheus",
    )


class SecretSpec(Model):
    description: str
    generate: bool = Field(
        default=False, description="the local runtime may generate a random value when none is given"
    )


class BuildSettings(Model):
    base_image: str = Field(
        default="python:3.11-slim-bookworm", description="default base for every Dockerfile (build argument BASE_IMAGE)"
    )


PUBLISH_KEY = re.compile(r"^[a-z][-a-z0-9]*(\.[a-z][-a-z0-9]*)?$")
PublishKey = Annotated[str, StringConstraints(pattern=PUBLISH_KEY.pattern), ServiceReference(qualified=True)]


class LocalRuntime(Model):
    """How the local Docker runtime differs from the stacks (environment overlays only)."""

    publish: dict[PublishKey, int] = Field(
        default_factory=dict, description="'service' or 'service.port' -> host port on 127.0.0.1"
    )
    substitutes: dict[ServiceName, ServiceName] = Field(
        default_factory=dict,
        description="service -> local_only service run in its place (no image or no internet here); "
        "`mcpstack up --real NAME` runs the real one",
    )
    skip: list[ServiceName] = Field(default_factory=list, description="services the local runtime does not run")


RequestKind = Literal["tool-call", "discovery", "health"]
# an endpoint of the gateway as the capacity test names it: `health`, `ROUTE/openapi.json` or `ROUTE/TOOL`
EndpointName = Annotated[str, StringConstraints(pattern=r"^(health|[a-z][-a-z0-9]*/[A-Za-z0-9_.-]+)$")]


class Objective(Model):
    """What one kind of request (or one endpoint) must achieve under the SLO load."""

    p95_ms: float | None = Field(default=None, gt=0, description="95th percentile latency, milliseconds")
    p99_ms: float | None = Field(default=None, gt=0, description="99th percentile latency, milliseconds")
    success_rate: float | None = Field(
        default=None, gt=0, le=1, description="fraction of 2xx answers; default: slos.success_rate"
    )


class ThinkTime(Model):
    """Pause of one virtual user between two tool calls, drawn uniformly from [min, max]."""

    min: float = Field(default=8.0, ge=0)
    max: float = Field(default=16.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ThinkTime:
        if self.max < self.min:
            raise ValueError(f"max ({self.max:g}) is below min ({self.min:g})")
        return self

    @property
    def mean(self) -> float:
        return (self.min + self.max) / 2


class SloLoad(Model):
    """The load the objectives hold at (`mcpstack loadtest`, docs/capacity.md)."""

    users: int = Field(default=100, ge=1, description="concurrent virtual users, each holding its own connection")
    client: Name = Field(default="loadtest", description="the gateway client (API key) the virtual users call as")
    think_time_seconds: ThinkTime = ThinkTime()
    spawn_rate: float = Field(default=20.0, gt=0, description="users started per second (ramp-up, not measured)")
    duration: Duration = Field(default="60s", description="measured time, after the ramp-up")


class Slos(Model):
    """Service-level objectives the capacity test gates on."""

    load: SloLoad = SloLoad()
    success_rate: float = Field(default=0.995, gt=0, le=1, description="fraction of 2xx answers, every endpoint")
    objectives: dict[RequestKind, Objective] = Field(
        default_factory=dict, description="per kind of request: tool-call, discovery, health"
    )
    endpoints: dict[EndpointName, Objective] = Field(
        default_factory=dict, description="per endpoint (`ROUTE/TOOL`, `ROUTE/openapi.json`, `health`): overrides"
    )

    def objective(self, endpoint: str) -> Objective:
        """The endpoint's objective: its kind's, with the endpoint's own override on top."""
        merged = self.objectives.get(endpoint_kind(endpoint), Objective()).model_dump()
        override = self.endpoints.get(endpoint)
        if override is not None:
            merged |= override.model_dump(exclude_none=True)
        merged["success_rate"] = merged["success_rate"] or self.success_rate
        return Objective(**merged)


def endpoint_kind(endpoint: str) -> RequestKind:
    if endpoint == "health":
        return "health"
    return "discovery" if endpoint.endswith("/openapi.json") else "tool-call"


class Catalog(Model):
    version: Literal[1]
    environment: str = Field(description="set by the loader from the overlay's file name")
    config_dir: str = Field(default="", description="set by the loader: the directory the catalog was read from")
    build: BuildSettings = BuildSettings()
    secrets: dict[Name, SecretSpec] = Field(default_factory=dict)
    services: dict[Name, Service]
    tenancy: Tenancy = Tenancy()
    local: LocalRuntime = LocalRuntime()
    kubernetes: KubernetesSettings = KubernetesSettings()
    slos: Slos = Slos()

    def mcp_servers(self) -> dict[str, McpServerService]:
        return {n: s for n, s in self.services.items() if isinstance(s, McpServerService)}

    def gateways(self) -> dict[str, GatewayService]:
        return {n: s for n, s in self.services.items() if isinstance(s, GatewayService)}

    def mounted_secrets(self, service: str) -> list[SecretRef]:
        """The secrets `service` gets in this environment: its `secrets`, less a gateway's keys of the clients
        this environment refuses (`clients.*.environments`), so no Secret or mount holds a key nobody accepts."""
        found = self.services[service]
        if not isinstance(found, GatewayService):
            return list(found.secrets)
        refused = found.gateway.refused_keys(self.environment)
        return [ref for ref in found.secrets if ref.secret not in refused]
