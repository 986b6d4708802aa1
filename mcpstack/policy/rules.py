"""The policy rules: small functions over the rendered stack, each with a stable id.

A rule yields Violations naming the object, the field and what is wrong. Rules read the rendered
objects and Helm values (what would be deployed) and the catalog (what was meant); they never ask
the code that built the objects, so a mistake there shows up here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from infra.render import Registered, Rendered
from mcpstack.catalog.checks import dependency_graph
from mcpstack.catalog.models import Catalog, GrafanaService, LlmService, PrometheusService, ServiceBase
from mcpstack.generate import GENERATORS
from mcpstack.policy.schema import KUBERNETES_VERSION, NoSchema, schema_errors
from mcpstack.policy.views import PodView, pods, ref_of, release_ref, selector_matches, values_of
from mcpstack.quantities import memory_bytes

Obj = dict[str, Any]
SECRET_PLACEHOLDER = "<secret:"  # noqa: S105 - mcpstack.generate.redacted's marker, not a credential
OUR_KINDS = ("mcp-server", "gateway")
MEMORY_CEILING = "512Mi"
PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
MULTI_REPLICA_VECTOR_DBS = ("pgvector", "qdrant", "milvus", "opensearch", "elasticsearch")
OBJECT_STORAGE = ("s3", "gcs", "azure")
PINNED_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Violation:
    rule: str
    object: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.object}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Peer:
    kind: str  # service, helper, prometheus, dns, ingress, internet, cidr, anywhere, other
    value: str = ""


class Context:
    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered
        self.catalog: Catalog = rendered.catalog
        self.settings = rendered.settings
        self.objects = rendered.objects()
        self.releases = rendered.releases()
        self.pods = pods(rendered)

    @property
    def helm(self) -> bool:
        return self.settings.deployment == "helm"

    @cached_property
    def graph(self) -> dict[str, set[str]]:
        return dependency_graph(self.catalog)

    def service(self, name: str | None) -> ServiceBase | None:
        return self.catalog.services.get(name or "")

    @cached_property
    def deployed(self) -> set[str]:
        """Catalog services with pods in the rendered stack."""
        return {p.service for p in self.pods if p.service in self.catalog.services}

    def kind_of(self, name: str) -> str | None:
        service = self.service(name)
        return service.kind if service else None

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.get("kind") == kind]

    def secret_data(self, namespace: str, name: str) -> Obj | None:
        for obj in self.of_kind("Secret"):
            meta = obj["metadata"]
            if meta.get("name") == name and meta.get("namespace") == namespace:
                return {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
        return None

    def release(self, chart: str) -> Registered | None:
        return next((r for r in self.releases if r.body.get("chart") == chart), None)

    # --- network ---------------------------------------------------------------------------------

    def policies_for(self, pod: PodView) -> list[Obj]:
        return [
            p
            for p in self.of_kind("NetworkPolicy")
            if p["metadata"].get("namespace") == pod.namespace
            and p.get("spec", {}).get("podSelector") != {}
            and selector_matches(p.get("spec", {}).get("podSelector"), pod.labels)
        ]

    @cached_property
    def scraper(self) -> str | None:
        """The catalog's Prometheus when it runs in the namespace (compose); else the operator's."""
        return next((s for s in self.deployed if self.kind_of(s) == "prometheus"), None)

    @cached_property
    def helper_targets(self) -> dict[str, set[str]]:
        """Helper pods (not catalog services, e.g. a model pull Job) -> services their policy lets them call."""
        helpers: dict[str, set[str]] = {}
        for pod in self.pods:
            if pod.service and pod.service not in self.catalog.services:
                targets = helpers.setdefault(pod.service, set())
                for policy in self.policies_for(pod):
                    for rule in policy["spec"].get("egress") or []:
                        for peer in rule.get("to") or []:
                            classified = self.classify(peer)
                            if classified.kind == "service":
                                targets.add(classified.value)
        return helpers

    def classify(self, peer: Obj) -> Peer:  # noqa: PLR0911 - one return per kind of peer
        namespaces = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
        pod_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
        namespace = namespaces.get("kubernetes.io/metadata.name")
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            if block.get("cidr") == "0.0.0.0/0" and set(block.get("except") or []) >= PRIVATE_RANGES:
                return Peer("internet")
            return Peer("cidr", str(block.get("cidr")))
        if namespace == "kube-system" and pod_labels.get("k8s-app") == "kube-dns":
            return Peer("dns")
        if (
            self.helm
            and namespace == self.settings.monitoring_namespace
            and pod_labels.get("app.kubernetes.io/name") == "prometheus"
        ):
            return Peer("prometheus")
        if "namespaceSelector" in peer:
            if namespace and namespace == self.settings.ingress_namespace and "podSelector" not in peer:
                return Peer("ingress")
            return Peer("other", str(peer))
        if "podSelector" in peer and set(pod_labels) == {"mcpstack.io/service"}:
            name = pod_labels["mcpstack.io/service"]
            if name == self.scraper:
                return Peer("prometheus", name)
            if name in self.catalog.services:
                return Peer("service", name)
            return Peer("helper", name)
        return Peer("other", str(peer))

    def rule_peers(self, rule: Obj, direction: str) -> list[Peer]:
        peers = rule.get("from" if direction == "ingress" else "to")
        if not peers:
            return [Peer("anywhere")]
        return [self.classify(p) for p in peers]


def port_numbers(service: ServiceBase, names: list[str] | None = None) -> set[int]:
    return {p.port for p in service.ports if names is None or p.name in names}


def rule_ports(rule: Obj) -> set[Any] | None:
    """Port numbers a NetworkPolicy rule opens (None: every port)."""
    ports = rule.get("ports")
    if not ports:
        return None
    return {p.get("port") for p in ports}


# --- the registry ----------------------------------------------------------------------------------

Check = Callable[[Context], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    check: Check
    helm_only: bool = False


RULES: list[Rule] = []


def rule(rule_id: str, description: str, *, helm_only: bool = False) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(rule_id, description, check, helm_only))
        return check

    return register


def run(rendered: Rendered) -> list[Violation]:
    context = Context(rendered)
    found: list[Violation] = []
    for item in RULES:
        if item.helm_only and not context.helm:
            continue
        found.extend(item.check(context))
    return found


# --- schema and Helm -------------------------------------------------------------------------------


@rule("K8S-SCHEMA", f"every object is valid for Kubernetes {KUBERNETES_VERSION} (strict JSON schema)")
def _schema(ctx: Context) -> Iterator[Violation]:
    for obj in ctx.objects:
        try:
            for path, message in schema_errors(obj):
                yield Violation("K8S-SCHEMA", ref_of(obj), path, message)
        except NoSchema as exc:
            yield Violation("K8S-SCHEMA", ref_of(obj), "apiVersion", str(exc))


@rule("HELM-CHART-PINNED", "every Helm release names its chart, an exact chart version and an https repository")
def _chart_pinned(ctx: Context) -> Iterator[Violation]:
    for release in ctx.releases:
        ref, body = release_ref(release), release.body
        if not body.get("chart"):
            yield Violation("HELM-CHART-PINNED", ref, "chart", "no chart")
        if not PINNED_CHART_VERSION.match(str(body.get("version") or "")):
            yield Violation("HELM-CHART-PINNED", ref, "version", f"not an exact chart version: {body.get('version')!r}")
        repository = str((body.get("repositoryOpts") or {}).get("repo") or "")
        if not repository.startswith("https://"):
            yield Violation("HELM-CHART-PINNED", ref, "repositoryOpts.repo", f"not an https repository: {repository!r}")


@rule("HELM-HOOKS", "charts are installed by Helm (helm.v3.Release), so their hooks run; no client-side templating")
def _helm_hooks(ctx: Context) -> Iterator[Violation]:
    for resource in ctx.rendered.resources:
        if re.fullmatch(r"kubernetes:helm\.sh/v\d+:Chart|kubernetes:kustomize:.*", resource.type):
            yield Violation(
                "HELM-HOOKS",
                f"{resource.type} {resource.name}",
                "type",
                "templated on the client: Helm hooks (e.g. kube-prometheus-stack's webhook certificate Jobs) "
                "never run; use helm.v3.Release",
            )


# --- hardening ---------------------------------------------------------------------------------------


def _security(pod: PodView, container: Any, key: str) -> Any:
    value = container.security.get(key)
    return pod.security.get(key) if value is None else value


@rule("HARD-RUN-AS-NON-ROOT", "every container runs as a non-root user (runAsNonRoot, no uid 0)")
def _non_root(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            if _security(pod, c, "runAsNonRoot") is not True:
                yield Violation("HARD-RUN-AS-NON-ROOT", pod.ref, f"{c.security_path}.runAsNonRoot", "must be true")
            if _security(pod, c, "runAsUser") == 0:
                yield Violation("HARD-RUN-AS-NON-ROOT", pod.ref, f"{c.security_path}.runAsUser", "uid 0 is root")


@rule("HARD-READ-ONLY-ROOT-FS", "root filesystems are read-only unless the catalog's security says the app needs it")
def _read_only(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        service = ctx.service(pod.service)
        if service is not None and not service.security.read_only_root_filesystem:
            continue
        for c in pod.containers:
            if c.security.get("readOnlyRootFilesystem") is not True:
                yield Violation(
                    "HARD-READ-ONLY-ROOT-FS", pod.ref, f"{c.security_path}.readOnlyRootFilesystem", "must be true"
                )


@rule("HARD-NO-PRIVILEGE-ESCALATION", "allowPrivilegeEscalation is false and nothing runs privileged")
def _no_escalation(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            if c.security.get("allowPrivilegeEscalation") is not False:
                yield Violation(
                    "HARD-NO-PRIVILEGE-ESCALATION",
                    pod.ref,
                    f"{c.security_path}.allowPrivilegeEscalation",
                    "must be false",
                )
            if c.security.get("privileged") is True:
                yield Violation(
                    "HARD-NO-PRIVILEGE-ESCALATION", pod.ref, f"{c.security_path}.privileged", "must not be true"
                )


def _allowed_capabilities(service: ServiceBase | None) -> set[str]:
    """Capabilities the catalog grants a service (Security.capabilities / cap_add, when the model has them)."""
    if service is None:
        return set()
    for attribute in ("capabilities", "cap_add", "add_capabilities"):
        value = getattr(service.security, attribute, None)
        if isinstance(value, list | tuple | set):
            return {str(v).upper() for v in value}
        if value is not None and hasattr(value, "add"):
            return {str(v).upper() for v in value.add}
    return set()


@rule("HARD-DROP-CAPABILITIES", "every container drops ALL capabilities and adds only what the catalog grants")
def _capabilities(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        allowed = _allowed_capabilities(ctx.service(pod.service))
        for c in pod.containers:
            capabilities = c.security.get("capabilities") or {}
            if "ALL" not in (capabilities.get("drop") or []):
                yield Violation(
                    "HARD-DROP-CAPABILITIES", pod.ref, f"{c.security_path}.capabilities.drop", "must drop ALL"
                )
            extra = {str(a).upper() for a in capabilities.get("add") or []} - allowed
            if extra:
                yield Violation(
                    "HARD-DROP-CAPABILITIES",
                    pod.ref,
                    f"{c.security_path}.capabilities.add",
                    f"adds {', '.join(sorted(extra))}, which the catalog does not grant",
                )


@rule(
    "HARD-SECCOMP",
    "every container runs with the RuntimeDefault seccomp profile, or the catalog's own (security.seccomp_profile) "
    "as a Localhost profile",
)
def _seccomp(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        service = ctx.service(pod.service)
        own = service.security.seccomp_profile if service else None
        for c in pod.containers:
            profile = _security(pod, c, "seccompProfile") or {}
            if own and not c.init:
                name = own.rsplit("/", 1)[-1]
                local = str(profile.get("localhostProfile") or "")
                if profile.get("type") != "Localhost" or local.rsplit("/", 1)[-1] != name:
                    yield Violation(
                        "HARD-SECCOMP", pod.ref, f"{c.security_path}.seccompProfile", f"must be the Localhost {name}"
                    )
            elif profile.get("type") not in ("RuntimeDefault", "Localhost"):
                yield Violation(
                    "HARD-SECCOMP", pod.ref, f"{c.security_path}.seccompProfile.type", "must be RuntimeDefault"
                )


@rule("HARD-RESOURCES", "every container requests and limits CPU and memory")
def _resources(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (c.resources.get(part) or {}).get(resource):
                        yield Violation(
                            "HARD-RESOURCES", pod.ref, f"{c.resources_path}.{part}.{resource}", "must be set"
                        )


@rule("HARD-MEMORY-CEILING", f"our services and the gateway are limited to at most {MEMORY_CEILING} of memory")
def _memory_ceiling(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        if ctx.kind_of(pod.service or "") not in OUR_KINDS:
            continue
        for c in pod.containers:
            limit = (c.resources.get("limits") or {}).get("memory")
            if limit and memory_bytes(str(limit)) > memory_bytes(MEMORY_CEILING):
                yield Violation(
                    "HARD-MEMORY-CEILING", pod.ref, f"{c.resources_path}.limits.memory", f"{limit} > {MEMORY_CEILING}"
                )


def _probe_matches(probe: Obj | None, expected: Any, service: ServiceBase) -> str | None:
    if probe is None:
        return "missing"
    if expected.path:
        action = probe.get("httpGet")
        if not action:
            return f"must be an HTTP GET of {expected.path}"
        if action.get("path") != expected.path:
            return f"path {action.get('path')!r}, the catalog says {expected.path!r}"
    else:
        action = probe.get("tcpSocket")
        if not action:
            return "the catalog's probe has no path: must be a TCP probe"
    port = action.get("port")
    wanted = {expected.port, *port_numbers(service, [expected.port])}
    if port not in wanted:
        return f"port {port!r}, the catalog says {expected.port!r}"
    return None


@rule("HARD-PROBES", "long-running containers have liveness (catalog `health`) and readiness (`ready`) probes")
def _probes(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        if not pod.long_running:
            continue
        service = ctx.service(pod.service)
        for c in pod.containers:
            if c.init:
                continue
            if service is None or service.health is None:
                for probe, path in ((c.liveness, c.liveness_path), (c.readiness, c.readiness_path)):
                    if probe is None:
                        yield Violation("HARD-PROBES", pod.ref, path, "missing")
                continue
            for probe, path, expected in (
                (c.liveness, c.liveness_path, service.health),
                (c.readiness, c.readiness_path, service.ready or service.health),
            ):
                problem = _probe_matches(probe, expected, service)
                if problem:
                    yield Violation("HARD-PROBES", pod.ref, path, problem)


@rule("HARD-IMAGE-PINNED", "every image has an explicit tag other than `latest` (or a digest)")
def _image_pinned(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            image = c.image or ""
            if "@sha256:" in image:
                continue
            name = image.rsplit("/", 1)[-1]
            tag = name.partition(":")[2]
            if not tag or tag == "latest":
                yield Violation("HARD-IMAGE-PINNED", pod.ref, c.image_path, f"{image!r} has no pinned tag")


@rule("HARD-SERVICE-ACCOUNT-TOKEN", "no pod mounts a service account token (none of them talks to the API server)")
def _sa_token(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        if pod.automount_token is not False:
            yield Violation("HARD-SERVICE-ACCOUNT-TOKEN", pod.ref, pod.automount_path, "must be false")


@rule("HARD-RUNTIME-CLASS", "services given a RuntimeClass in the stack config (e.g. sandbox=gvisor) run with it")
def _runtime_class(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        wanted = ctx.settings.runtime_classes.get(pod.service or "")
        if wanted and pod.runtime_class != wanted:
            yield Violation(
                "HARD-RUNTIME-CLASS",
                pod.ref,
                pod.runtime_class_path,
                f"{pod.runtime_class!r}, the stack says {wanted!r}",
            )


# --- network -----------------------------------------------------------------------------------------


@rule("NET-DEFAULT-DENY", "every namespace with our pods has a default-deny policy for ingress and egress")
def _default_deny(ctx: Context) -> Iterator[Violation]:
    for namespace in sorted({p.namespace for p in ctx.pods}):
        found = any(
            p["metadata"].get("namespace") == namespace
            and p.get("spec", {}).get("podSelector") == {}
            and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes") or [])
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
            for p in ctx.of_kind("NetworkPolicy")
        )
        if not found:
            yield Violation(
                "NET-DEFAULT-DENY",
                f"Namespace {namespace}",
                "NetworkPolicy",
                "no default-deny (podSelector: {}) policy",
            )


@rule("NET-POLICY-PER-SERVICE", "every pod has its own NetworkPolicy, and every policy selects pods")
def _policy_per_service(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        if not ctx.policies_for(pod):
            yield Violation("NET-POLICY-PER-SERVICE", pod.ref, "labels", "no NetworkPolicy selects these pods")
    for policy in ctx.of_kind("NetworkPolicy"):
        selector = policy.get("spec", {}).get("podSelector")
        if selector == {}:
            continue
        namespace = policy["metadata"].get("namespace")
        if not any(p.namespace == namespace and selector_matches(selector, p.labels) for p in ctx.pods):
            yield Violation("NET-POLICY-PER-SERVICE", ref_of(policy), "spec.podSelector", "selects no pod")


def _service_policies(ctx: Context) -> Iterator[tuple[str, Obj]]:
    """(catalog service, policy) for every policy selecting a catalog service's pods."""
    for pod in ctx.pods:
        if pod.service in ctx.catalog.services:
            for policy in ctx.policies_for(pod):
                yield pod.service, policy


