"""What the rules look at: pods (from workload objects, and from the values of the charts whose pods
we configure), with the field path of every setting so a violation can name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.render import Registered, Rendered

LABEL_SERVICE = "mcpstack.io/service"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")

Obj = dict[str, Any]


def ref_of(obj: Obj) -> str:
    meta = obj.get("metadata", {})
    namespace = meta.get("namespace")
    return f"{obj.get('kind')} {namespace + '/' if namespace else ''}{meta.get('name')}"


def release_ref(release: Registered) -> str:
    return f"HelmRelease {release.body.get('namespace')}/{release.body.get('name')} ({release.body.get('chart')})"


@dataclass(frozen=True)
class ContainerView:
    name: str
    path: str  # field path of the container (or of the chart values that make it)
    image: str | None
    image_path: str
    security: Obj
    security_path: str
    resources: Obj
    resources_path: str
    liveness: Obj | None = None
    liveness_path: str = ""
    readiness: Obj | None = None
    readiness_path: str = ""
    ports: list[Obj] = field(default_factory=list)
    env: list[Obj] = field(default_factory=list)
    env_path: str = ""
    mounts: list[Obj] = field(default_factory=list)
    init: bool = False


@dataclass(frozen=True)
class PodView:
    ref: str
    namespace: str
    labels: dict[str, str]
    security: Obj
    security_path: str
    containers: list[ContainerView]
    volumes: list[Obj]
    automount_token: Any
    automount_path: str
    spec_path: str
    spec: Obj  # the pod spec (topology spread, affinity, runtime class), or its chart-values equivalent
    runtime_class: str | None
    runtime_class_path: str
    replicas: int | None
    replicas_path: str
    long_running: bool = True
    chart: str | None = None

    @property
    def service(self) -> str | None:
        return self.labels.get(LABEL_SERVICE)


def pods(rendered: Rendered) -> list[PodView]:
    found = [_pod_of_workload(obj) for obj in rendered.objects() if obj.get("kind") in WORKLOAD_KINDS]
    for release in rendered.releases():
        adapter = CHART_PODS.get(str(release.body.get("chart")))
        if adapter is not None:
            found.append(adapter(release))
    return found


def _pod_of_workload(obj: Obj) -> PodView:
    spec = obj.get("spec", {})
    template = spec.get("template", {})
    pod = template.get("spec", {})
    base = "spec.template.spec"
    containers = [
        _container(c, f"{base}.initContainers[{i}]", init=True) for i, c in enumerate(pod.get("initContainers", []))
    ] + [_container(c, f"{base}.containers[{i}]") for i, c in enumerate(pod.get("containers", []))]
    return PodView(
        ref=ref_of(obj),
        namespace=obj.get("metadata", {}).get("namespace", ""),
        labels=template.get("metadata", {}).get("labels", {}) or {},
        security=pod.get("securityContext", {}) or {},
        security_path=f"{base}.securityContext",
        containers=containers,
        volumes=pod.get("volumes", []) or [],
        automount_token=pod.get("automountServiceAccountToken"),
        automount_path=f"{base}.automountServiceAccountToken",
        spec_path=base,
        spec=pod,
        runtime_class=pod.get("runtimeClassName"),
        runtime_class_path=f"{base}.runtimeClassName",
        replicas=spec.get("replicas", 1) if obj["kind"] != "Job" else None,
        replicas_path="spec.replicas",
        long_running=obj["kind"] != "Job",
    )


def _container(c: Obj, path: str, init: bool = False) -> ContainerView:
    return ContainerView(
        name=c.get("name", ""),
        path=path,
        image=c.get("image"),
        image_path=f"{path}.image",
        security=c.get("securityContext", {}) or {},
        security_path=f"{path}.securityContext",
        resources=c.get("resources", {}) or {},
        resources_path=f"{path}.resources",
        liveness=c.get("livenessProbe"),
        liveness_path=f"{path}.livenessProbe",
        readiness=c.get("readinessProbe"),
        readiness_path=f"{path}.readinessProbe",
        ports=c.get("ports", []) or [],
        env=c.get("env", []) or [],
        env_path=f"{path}.env",
        mounts=c.get("volumeMounts", []) or [],
        init=init,
    )


def values_of(release: Registered) -> Obj:
    return release.body.get("values") or {}


def _image(values: Obj) -> str | None:
    image = values.get("image") or {}
    if not image.get("repository"):
        return None
    return f"{image['repository']}:{image.get('tag', '')}" if image.get("tag") else image["repository"]


def _chart_container(
    v: Obj, name: str, *, security: str, env: str, port: int, probes: list[Obj | None]
) -> ContainerView:
    """A chart's main container, from the values keys these charts share (image, resources, probes)."""
    liveness, readiness = probes
    return ContainerView(
        name=name,
        path="values",
        image=_image(v),
        image_path="values.image",
        security=v.get(security) or {},
        security_path=f"values.{security}",
        resources=v.get("resources") or {},
        resources_path="values.resources",
        liveness=liveness,
        liveness_path="values.livenessProbe",
        readiness=readiness,
        readiness_path="values.readinessProbe",
        ports=[{"name": "http", "containerPort": port}],
        env=v.get(env) or [],
        env_path=f"values.{env}",
    )


