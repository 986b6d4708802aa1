"""The prod stack's Helm releases: Open WebUI, Ollama, and monitoring (kube-prometheus-stack).

Every chart is a `helm.v3.Release`: Helm itself installs it, so chart hooks (kube-prometheus-stack's
admission-webhook certificate Jobs) run as they would with `helm install`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra import charts, manifests
from infra.components.context import Deploy
from infra.components.network import AppNamespace
from infra.components.workload import ServiceObjects, dashboard_files, resource_args
from infra.network import database_egress, helper_policy
from mcpstack.catalog.models import GrafanaService, PrometheusService

Obj = dict[str, Any]


def release(
    name: str, chart: charts.Chart, *, namespace: Any, values: Obj, parent: pulumi.Resource, depends_on: list[Any]
) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name,
        name=chart.release,
        chart=chart.name,
        version=chart.version,
        repository_opts={"repo": chart.repository},
        namespace=namespace,
        values=values,
        atomic=False,
        cleanup_on_fail=True,
        wait_for_jobs=True,
        timeout=900,
        max_history=10,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )


def keep_secrets(secret_names: set[str]) -> pulumi.ResourceTransformation:
    """Children Secrets named so are kept in the cluster when Pulumi deletes them (destroy, or a
    rotation's replacement): `retain_on_delete`."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ == "kubernetes:core/v1:Secret" and args.name in secret_names:
            return pulumi.ResourceTransformationResult(
                args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True))
            )
        return None

    return transformation


class OpenWebUIRelease(pulumi.ComponentResource):
    """Open WebUI from its official chart: several replicas on one PostgreSQL (pgvector), Redis for
    websockets, one signing key, a shared ReadWriteMany volume, tool servers from a Secret.

    First install and upgrades: a Job runs the database migrations once (its own NetworkPolicy first:
    DNS and the database); the release waits for it, and the replicas start with migrations off.
    With `protect`, the data claim is protected and the Secret holding DATABASE_URL is retained."""

    release_name: pulumi.Output[str]

    def __init__(self, name: str, deploy: Deploy, *, opts: pulumi.ResourceOptions | None = None) -> None:
        settings = deploy.settings
        if settings.protect:
            keep = pulumi.ResourceOptions(transformations=[keep_secrets({f"{name}-secrets"})])
            opts = pulumi.ResourceOptions.merge(opts, keep)
        super().__init__("mcpstack:component:OpenWebUIRelease", name, None, opts)
        catalog = deploy.catalog
        child = pulumi.ResourceOptions(parent=self)
        self.objects = ServiceObjects(self, deploy, name)
        claim_body = charts.open_webui_data_claim(
            catalog, name, namespace=deploy.namespace, storage_class=settings.shared_storage_class
        )
        self.data_claim = None
        if claim_body is not None:
            self.data_claim = k8s.core.v1.PersistentVolumeClaim(
                claim_body["metadata"]["name"],
                **resource_args(claim_body),
                opts=pulumi.ResourceOptions(parent=self, protect=settings.protect, retain_on_delete=settings.protect),
            )
        self.redis_secret = self._redis_secret(deploy, name)
        values = charts.open_webui_values(
            catalog,
            name,
            registry=settings.images,
            sources=self.objects.sources,
            shared_storage_class=settings.shared_storage_class,
            ingress_host=settings.ingress_host,
            ingress_class=settings.ingress_class,
            ingress_tls_secret=settings.ingress_tls_secret,
            runtime_class=deploy.runtime_class(name),
            data_claim=claim_body["metadata"]["name"] if claim_body else "",
            redis_secret=self.redis_secret.metadata.name if self.redis_secret else "",
        )
        objects = (self.objects.secret, self.objects.generated, self.objects.config, self.redis_secret)
        needed = [o for o in objects if o is not None]
        job = charts.migrations_name(name)
        self.migrations_policy = k8s.networking.v1.NetworkPolicy(
            f"netpol-{job}",
            **resource_args(
                helper_policy(
                    job,
                    deploy.namespace,
                    deploy.environment,
                    database_egress(settings.database_cidr, settings.database_port),
                )
            ),
            opts=child,
        )
        self.migrations = k8s.batch.v1.Job(
            job,
            **resource_args(
                charts.open_webui_migrations(
                    catalog,
                    name,
                    registry=settings.images,
                    sources=self.objects.sources,
                    namespace=deploy.namespace,
                    runtime_class=deploy.runtime_class(name),
                )
            ),
            # a new image (or environment) is a new Job: the migrations run again before the upgrade
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*needed, self.migrations_policy], replace_on_changes=["spec"]
            ),
        )
        claims = [self.data_claim] if self.data_claim is not None else []
        self.release = release(
            name,
            charts.OPEN_WEBUI,
            namespace=deploy.namespace,
            values=values,
            parent=self,
            depends_on=[*needed, *claims, self.migrations],
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            name,
            **resource_args(
                manifests.disruption_budget(
                    name,
                    namespace=deploy.namespace,
                    environment=deploy.environment,
                    pod_labels=charts.open_webui_pod_selector(),
                )
            ),
            opts=child,
        )
        self.release_name = self.release.name
        self.register_outputs({"release_name": self.release_name})

    def _redis_secret(self, deploy: Deploy, name: str) -> k8s.core.v1.Secret | None:
        """The Secret holding Open WebUI's Redis URL with the Redis password (the chart reads it through
        websocket.existingSecret); none without open_webui.redis."""
        password = charts.open_webui_redis_password(deploy.catalog, name)
        if password is None:
            return None
        url = deploy.secret(password).apply(lambda value: charts.open_webui_redis_url(deploy.catalog, name, value))
        return k8s.core.v1.Secret(
            f"{name}-redis",
            metadata={"namespace": deploy.namespace, "labels": manifests.service_labels(deploy.services[name])},
            type="Opaque",
            string_data={charts.REDIS_URL_KEY: pulumi.Output.secret(url)},
            opts=pulumi.ResourceOptions(parent=self),
        )


