"""A deployed service (mcpstack.deployment) as Kubernetes objects: one ComponentResource per service kind.

Each creates, as its children: a Deployment and a Service named after the catalog service, the
Secret holding the catalog secrets it uses, a Secret / ConfigMap with its generated files and env,
PersistentVolumeClaims for its volumes, and - when highly available (prod) - a
HorizontalPodAutoscaler and a PodDisruptionBudget. Secrets and ConfigMaps are auto-named, so a
changed value makes a new object and rolls the Deployment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from infra import manifests
from infra.components.context import Deploy, generated
from mcpstack.catalog.models import GrafanaService, LlmService

Obj = dict[str, Any]

DASHBOARDS_PATH = "/etc/grafana/dashboards/mcpstack"
DASHBOARD_PROVIDER_PATH = "/etc/grafana/provisioning/dashboards/mcpstack.yaml"


class ServiceObjects:
    """The Secret / ConfigMap a service's pod reads; shared by plain workloads and Helm releases."""

    def __init__(self, parent: pulumi.Resource, deploy: Deploy, name: str, namespace: Any | None = None) -> None:
        service = deploy.services[name]
        namespace = namespace if namespace is not None else deploy.namespace
        opts = pulumi.ResourceOptions(parent=parent)
        meta: Obj = {"namespace": namespace, "labels": manifests.service_labels(service)}
        self.secret: k8s.core.v1.Secret | None = None
        self.generated: k8s.core.v1.Secret | None = None
        self.config: k8s.core.v1.ConfigMap | None = None
        secrets = manifests.secret_names(service)
        if secrets:
            self.secret = k8s.core.v1.Secret(
                f"{name}-secrets",
                metadata=meta,
                type="Opaque",
                string_data={secret: deploy.secret(secret) for secret in secrets},
                opts=opts,
            )
        used = manifests.generators_used(service)
        secret_generators = [g for g in used if service.generated[g].secret]
        plain_generators = [g for g in used if not service.generated[g].secret]
        if secret_generators:
            self.generated = k8s.core.v1.Secret(
                f"{name}-generated",
                metadata=meta,
                type="Opaque",
                string_data={g: generated(deploy, name, g) for g in secret_generators},
                opts=opts,
            )
        if plain_generators:
            self.config = k8s.core.v1.ConfigMap(
                f"{name}-config",
                metadata=meta,
                data={g: generated(deploy, name, g) for g in plain_generators},
                opts=opts,
            )

    @property
    def sources(self) -> manifests.Sources:
        return manifests.Sources(
            secrets=self.secret.metadata.name if self.secret else None,
            generated=self.generated.metadata.name if self.generated else None,
            config=self.config.metadata.name if self.config else None,
        )


class CatalogWorkload(pulumi.ComponentResource):
    """Deployment + Service (+ Secret, ConfigMap, PVCs; + HPA and PDB when highly available)."""

    TYPE: ClassVar[str] = "mcpstack:component:Workload"

    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        deploy: Deploy,
        *,
        highly_available: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.name = name
        self.deploy = deploy
        service = deploy.services[name]
        child = pulumi.ResourceOptions(parent=self)
        self.objects = ServiceObjects(self, deploy, name)
        self.claims = [
            k8s.core.v1.PersistentVolumeClaim(
                manifests.claim_name(name, volume.name),
                **resource_args(
                    manifests.claim(
                        service, volume, namespace=deploy.namespace, storage_class=deploy.settings.storage_class
                    )
                ),
                opts=child,
            )
            for volume in service.volumes
            if volume.persistent
        ]
        body = manifests.deployment(
            service,
            namespace=deploy.namespace,
            registry=deploy.settings.images,
            sources=self.objects.sources,
            runtime_class=deploy.runtime_class(name),
            highly_available=highly_available,
        )
        self.customize(body["spec"]["template"]["spec"])
        deployment_opts = child
        if highly_available:  # the autoscaler owns the replica count once running
            deployment_opts = pulumi.ResourceOptions(parent=self, ignore_changes=["spec.replicas"])
        self.deployment = k8s.apps.v1.Deployment(
            name,
            **resource_args(body),
            opts=pulumi.ResourceOptions.merge(deployment_opts, pulumi.ResourceOptions(depends_on=self.claims)),
        )
        self.service = k8s.core.v1.Service(
            name, **resource_args(manifests.service_object(service, namespace=deploy.namespace)), opts=child
        )
        self.autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | None = None
        self.disruption_budget: k8s.policy.v1.PodDisruptionBudget | None = None
        if highly_available:
            self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                name,
                **resource_args(
                    manifests.autoscaler(
                        service,
                        namespace=deploy.namespace,
                        max_replicas=deploy.settings.max_replicas,
                        cpu_percent=deploy.settings.target_cpu_percent,
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]),
            )
            self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
                name,
                **resource_args(
                    manifests.disruption_budget(
                        name,
                        namespace=deploy.namespace,
                        environment=deploy.environment,
                        pod_labels=manifests.selector(name),
                    )
                ),
                opts=child,
            )
        self.extras()
        self.service_name = self.service.metadata.name
        port = service.ports[0].port if service.ports else 0
        self.url = self.service.metadata.name.apply(lambda svc: f"http://{svc}:{port}")
        self.register_outputs({"service_name": self.service_name, "url": self.url})

    def customize(self, pod: Obj) -> None:
        """Kind-specific changes to the pod spec (before the Deployment is created)."""

    def extras(self) -> None:
        """Kind-specific objects besides the Deployment and Service."""