def _chart_pod(
    release: Registered, labels: dict[str, str], containers: list[ContainerView], *, token: tuple[str, bool]
) -> PodView:
    """A chart's pod, from the values keys these charts share. `token`: the chart's key under
    values.serviceAccount that mounts the service account token, and what the chart does without it."""
    v = values_of(release)
    token_key, token_default = token
    service_account = v.get("serviceAccount") or {}
    return PodView(
        ref=release_ref(release),
        namespace=str(release.body.get("namespace")),
        labels=labels | (v.get("podLabels") or {}),
        security=v.get("podSecurityContext") or {},
        security_path="values.podSecurityContext",
        containers=containers,
        volumes=v.get("volumes") or [],
        automount_token=service_account.get(token_key, token_default),
        automount_path=f"values.serviceAccount.{token_key}",
        spec_path="values",
        spec={
            "topologySpreadConstraints": v.get("topologySpreadConstraints") or [],
            "affinity": v.get("affinity") or {},
        },
        runtime_class=v.get("runtimeClassName") or None,
        runtime_class_path="values.runtimeClassName",
        replicas=v.get("replicaCount", 1),
        replicas_path="values.replicaCount",
        chart=str(release.body.get("chart")),
    )


def _open_webui_pod(release: Registered) -> PodView:
    """The open-webui chart (16.x): its Deployment's pod, as its templates build it from these values."""
    v = values_of(release)
    labels = {"app.kubernetes.io/instance": str(release.body.get("name")), "app.kubernetes.io/component": "open-webui"}
    port = (v.get("service") or {}).get("containerPort", 8080)
    probes = [v.get("livenessProbe") or None, v.get("readinessProbe") or None]
    main = _chart_container(
        v, "open-webui", security="containerSecurityContext", env="extraEnvVars", port=port, probes=probes
    )
    copy = v.get("copyAppData") or {}
    init = ContainerView(
        name="copy-app-data",
        path="values.copyAppData",
        image=_image(v),
        image_path="values.image",
        security=v.get("containerSecurityContext") or {},
        security_path="values.containerSecurityContext",
        resources=copy.get("resources") or {},
        resources_path="values.copyAppData.resources",
        init=True,
    )
    return _chart_pod(release, labels, [init, main], token=("automountServiceAccountToken", False))


def _ollama_pod(release: Registered) -> PodView:
    """The otwld ollama chart (1.x): probes are {enabled, path} on the `http` port."""
    v = values_of(release)
    name = str(release.body.get("name"))
    labels = {"app.kubernetes.io/name": str(v.get("nameOverride") or "ollama"), "app.kubernetes.io/instance": name}

    def probe(key: str) -> Obj | None:
        setting = v.get(key) or {"enabled": True, "path": "/"}
        return {"httpGet": {"path": setting.get("path", "/"), "port": "http"}} if setting.get("enabled", True) else None

    port = (v.get("ollama") or {}).get("port", 11434)
    probes = [probe("livenessProbe"), probe("readinessProbe")]
    main = _chart_container(v, "ollama", security="securityContext", env="extraEnv", port=port, probes=probes)
    return _chart_pod(release, labels, [main], token=("automount", True))


# Charts whose pods are ours to harden (kube-prometheus-stack is the monitoring vendor's: its chart
# defaults already run non-root with seccomp; we do not re-check them here).
CHART_PODS = {"open-webui": _open_webui_pod, "ollama": _ollama_pod}


def selector_matches(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label set; {} matches everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
