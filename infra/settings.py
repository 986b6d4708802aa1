"""Stack settings: what differs between clusters (namespace, registry, storage, ingress, GPUs).

The catalog says what runs; these say where. Every setting is declared once here, with its type,
default and description; `stacks/Pulumi.yaml` declares the same `config:` schema (a test keeps the
two equal) and `pulumi config set mcpstack:KEY VALUE` changes one per stack. The cluster itself is
named by the Kubernetes provider's own keys (PROVIDER_SETTINGS: `kubernetes:context`,
`kubernetes:kubeconfig`), from which the program builds its one explicit provider. Secret values are not
settings: each catalog secret is its own secret config key (`pulumi config set --secret
mcpstack:SECRET VALUE`), read with `require_secret`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import pulumi

from mcpstack.deployment.images import ImageSource

PROJECT = "mcpstack"
GVISOR_SERVICE = "sandbox"  # the service `gvisor` runs under gVisor's RuntimeClass
GVISOR_RUNTIME_CLASS = "gvisor"  # the name gVisor's installation gives its RuntimeClass
DEPLOYMENTS = ("compose", "helm")
ConfigType = Literal["string", "integer", "boolean", "array"]


@dataclass(frozen=True)
class Setting:
    key: str  # config key (mcpstack:KEY)
    attribute: str  # StackSettings attribute
    type: ConfigType
    default: Any
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "deployment",
        "deployment",
        "string",
        "compose",
        "compose: one Deployment per catalog service, like the local Docker stack (dev); "
        "helm: the official Helm charts, highly available (prod)",
    ),
    Setting(
        "environment",
        "environment",
        "string",
        "",
        "catalog overlay (config/environments/ENV.yaml); default: the stack name",
    ),
    Setting("configDir", "config_dir", "string", "../config", "catalog directory, relative to this project"),
    Setting("namespace", "namespace", "string", "mcpstack", "namespace of the platform's workloads"),
    Setting(
        "imageRegistry",
        "image_registry",
        "string",
        "",
        "prefix for the images built from this repository (mcpstack/*), e.g. registry.example.com/team; "
        "empty: the local names (kind load docker-image); set: deployed by the digests `mcpstack images push` "
        "recorded",
    ),
    Setting(
        "imagePullSecret",
        "image_pull_secret",
        "string",
        "",
        "a kubernetes.io/dockerconfigjson Secret our pods pull with, made from the secret config "
        "mcpstack:image-pull-dockerconfigjson; empty: none (a public registry, or node credentials)",
    ),
    Setting(
        "storageClass", "storage_class", "string", "", "storage class of the persistent volumes; empty: the default"
    ),
    Setting(
        "runtimeClasses",
        "runtime_classes",
        "array",
        [],
        "SERVICE=RUNTIMECLASS pairs, e.g. sandbox=gvisor (the RuntimeClass must exist in the cluster)",
    ),
    Setting(
        "gvisor",
        "gvisor",
        "boolean",
        False,
        "run the sandbox under gVisor (RuntimeClass gvisor unless runtimeClasses names another): it then requires "
        "only the layers that work inside gVisor; false: no RuntimeClass, every layer of the catalog required",
    ),
    Setting(
        "ingressNamespace",
        "ingress_namespace",
        "string",
        "",
        "namespace of the ingress controller, the only source the catalog's `exposed` services admit from "
        "outside; empty: any source",
    ),
    Setting(
        "monitoringNamespace",
        "monitoring_namespace",
        "string",
        "mcpstack-monitoring",
        "helm: namespace of kube-prometheus-stack (Prometheus, Grafana, Alertmanager)",
    ),
    Setting(
        "sharedStorageClass",
        "shared_storage_class",
        "string",
        "",
        "helm: a ReadWriteMany storage class for the data Open WebUI's replicas share; empty: the default class",
    ),
    Setting("ingressHost", "ingress_host", "string", "", "helm: Open WebUI's host name; empty: no Ingress"),
    Setting("ingressClass", "ingress_class", "string", "", "helm: IngressClass of Open WebUI's Ingress"),
    Setting(
        "ingressTlsSecret",
        "ingress_tls_secret",
        "string",
        "",
        "helm: TLS Secret of Open WebUI's Ingress (e.g. from cert-manager); empty: plain HTTP",
    ),
    Setting("ollamaGpus", "ollama_gpus", "integer", 1, "helm: GPUs requested by Ollama (0: CPU only)"),
    Setting("ollamaGpuType", "ollama_gpu_type", "string", "nvidia", "helm: nvidia or amd"),
    Setting(
        "maxReplicas",
        "max_replicas",
        "integer",
        6,
        "helm: HorizontalPodAutoscaler ceiling of our services (the floor is the catalog's replicas)",
    ),
    Setting("targetCpuPercent", "target_cpu_percent", "integer", 70, "helm: CPU utilisation the autoscalers aim at"),
    Setting(
        "databaseCidr",
        "database_cidr",
        "string",
        "0.0.0.0/0",
        "helm: where Open WebUI's PostgreSQL lives (NetworkPolicy egress), e.g. 10.20.0.5/32",
    ),
    Setting("databasePort", "database_port", "integer", 5432, "helm: PostgreSQL's port"),
    Setting(
        "protect",
        "protect",
        "boolean",
        True,
        "protect the namespace, Open WebUI's data claim and its database Secret from `pulumi destroy` and "
        "replacement (docs/deploy.md: how to really delete)",
    ),
)

PROVIDER_NAMESPACE = "kubernetes"
# The Kubernetes provider's own config keys (`pulumi config set kubernetes:context NAME`): the explicit
# provider every resource uses is built from them, never from whatever kubectl context is current.
PROVIDER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "context",
        "kube_context",
        "string",
        "",
        "kubeconfig context of the target cluster; required by helm (prod) stacks; empty: the current context",
    ),
    Setting("kubeconfig", "kubeconfig", "string", "", "path (or contents) of the kubeconfig; empty: the default"),
)
PROVIDER_KEYS = tuple(f"{PROVIDER_NAMESPACE}:{s.key}" for s in PROVIDER_SETTINGS)


@dataclass(frozen=True)
class StackSettings:
    stack: str
    config_dir: Path
    deployment: str = "compose"
    environment: str = ""
    namespace: str = "mcpstack"
    image_registry: str = ""
    image_pull_secret: str = ""
    storage_class: str = ""
    runtime_classes: Mapping[str, str] = field(default_factory=dict)
    gvisor: bool = False
    ingress_namespace: str = ""
    monitoring_namespace: str = "mcpstack-monitoring"
    shared_storage_class: str = ""
    ingress_host: str = ""
    ingress_class: str = ""
    ingress_tls_secret: str = ""
    ollama_gpus: int = 1
    ollama_gpu_type: str = "nvidia"
    max_replicas: int = 6
    target_cpu_percent: int = 70
    database_cidr: str = "0.0.0.0/0"
    database_port: int = 5432
    protect: bool = True
    kube_context: str = ""
    kubeconfig: str = ""
    images: ImageSource = field(default_factory=ImageSource)  # image_registry with its pushed digests

    @property
    def helm(self) -> bool:
        return self.deployment == "helm"

    @staticmethod
    def from_values(stack: str, project_dir: Path, values: Mapping[str, Any]) -> StackSettings:
        """Settings from typed config values (key -> value, absent keys take their default); the
        provider's keys are given with their namespace (`kubernetes:context`)."""
        unknown = set(values) - {s.key for s in SETTINGS} - set(PROVIDER_KEYS)
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        kwargs: dict[str, Any] = {}
        for setting in SETTINGS:
            value = values.get(setting.key, setting.default)
            kwargs[setting.attribute] = _typed(setting, value)
        for setting, key in zip(PROVIDER_SETTINGS, PROVIDER_KEYS, strict=True):
            kwargs[setting.attribute] = _typed(setting, values.get(key, setting.default))
        kwargs["config_dir"] = (project_dir / kwargs["config_dir"]).resolve()
        kwargs["environment"] = kwargs["environment"] or stack
        kwargs["runtime_classes"] = _runtime_classes(kwargs["runtime_classes"])
        if kwargs["gvisor"]:
            kwargs["runtime_classes"].setdefault(GVISOR_SERVICE, GVISOR_RUNTIME_CLASS)
        kwargs["images"] = ImageSource.from_record(kwargs["image_registry"], kwargs["image_pull_secret"])
        if kwargs["deployment"] not in DEPLOYMENTS:
            raise SettingsError(f"deployment must be one of {', '.join(DEPLOYMENTS)}, not {kwargs['deployment']!r}")
        if kwargs["ollama_gpu_type"] not in ("nvidia", "amd"):
            raise SettingsError(f"ollamaGpuType must be nvidia or amd, not {kwargs['ollama_gpu_type']!r}")
        if kwargs["deployment"] == "helm" and not kwargs["kube_context"]:
            raise SettingsError(
                "a helm (production) stack must name its cluster: pulumi config set kubernetes:context NAME "
                "(never whatever kubectl context is current)"
            )
        return StackSettings(stack=stack, **kwargs)

    @staticmethod
    def from_pulumi(project_dir: Path) -> StackSettings:
        """Settings of the running stack, from its Pulumi config (see stacks/Pulumi.yaml)."""
        config = pulumi.Config(PROJECT)
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = config.get(setting.key)
            if raw is not None:
                values[setting.key] = _parse(setting, raw)
        provider = pulumi.Config(PROVIDER_NAMESPACE)
        for setting, key in zip(PROVIDER_SETTINGS, PROVIDER_KEYS, strict=True):
            raw = provider.get(setting.key)
            if raw is not None:
                values[key] = raw
        return StackSettings.from_values(pulumi.get_stack(), project_dir, values)