class McpServer(CatalogWorkload):
    """An MCP server (ours, or GitHub's official one): reached only by the gateway."""

    TYPE = "mcpstack:component:McpServer"


class Gateway(CatalogWorkload):
    """The gateway (mcpo inside mcpstack's middleware), its generated config mounted from a Secret."""

    TYPE = "mcpstack:component:Gateway"


class OpenWebUI(CatalogWorkload):
    """Open WebUI on SQLite in a PersistentVolumeClaim (dev); tool servers from a Secret."""

    TYPE = "mcpstack:component:OpenWebUI"


class Redis(CatalogWorkload):
    TYPE = "mcpstack:component:Redis"


class Prometheus(CatalogWorkload):
    """Prometheus with the generated scrape config (a ConfigMap) and its TSDB on a claim."""

    TYPE = "mcpstack:component:Prometheus"


class GenericService(CatalogWorkload):
    TYPE = "mcpstack:component:Service"


def model_pull_name(llm: str) -> str:
    """The Job (and pod label) pulling an LLM service's models."""
    return f"{llm}-models"


class Ollama(CatalogWorkload):
    """Ollama with its models on a claim, and a Job that pulls the catalog's llm.models into it."""

    TYPE = "mcpstack:component:Ollama"

    def extras(self) -> None:
        service = self.deploy.catalog.services[self.name]
        assert isinstance(service, LlmService)
        self.model_pull = k8s.batch.v1.Job(
            model_pull_name(self.name),
            **resource_args(model_pull_job(self.deploy, self.name)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service], replace_on_changes=["spec"]),
        )


def model_pull_job(deploy: Deploy, name: str) -> Obj:
    """`ollama pull MODEL` for every catalog model, against the running server (OLLAMA_HOST)."""
    service = deploy.catalog.services[name]
    assert isinstance(service, LlmService)
    deployed = deploy.services[name]
    port = service.ports[0].port
    security = manifests.container_security(deployed)
    containers = [
        {
            "name": f"pull-{index}",
            "image": manifests.image_ref(deployed, deploy.settings.images),
            "imagePullPolicy": "IfNotPresent",
            "command": [(service.command or ["ollama"])[0], "pull", model],
            "env": [{"name": "OLLAMA_HOST", "value": f"http://{name}:{port}"}, {"name": "HOME", "value": "/tmp"}],  # noqa: S108 - a private emptyDir
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - a private emptyDir
            "securityContext": security,
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
        }
        for index, model in enumerate(service.llm.models)
    ]
    job = model_pull_name(name)
    pod_labels = manifests.labels(job, deploy.environment)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job, "namespace": deploy.namespace, "labels": pod_labels},
        "spec": {
            "backoffLimit": 20,  # retried until the server answers
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": manifests.pod_security(deployed),
                    "containers": containers,
                    "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": manifests.TMPFS_SIZE}}],
                },
            },
        },
    }


class Grafana(CatalogWorkload):
    """Grafana with the generated datasource and the catalog's dashboards provisioned from ConfigMaps."""

    TYPE = "mcpstack:component:Grafana"

    def customize(self, pod: Obj) -> None:
        service = self.deploy.catalog.services[self.name]
        assert isinstance(service, GrafanaService)
        self.dashboards: k8s.core.v1.ConfigMap | None = None
        if not service.grafana.dashboards:
            return
        files = dashboard_files(self.deploy.settings.config_dir, service.grafana.dashboards)
        meta = {"namespace": self.deploy.namespace, "labels": manifests.service_labels(self.deploy.services[self.name])}
        self.dashboards = k8s.core.v1.ConfigMap(
            f"{self.name}-dashboards",
            metadata=meta,
            data={**files, "provider.yaml": dashboard_provider()},
            opts=pulumi.ResourceOptions(parent=self),
        )
        pod["volumes"].append(
            {"name": "dashboards", "configMap": {"name": self.dashboards.metadata.name, "defaultMode": 0o444}}
        )
        mounts = pod["containers"][0]["volumeMounts"]
        mounts.append({"name": "dashboards", "mountPath": DASHBOARDS_PATH, "readOnly": True})
        mounts.append(
            {"name": "dashboards", "mountPath": DASHBOARD_PROVIDER_PATH, "subPath": "provider.yaml", "readOnly": True}
        )


def dashboard_provider() -> str:
    document = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "mcpstack",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "options": {"path": DASHBOARDS_PATH},
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


class DashboardError(ValueError):
    pass


def dashboard_files(config_dir: Path, listed: list[str]) -> dict[str, str]:
    """ConfigMap data of the catalog's dashboards: file name -> JSON (checked to parse)."""
    files: dict[str, str] = {}
    for relative in listed:
        path = config_dir / relative
        if not path.is_file():
            raise DashboardError(f"grafana.dashboards: {relative} does not exist under {config_dir}")
        text = path.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise DashboardError(f"grafana.dashboards: {relative} is not JSON: {exc}") from None
        if path.name in files:
            raise DashboardError(f"grafana.dashboards: two dashboards are named {path.name}")
        files[path.name] = text
    return files


KIND_COMPONENTS: dict[str, type[CatalogWorkload]] = {
    "mcp-server": McpServer,
    "gateway": Gateway,
    "open-webui": OpenWebUI,
    "llm": Ollama,
    "prometheus": Prometheus,
    "grafana": Grafana,
    "redis": Redis,
    "service": GenericService,
}


def resource_args(body: Obj) -> Obj:
    """A manifest as resource arguments (apiVersion and kind are the resource type's)."""
    return {key: value for key, value in body.items() if key not in ("apiVersion", "kind")}