def _metrics_ports(ctx: Context, service: str) -> set[int]:
    found = ctx.service(service)
    if found is None or found.metrics is None:
        return set()
    return port_numbers(found, [found.metrics.port])


def _check_ingress(
    ctx: Context,
    rule_id: str,
    applies: Callable[[str], bool],
    allowed: Callable[[str, Peer, set[Any] | None], str | None],
) -> Iterator[Violation]:
    for service, policy in _service_policies(ctx):
        if not applies(service):
            continue
        for index, item in enumerate(policy["spec"].get("ingress") or []):
            ports = rule_ports(item)
            for peer in ctx.rule_peers(item, "ingress"):
                problem = allowed(service, peer, ports)
                if problem:
                    yield Violation(rule_id, ref_of(policy), f"spec.ingress[{index}]", problem)


def _scrape_ok(ctx: Context, service: str, ports: set[Any] | None) -> bool:
    metrics = _metrics_ports(ctx, service)
    return bool(metrics) and ports is not None and ports <= metrics


@rule(
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
            if service not in ctx.helper_targets.get(peer.value, set()):
                return f"admits {peer.value}, whose own policy does not call {service}"
            return None
        if peer.kind == "prometheus":
            return None if _scrape_ok(ctx, service, ports) else "admits Prometheus beyond the metrics port"
        if peer.kind in ("ingress", "anywhere") and service in ctx.catalog.kubernetes.exposed:
            if peer.kind == "anywhere" and ctx.settings.ingress_namespace:
                return f"admits any source; the stack's ingress controller is in {ctx.settings.ingress_namespace}"
            return None
        return f"admits {peer.kind} {peer.value}".rstrip()

    yield from _check_ingress(ctx, "NET-INGRESS-DEPENDENTS", lambda _s: True, allowed)


@rule("NET-MCP-SERVERS-GATEWAY-ONLY", "only the gateway may call the MCP servers (and Prometheus scrape them)")
def _mcp_gateway_only(ctx: Context) -> Iterator[Violation]:
    def allowed(service: str, peer: Peer, ports: set[Any] | None) -> str | None:
        if peer.kind == "service" and ctx.kind_of(peer.value) == "gateway":
            return None
        if peer.kind == "prometheus" and _scrape_ok(ctx, service, ports):
            return None
        return f"MCP server {service} admits {peer.kind} {peer.value}".rstrip()

    yield from _check_ingress(ctx, "NET-MCP-SERVERS-GATEWAY-ONLY", lambda s: ctx.kind_of(s) == "mcp-server", allowed)


@rule("NET-GATEWAY-WEBUI-ONLY", "only Open WebUI may call the gateway (and Prometheus scrape it)")
def _gateway_webui_only(ctx: Context) -> Iterator[Violation]:
    def allowed(service: str, peer: Peer, ports: set[Any] | None) -> str | None:
        if peer.kind == "service" and ctx.kind_of(peer.value) == "open-webui":
            return None
        if peer.kind == "prometheus" and _scrape_ok(ctx, service, ports):
            return None
        return f"gateway {service} admits {peer.kind} {peer.value}".rstrip()

    yield from _check_ingress(ctx, "NET-GATEWAY-WEBUI-ONLY", lambda s: ctx.kind_of(s) == "gateway", allowed)


def _egress_needs(ctx: Context, service: str) -> bool:
    deps = ctx.graph.get(service, set()) & ctx.deployed
    return bool(
        deps
        or service in ctx.catalog.kubernetes.internet_egress
        or service == ctx.scraper
        or (ctx.helm and ctx.kind_of(service) == "open-webui")
    )


@rule(
    "NET-EGRESS-DEPENDENCIES",
    "a service reaches only its dependencies (DNS, the internet on 443 if `internet_egress`, Open WebUI's database)",
)
def _egress(ctx: Context) -> Iterator[Violation]:
    for service, policy in _service_policies(ctx):
        for index, item in enumerate(policy["spec"].get("egress") or []):
            ports = rule_ports(item)
            for peer in ctx.rule_peers(item, "egress"):
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
        if service == ctx.scraper and _scrape_ok(ctx, peer.value, ports):
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


@rule("NET-NO-EGRESS", "a service that depends on nothing (the sandbox) gets no egress at all, not even DNS")
def _no_egress(ctx: Context) -> Iterator[Violation]:
    for service, policy in _service_policies(ctx):
        if not _egress_needs(ctx, service) and policy["spec"].get("egress"):
            yield Violation("NET-NO-EGRESS", ref_of(policy), "spec.egress", f"{service} needs no egress; must be []")
        if not _egress_needs(ctx, service) and "Egress" not in (policy["spec"].get("policyTypes") or []):
            yield Violation("NET-NO-EGRESS", ref_of(policy), "spec.policyTypes", "must include Egress")


@rule("NET-DNS", "a pod that reaches other services can resolve their names (kube-dns, port 53)")
def _dns(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        rules = [r for p in ctx.policies_for(pod) for r in p["spec"].get("egress") or []]
        kinds = [peer.kind for r in rules for peer in ctx.rule_peers(r, "egress")]
        if any(k != "dns" for k in kinds) and "dns" not in kinds:
            yield Violation("NET-DNS", pod.ref, "NetworkPolicy.spec.egress", "reaches services but cannot resolve them")


@rule("NET-PROMETHEUS-SCRAPE", "Prometheus may scrape every service that has metrics, on the metrics port")
def _scrape(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        metrics = _metrics_ports(ctx, pod.service or "")
        if not metrics or pod.service == ctx.scraper:
            continue
        admitted = any(
            peer.kind == "prometheus" and (rule_ports(r) is None or metrics <= (rule_ports(r) or set()))
            for p in ctx.policies_for(pod)
            for r in p["spec"].get("ingress") or []
            for peer in ctx.rule_peers(r, "ingress")
        )
        if not admitted:
            yield Violation(
                "NET-PROMETHEUS-SCRAPE",
                pod.ref,
                "NetworkPolicy.spec.ingress",
                f"Prometheus cannot scrape port {sorted(metrics)}",
            )


# --- secrets -----------------------------------------------------------------------------------------


def _placeholders(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, f"{path}[{index}]")
    elif isinstance(value, str) and SECRET_PLACEHOLDER in value:
        yield path


@rule(
    "SEC-NO-PLAINTEXT", "secret values appear only in Secrets: never in ConfigMaps, env values, Helm values or outputs"
)
def _no_plaintext(ctx: Context) -> Iterator[Violation]:
    for obj in ctx.objects:
        body = dict(obj)
        if obj.get("kind") == "Secret":
            body.pop("stringData", None)
            body.pop("data", None)
        for path in _placeholders(body, ""):
            yield Violation("SEC-NO-PLAINTEXT", ref_of(obj), path, "holds a secret value outside a Secret")
    for release in ctx.releases:
        for path in _placeholders(values_of(release), "values"):
            yield Violation("SEC-NO-PLAINTEXT", release_ref(release), path, "a secret value in Helm values")
    for path in _placeholders(ctx.rendered.stack_outputs, "outputs"):
        yield Violation("SEC-NO-PLAINTEXT", "Stack", path, "a secret value in a stack output")
    for component in ctx.rendered.components():
        for path in _placeholders(component.outputs, "outputs"):
            yield Violation("SEC-NO-PLAINTEXT", f"{component.type} {component.name}", path, "a secret value in outputs")


def _env_source(env: list[Obj], name: str) -> tuple[int, Obj] | None:
    return next(((i, e) for i, e in enumerate(env) if e.get("name") == name), None)


@rule(
    "SEC-FROM-SECRETS", "catalog secrets and secret generated files reach pods only from Secrets, under their own key"
)
def _from_secrets(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        service = ctx.service(pod.service)
        if service is None:
            continue
        main = next(c for c in pod.containers if not c.init)
        volumes = {v.get("name"): v for v in pod.volumes}
        for ref in service.secrets:
            if ref.env:
                yield from _secret_env(ctx, pod, main, ref.env, ref.secret)
            if ref.file:
                yield from _secret_mount(ctx, pod, main, volumes, ref.file, ref.secret)
        for file in service.files:
            if GENERATORS[file.generator].secret:
                yield from _secret_mount(ctx, pod, main, volumes, file.path, file.generator)
        for variable, generator in service.generated_env.items():
            if GENERATORS[generator].secret:
                found = _env_source(main.env, variable)
                if not found or not (found[1].get("valueFrom") or {}).get("secretKeyRef"):
                    yield Violation("SEC-FROM-SECRETS", pod.ref, main.env_path, f"{variable} must come from a Secret")


def _secret_env(ctx: Context, pod: PodView, main: Any, variable: str, secret: str) -> Iterator[Violation]:
    found = _env_source(main.env, variable)
    key_ref = ((found[1].get("valueFrom") or {}).get("secretKeyRef") or {}) if found else {}
    field = f"{main.env_path}[{found[0]}]" if found else main.env_path
    if not key_ref:
        yield Violation("SEC-FROM-SECRETS", pod.ref, field, f"{variable} must come from a Secret")
        return
    if key_ref.get("key") != secret:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{field}.valueFrom.secretKeyRef.key", f"must be {secret}")
    data = ctx.secret_data(pod.namespace, str(key_ref.get("name")))
    if data is None or secret not in data:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{field}.valueFrom.secretKeyRef", f"no Secret holds {secret}")


def _secret_mount(
    ctx: Context, pod: PodView, main: Any, volumes: dict[Any, Obj], path: str, key: str
) -> Iterator[Violation]:
    mount = next((m for m in main.mounts if m.get("mountPath") == path), None)
    if mount is None:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"{path} is not mounted")
        return
    volume = volumes.get(mount.get("name")) or {}
    if not volume.get("secret"):
        yield Violation(
            "SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"{path} is not mounted from a Secret"
        )
        return
    if mount.get("subPath") != key:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"{path} must be key {key}")
    data = ctx.secret_data(pod.namespace, str(volume["secret"].get("secretName")))
    if data is None or key not in data:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"no Secret holds {key} for {path}")


@rule("SEC-MARKED-SECRET", "every Secret's data is a Pulumi secret (encrypted in the state, hidden in diffs)")
def _marked_secret(ctx: Context) -> Iterator[Violation]:
    for resource in ctx.rendered.resources:
        if not resource.is_kubernetes_object or resource.body.get("kind") != "Secret":
            continue
        for key in ("stringData", "data"):
            if resource.body.get(key) and not any(p == key or p.startswith(f"{key}.") for p in resource.secret_paths):
                yield Violation("SEC-MARKED-SECRET", ref_of(resource.body), key, "not marked secret")


# --- services and monitoring -------------------------------------------------------------------------


@rule("SVC-SELECTS-PODS", "every Service selects pods, targets ports they have, and keeps the catalog's port numbers")
def _service_selects(ctx: Context) -> Iterator[Violation]:
    for service in ctx.of_kind("Service"):
        meta, spec = service["metadata"], service.get("spec", {})
        matched = [
            p
            for p in ctx.pods
            if p.namespace == meta.get("namespace")
            and selector_matches({"matchLabels": spec.get("selector") or {}}, p.labels)
        ]
        if not spec.get("selector") or not matched:
            yield Violation("SVC-SELECTS-PODS", ref_of(service), "spec.selector", "selects no pod")
            continue
        container_ports = [port for p in matched for c in p.containers if not c.init for port in c.ports]
        names = {p.get("name") for p in container_ports}
        numbers = {p.get("containerPort") for p in container_ports}
        catalog_service = ctx.service(meta.get("name"))
        for index, port in enumerate(spec.get("ports") or []):
            target = port.get("targetPort", port.get("port"))
            if target not in names and target not in numbers:
                yield Violation(
                    "SVC-SELECTS-PODS",
                    ref_of(service),
                    f"spec.ports[{index}].targetPort",
                    f"{target!r}: no such container port",
                )
            if catalog_service is not None:
                wanted = {p.name: p.port for p in catalog_service.ports}
                if port.get("name") in wanted and port.get("port") != wanted[port["name"]]:
                    yield Violation(
                        "SVC-SELECTS-PODS",
                        ref_of(service),
                        f"spec.ports[{index}].port",
                        f"{port.get('port')}, the catalog (and every generated URL) says {wanted[port['name']]}",
                    )


def _monitor_labels(ctx: Context) -> dict[str, str]:
    """Labels kube-prometheus-stack's Prometheus selects ServiceMonitors/PrometheusRules by."""
    release = ctx.release("kube-prometheus-stack")
    if release is None:
        return {}
    spec = (values_of(release).get("prometheus") or {}).get("prometheusSpec") or {}
    if spec.get("serviceMonitorSelectorNilUsesHelmValues", True) and not spec.get("serviceMonitorSelector"):
        return {"release": str(release.body.get("name"))}
    return dict((spec.get("serviceMonitorSelector") or {}).get("matchLabels") or {})


@rule(
    "MON-SERVICE-MONITORS",
    "every service with metrics has a ServiceMonitor Prometheus selects, matching its Service",
    helm_only=True,
)
def _service_monitors(ctx: Context) -> Iterator[Violation]:
    wanted_labels = _monitor_labels(ctx)
    monitors = ctx.of_kind("ServiceMonitor")
    for name in sorted(ctx.deployed):
        service = ctx.catalog.services[name]
        if service.metrics is None:
            continue
        svc = next((s for s in ctx.of_kind("Service") if s["metadata"].get("name") == name), None)
        if svc is None:
            continue
        namespace = svc["metadata"].get("namespace")
        matching = [
            m
            for m in monitors
            if selector_matches(m["spec"].get("selector"), svc["metadata"].get("labels") or {})
            and (
                (m["spec"].get("namespaceSelector") or {}).get("any")
                or namespace
                in ((m["spec"].get("namespaceSelector") or {}).get("matchNames") or [m["metadata"].get("namespace")])
            )
        ]
        if not matching:
            yield Violation(
                "MON-SERVICE-MONITORS", ref_of(svc), "metadata.labels", "no ServiceMonitor selects this Service"
            )
            continue
        for monitor in matching:
            labels = monitor["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in wanted_labels.items()):
                yield Violation(
                    "MON-SERVICE-MONITORS", ref_of(monitor), "metadata.labels", f"Prometheus selects {wanted_labels}"
                )
            port_names = {p.get("name") for p in svc["spec"].get("ports") or []}
            for index, endpoint in enumerate(monitor["spec"].get("endpoints") or []):
                if endpoint.get("port") not in port_names:
                    yield Violation(
                        "MON-SERVICE-MONITORS", ref_of(monitor), f"spec.endpoints[{index}].port", "no such Service port"
                    )
                if endpoint.get("path") != service.metrics.path:
                    yield Violation(
                        "MON-SERVICE-MONITORS",
                        ref_of(monitor),
                        f"spec.endpoints[{index}].path",
                        f"must be {service.metrics.path}",
                    )


@rule(
    "MON-DASHBOARDS", "every dashboard in the catalog's grafana.dashboards reaches Grafana (sidecar ConfigMap / mount)"
)
def _dashboards(ctx: Context) -> Iterator[Violation]:
    for name, service in ctx.catalog.services.items():
        if not isinstance(service, GrafanaService) or service.local_only:
            continue
        files = [d.rsplit("/", 1)[-1] for d in service.grafana.dashboards]
        if ctx.helm:
            release = ctx.release("kube-prometheus-stack")
            sidecar = (((values_of(release) if release else {}).get("grafana") or {}).get("sidecar") or {}).get(
                "dashboards"
            ) or {}
            label, value = sidecar.get("label", "grafana_dashboard"), sidecar.get("labelValue", "1")
            configmaps = [
                c for c in ctx.of_kind("ConfigMap") if (c["metadata"].get("labels") or {}).get(label) == value
            ]
        else:
            grafana = next((p for p in ctx.pods if p.service == name), None)
            mounted = {(v.get("configMap") or {}).get("name") for v in (grafana.volumes if grafana else [])}
            configmaps = [c for c in ctx.of_kind("ConfigMap") if c["metadata"].get("name") in mounted]
        present = {key for c in configmaps for key in (c.get("data") or {})}
        for file in files:
            if file not in present:
                yield Violation("MON-DASHBOARDS", f"Service {name}", "grafana.dashboards", f"{file} reaches no Grafana")


@rule(
    "MON-RULES",
    "every rule file in the catalog's prometheus.rule_files is a PrometheusRule Prometheus selects",
    helm_only=True,
)
def _rules(ctx: Context) -> Iterator[Violation]:
    wanted_labels = _monitor_labels(ctx)
    rules = ctx.of_kind("PrometheusRule")
    for name, service in ctx.catalog.services.items():
        if not isinstance(service, PrometheusService):
            continue
        for relative in service.prometheus.rule_files:
            stem = relative.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            found = [r for r in rules if r["metadata"].get("name", "").startswith(f"rules-{stem}")]
            if not found:
                yield Violation(
                    "MON-RULES", f"Service {name}", "prometheus.rule_files", f"{relative}: no PrometheusRule"
                )
            for item in found:
                labels = item["metadata"].get("labels") or {}
                if any(labels.get(k) != v for k, v in wanted_labels.items()):
                    yield Violation("MON-RULES", ref_of(item), "metadata.labels", f"Prometheus selects {wanted_labels}")


# --- high availability (prod) ------------------------------------------------------------------------


def _ha_pods(ctx: Context, with_webui: bool = False) -> list[PodView]:
    kinds = (*OUR_KINDS, "open-webui") if with_webui else OUR_KINDS
    return [p for p in ctx.pods if ctx.kind_of(p.service or "") in kinds and p.long_running]


@rule("HA-REPLICAS", "our services (MCP servers, gateway) run at least 2 replicas", helm_only=True)
def _replicas(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx):
        if (pod.replicas or 0) < 2:
            yield Violation("HA-REPLICAS", pod.ref, pod.replicas_path, f"{pod.replicas} < 2")


@rule("HA-AUTOSCALER", "our services scale with a HorizontalPodAutoscaler (min >= 2, max >= min)", helm_only=True)
def _autoscaler(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx):
        kind, _, name = pod.ref.partition(" ")
        name = name.split("/")[-1]
        scalers = [
            h
            for h in ctx.of_kind("HorizontalPodAutoscaler")
            if h["metadata"].get("namespace") == pod.namespace
            and (h["spec"].get("scaleTargetRef") or {}).get("kind") == kind
            and (h["spec"].get("scaleTargetRef") or {}).get("name") == name
        ]
        if not scalers:
            yield Violation("HA-AUTOSCALER", pod.ref, "HorizontalPodAutoscaler", "none targets this workload")
        for scaler in scalers:
            low, high = scaler["spec"].get("minReplicas", 1), scaler["spec"].get("maxReplicas", 0)
            if low < 2 or high < low or not scaler["spec"].get("metrics"):
                yield Violation("HA-AUTOSCALER", ref_of(scaler), "spec", f"minReplicas {low}, maxReplicas {high}")


@rule(
    "HA-DISRUPTION-BUDGET",
    "our services and Open WebUI have a PodDisruptionBudget selecting their pods",
    helm_only=True,
)
def _budget(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx, with_webui=True):
        budgets = [
            b
            for b in ctx.of_kind("PodDisruptionBudget")
            if b["metadata"].get("namespace") == pod.namespace
            and selector_matches(b["spec"].get("selector"), pod.labels)
        ]
        if not budgets:
            yield Violation("HA-DISRUPTION-BUDGET", pod.ref, "labels", "no PodDisruptionBudget selects these pods")


@rule(
    "HA-SPREAD",
    "replicas spread over nodes (topology spread or anti-affinity selecting their own pods)",
    helm_only=True,
)
def _spread(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx, with_webui=True):
        constraints = pod.spec.get("topologySpreadConstraints") or []
        anti = ((pod.spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution"
        ) or []
        anti_required = ((pod.spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or []
        ok = any(selector_matches(c.get("labelSelector"), pod.labels) for c in constraints) or any(
            selector_matches((t.get("podAffinityTerm") or t).get("labelSelector"), pod.labels)
            for t in [*anti, *anti_required]
        )
        if not ok:
            yield Violation(
                "HA-SPREAD", pod.ref, f"{pod.spec_path}.topologySpreadConstraints", "replicas may share a node"
            )


# --- Open WebUI and Ollama (production invariants) ---------------------------------------------------


def _webui_pods(ctx: Context) -> list[PodView]:
    return [p for p in ctx.pods if ctx.kind_of(p.service or "") == "open-webui"]


def _effective_env(ctx: Context, pod: PodView) -> dict[str, Obj]:
    """Open WebUI's environment: its env entries, plus what its chart derives from values."""
    main = next(c for c in pod.containers if not c.init)
    env = {e.get("name"): e for e in main.env}
    if pod.chart == "open-webui":
        values = values_of(ctx.release("open-webui"))  # type: ignore[arg-type]
        websocket = values.get("websocket") or {}
        if websocket.get("enabled") and websocket.get("manager"):
            env["WEBSOCKET_MANAGER"] = {"name": "WEBSOCKET_MANAGER", "value": websocket["manager"]}
            if websocket["manager"] == "redis" and (
                websocket.get("url")
                or websocket.get("existingSecret")
                or websocket.get("redis", {}).get("enabled", True)
            ):
                env["REDIS_URL"] = {"name": "REDIS_URL", "value": websocket.get("url") or "(chart)"}
        if values.get("databaseUrl"):
            env["DATABASE_URL"] = {"name": "DATABASE_URL", "value": values["databaseUrl"]}
        provider = (values.get("persistence") or {}).get("provider")
        if provider in OBJECT_STORAGE:
            env["STORAGE_PROVIDER"] = {"name": "STORAGE_PROVIDER", "value": provider}
    return env


def _from_secret(entry: Obj | None) -> bool:
    return bool(entry and (entry.get("valueFrom") or {}).get("secretKeyRef"))


def _multi(ctx: Context) -> Iterator[PodView]:
    for pod in _webui_pods(ctx):
        if (pod.replicas or 1) > 1:
            yield pod


@rule("PROD-WEBUI-REPLICAS", "Open WebUI runs at least 3 replicas in production", helm_only=True)
def _webui_replicas(ctx: Context) -> Iterator[Violation]:
    for pod in _webui_pods(ctx):
        if (pod.replicas or 0) < 3:
            yield Violation("PROD-WEBUI-REPLICAS", pod.ref, pod.replicas_path, f"{pod.replicas} < 3")


@rule("PROD-WEBUI-POSTGRES", "several Open WebUI replicas share one PostgreSQL: DATABASE_URL from a Secret")
def _webui_postgres(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        entry = _effective_env(ctx, pod).get("DATABASE_URL")
        if not _from_secret(entry):
            field = "values.databaseUrl" if entry and pod.chart else "env.DATABASE_URL"
            yield Violation("PROD-WEBUI-POSTGRES", pod.ref, field, "must come from a Secret (postgresql://...)")


@rule("PROD-WEBUI-VECTOR-DB", "several Open WebUI replicas need a shared vector DB (e.g. pgvector in that PostgreSQL)")
def _webui_vector(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        value = (_effective_env(ctx, pod).get("VECTOR_DB") or {}).get("value")
        if value not in MULTI_REPLICA_VECTOR_DBS:
            yield Violation(
                "PROD-WEBUI-VECTOR-DB", pod.ref, "env.VECTOR_DB", f"{value!r}: the default (chroma) is local files"
            )


@rule("PROD-WEBUI-REDIS", "several Open WebUI replicas share websockets through Redis")
def _webui_redis(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        env = _effective_env(ctx, pod)
        if (env.get("WEBSOCKET_MANAGER") or {}).get("value") != "redis" or "REDIS_URL" not in env:
            field = "values.websocket" if pod.chart else "env.WEBSOCKET_MANAGER"
            yield Violation("PROD-WEBUI-REDIS", pod.ref, field, "the websocket manager must be redis, with a URL")


@rule("PROD-WEBUI-SECRET-KEY", "every Open WebUI replica signs sessions with the same WEBUI_SECRET_KEY, from a Secret")
def _webui_key(ctx: Context) -> Iterator[Violation]:
    for pod in _webui_pods(ctx):
        if not _from_secret(_effective_env(ctx, pod).get("WEBUI_SECRET_KEY")):
            yield Violation("PROD-WEBUI-SECRET-KEY", pod.ref, "env.WEBUI_SECRET_KEY", "must come from a Secret")


@rule(
    "PROD-WEBUI-SHARED-STORAGE",
    "several Open WebUI replicas (a Deployment) share storage: ReadWriteMany or object storage",
)
def _webui_storage(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        if pod.chart == "open-webui":
            values = values_of(ctx.release("open-webui"))  # type: ignore[arg-type]
            persistence = values.get("persistence") or {}
            if (values.get("workload") or {}).get("kind") != "Deployment":
                yield Violation("PROD-WEBUI-SHARED-STORAGE", pod.ref, "values.workload.kind", "must be Deployment")
            shared = (
                "ReadWriteMany" in (persistence.get("accessModes") or [])
                or persistence.get("provider") in OBJECT_STORAGE
            )
            if persistence.get("enabled", True) and not shared:
                yield Violation(
                    "PROD-WEBUI-SHARED-STORAGE",
                    pod.ref,
                    "values.persistence.accessModes",
                    "must be ReadWriteMany (or object storage)",
                )
            continue
        claims = {(v.get("persistentVolumeClaim") or {}).get("claimName") for v in pod.volumes}
        for claim in ctx.of_kind("PersistentVolumeClaim"):
            if claim["metadata"].get("name") in claims and "ReadWriteMany" not in (
                claim["spec"].get("accessModes") or []
            ):
                yield Violation("PROD-WEBUI-SHARED-STORAGE", ref_of(claim), "spec.accessModes", "must be ReadWriteMany")


@rule(
    "PROD-WEBUI-BUNDLED-OFF",
    "the Open WebUI chart's bundled Ollama and Pipelines are off (Ollama is its own release)",
    helm_only=True,
)
def _webui_bundled(ctx: Context) -> Iterator[Violation]:
    release = ctx.release("open-webui")
    if release is None:
        return
    values = values_of(release)
    for key in ("ollama", "pipelines"):
        if (values.get(key) or {}).get("enabled", True) is not False:
            yield Violation("PROD-WEBUI-BUNDLED-OFF", release_ref(release), f"values.{key}.enabled", "must be false")


@rule(
    "PROD-WEBUI-TOOL-SERVERS",
    "Open WebUI's tool servers (the gateway routes) come from a Secret, and it forwards user info",
)
def _webui_tools(ctx: Context) -> Iterator[Violation]:
    for pod in _webui_pods(ctx):
        env = _effective_env(ctx, pod)
        if not _from_secret(env.get("TOOL_SERVER_CONNECTIONS")):
            yield Violation(
                "PROD-WEBUI-TOOL-SERVERS", pod.ref, "env.TOOL_SERVER_CONNECTIONS", "must come from a Secret"
            )
        forward = (env.get("ENABLE_FORWARD_USER_INFO_HEADERS") or {}).get("value")
        if str(forward).lower() != "true":
            yield Violation(
                "PROD-WEBUI-TOOL-SERVERS", pod.ref, "env.ENABLE_FORWARD_USER_INFO_HEADERS", "must be true (tenancy)"
            )


@rule("PROD-OLLAMA", "Ollama requests a GPU, pulls the catalog's models and keeps them on a volume", helm_only=True)
def _ollama(ctx: Context) -> Iterator[Violation]:
    release = ctx.release("ollama")
    llms = [s for s in ctx.catalog.services.values() if isinstance(s, LlmService) and not s.local_only]
    if release is None:
        if llms:
            yield Violation("PROD-OLLAMA", "Stack", "helm", "no ollama release")
        return
    ref, values = release_ref(release), values_of(release)
    ollama = values.get("ollama") or {}
    gpu = ollama.get("gpu") or {}
    if not gpu.get("enabled") or int(gpu.get("number") or 0) < 1:
        yield Violation("PROD-OLLAMA", ref, "values.ollama.gpu", "must request at least one GPU")
    name = release.body.get("name")
    service = ctx.catalog.services.get(str(name))
    if isinstance(service, LlmService):
        pulled = list((ollama.get("models") or {}).get("pull") or [])
        if pulled != list(service.llm.models):
            yield Violation(
                "PROD-OLLAMA", ref, "values.ollama.models.pull", f"{pulled}, the catalog says {service.llm.models}"
            )
    if not (values.get("persistentVolume") or {}).get("enabled"):
        yield Violation("PROD-OLLAMA", ref, "values.persistentVolume.enabled", "models must persist")


def rule_ids() -> list[str]:
    return [r.id for r in RULES]