class OllamaRelease(pulumi.ComponentResource):
    """Ollama from the otwld chart: a GPU, the catalog's models pulled at start, models on a claim."""

    release_name: pulumi.Output[str]

    def __init__(self, name: str, deploy: Deploy, *, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mcpstack:component:OllamaRelease", name, None, opts)
        settings = deploy.settings
        values = charts.ollama_values(
            deploy.catalog,
            name,
            gpus=settings.ollama_gpus,
            gpu_type=settings.ollama_gpu_type,
            storage_class=settings.storage_class,
            runtime_class=deploy.runtime_class(name),
        )
        self.release = release(
            name, charts.OLLAMA, namespace=deploy.namespace, values=values, parent=self, depends_on=[]
        )
        self.release_name = self.release.name
        self.register_outputs({"release_name": self.release_name})


class Monitoring(pulumi.ComponentResource):
    """kube-prometheus-stack in its own namespace, plus what makes it watch the platform: a
    ServiceMonitor per service with metrics, the catalog's Grafana dashboards as ConfigMaps for the
    sidecar, and its Prometheus rule files as PrometheusRules."""

    namespace: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        deploy: Deploy,
        *,
        monitored: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mcpstack:component:Monitoring", name, None, opts)
        catalog = deploy.catalog
        settings = deploy.settings
        prometheus = next(n for n, s in catalog.services.items() if isinstance(s, PrometheusService))
        prometheus_service = catalog.services[prometheus]
        assert isinstance(prometheus_service, PrometheusService)
        grafana = next((n for n, s in catalog.services.items() if isinstance(s, GrafanaService)), None)
        # kube-prometheus-stack runs node-exporter on the host network: not a "restricted" namespace,
        # and it brings its own NetworkPolicies where it needs them.
        self.ns = AppNamespace(
            settings.monitoring_namespace,
            environment=deploy.environment,
            restricted=False,
            deny_by_default=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = self.ns.name
        child = pulumi.ResourceOptions(parent=self)
        admin_secret = self._grafana_admin(deploy, grafana)
        values = charts.kube_prometheus_stack_values(
            catalog,
            prometheus,
            grafana,
            grafana_admin_secret=admin_secret.metadata.name if admin_secret else "",
            storage_class=settings.storage_class,
        )
        self.release = release(
            name,
            charts.KUBE_PROMETHEUS_STACK,
            namespace=self.namespace,
            values=values,
            parent=self,
            depends_on=[admin_secret] if admin_secret else [],
        )
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        self.service_monitors = [
            custom_resource(
                f"monitor-{service}", charts.service_monitor(catalog, service, namespace=deploy.namespace), after_crds
            )
            for service in monitored
            if catalog.services[service].metrics is not None
        ]
        self.dashboards = []
        if isinstance(grafana_service := catalog.services.get(grafana or ""), GrafanaService):
            for file_name, content in dashboard_files(settings.config_dir, grafana_service.grafana.dashboards).items():
                self.dashboards.append(
                    k8s.core.v1.ConfigMap(
                        f"dashboard-{Path(file_name).stem}",
                        metadata={
                            "namespace": self.namespace,
                            "labels": {
                                **manifests.labels(grafana or "grafana", deploy.environment),
                                charts.DASHBOARD_LABEL[0]: charts.DASHBOARD_LABEL[1],
                            },
                            "annotations": {"grafana_folder": "mcpstack"},
                        },
                        data={file_name: content},
                        opts=child,
                    )
                )
        self.rules = [
            k8s.apiextensions.CustomResource(
                f"rules-{Path(relative).stem}",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata={
                    "namespace": self.namespace,
                    "labels": {**manifests.labels(prometheus, deploy.environment), **charts.MONITOR_LABELS},
                },
                spec=rule_file(settings.config_dir, relative),
                opts=after_crds,
            )
            for relative in prometheus_service.prometheus.rule_files
        ]
        self.register_outputs({"namespace": self.namespace})

    def _grafana_admin(self, deploy: Deploy, grafana: str | None) -> k8s.core.v1.Secret | None:
        if grafana is None:
            return None
        ref = next((r for r in deploy.catalog.services[grafana].secrets if r.env == "GF_SECURITY_ADMIN_PASSWORD"), None)
        if ref is None:
            return None
        return k8s.core.v1.Secret(
            f"{grafana}-admin",
            metadata={"namespace": self.namespace, "labels": manifests.labels(grafana, deploy.environment)},
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": deploy.secret(ref.secret)},
            opts=pulumi.ResourceOptions(parent=self),
        )


class RuleFileError(ValueError):
    pass


def rule_file(config_dir: Path, relative: str) -> Obj:
    """A Prometheus rule file (`groups: [...]`) as a PrometheusRule spec."""
    path = config_dir / relative
    if not path.is_file():
        raise RuleFileError(f"prometheus.rule_files: {relative} does not exist under {config_dir}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleFileError(f"prometheus.rule_files: {relative} is not YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise RuleFileError(f"prometheus.rule_files: {relative} must hold `groups: [...]`")
    return {"groups": document["groups"]}


def custom_resource(name: str, body: Obj, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name, api_version=body["apiVersion"], kind=body["kind"], metadata=body["metadata"], spec=body["spec"], opts=opts
    )