class SettingsError(ValueError):
    pass


def _parse(setting: Setting, raw: str) -> Any:
    if setting.type == "string":
        return raw
    if setting.type == "boolean" and raw in ("true", "false"):
        return raw == "true"
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{PROJECT}:{setting.key} is not a valid {setting.type}: {raw!r}") from exc


def _typed(setting: Setting, value: Any) -> Any:
    expected = {"string": str, "integer": int, "boolean": bool, "array": list}[setting.type]
    if isinstance(value, bool) and setting.type == "integer":
        raise SettingsError(f"{PROJECT}:{setting.key} must be an integer, not {value!r}")
    if not isinstance(value, expected):
        raise SettingsError(f"{PROJECT}:{setting.key} must be {setting.type}, not {value!r}")
    if setting.type == "integer" and value < 0:
        raise SettingsError(f"{PROJECT}:{setting.key} must not be negative")
    return value


def _runtime_classes(pairs: list[Any]) -> dict[str, str]:
    classes = {}
    for pair in pairs:
        service, sep, runtime_class = str(pair).partition("=")
        if not sep or not service or not runtime_class:
            raise SettingsError(f"{PROJECT}:runtimeClasses entries are SERVICE=RUNTIMECLASS, not {pair!r}")
        classes[service] = runtime_class
    return classes


def settings_attributes() -> set[str]:
    return {f.name for f in fields(StackSettings)} - {"stack", "images"} - {s.attribute for s in PROVIDER_SETTINGS}
