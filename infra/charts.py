"""The official Helm charts of the prod stack, pinned, and their values derived from the catalog.

Chart versions and repositories (docs/deploy.md, "Upgrading chart versions"):
- open-webui 16.0.0 (app 0.11.0), https://helm.openwebui.com/ - we run our own image of Open WebUI
  0.12.4 (catalog `open-webui`) and configure it through its environment, as locally.
- ollama 1.77.0 (app 0.32.15), https://otwld.github.io/ollama-helm/ - the catalog pins that appVersion.
- kube-prometheus-stack 88.5.3 (operator v0.93.1), https://prometheus-community.github.io/helm-charts,
  bundling the grafana chart 12.11.1 (Grafana 13.2.0, the catalog's pin).
Values only use keys read in those versions' values.yaml and templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from infra.manifests import (
    Sources,
    container_security,
    env_vars,
    image_ref,
    labels,
    pod_security,
    probe_action,
    pull_secrets,
    resources,
    selector,
    spread,
)
from mcpstack.catalog.models import (
    Catalog,
    GrafanaService,
    LlmService,
    OpenWebUIService,
    PrometheusService,
    RedisService,
)
from mcpstack.deployment import describe_service
from mcpstack.deployment.images import ImageSource
from mcpstack.generate.grafana import DATASOURCE_UID

Obj = dict[str, Any]


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repository: str
    app_version: str
    release: str  # release name: the chart's objects are named after it (fullnameOverride where it exists)


OPEN_WEBUI = Chart("open-webui", "16.0.0", "https://helm.openwebui.com/", "0.11.0", "open-webui")
OLLAMA = Chart("ollama", "1.77.0", "https://otwld.github.io/ollama-helm/", "0.32.15", "ollama")
KUBE_PROMETHEUS_STACK = Chart(
    "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts", "v0.93.1", "kps"
)
CHARTS = (OPEN_WEBUI, OLLAMA, KUBE_PROMETHEUS_STACK)

# kube-prometheus-stack: the Prometheus it runs selects ServiceMonitors and PrometheusRules carrying
# `release: <release name>` (serviceMonitorSelectorNilUsesHelmValues, ruleSelectorNilUsesHelmValues),
# and its Grafana's sidecar loads every ConfigMap labelled grafana_dashboard=1, in every namespace.
MONITOR_LABELS = {"release": KUBE_PROMETHEUS_STACK.release}
DASHBOARD_LABEL = ("grafana_dashboard", "1")
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}  # set by the operator on Prometheus pods
CHART_MANAGED_ENV = ("GF_PATHS_",)  # Grafana's paths are the chart's

# Open WebUI 0.12.4 runs its Alembic migrations when `open_webui.config` is imported, with no lock,
# unless ENABLE_DB_MIGRATIONS=false (open_webui/env.py). The replicas start with it off; one Job,
# which the release waits for, imports that module with it on and exits.
MIGRATIONS_ENV = "ENABLE_DB_MIGRATIONS"
REDIS_URL_KEY = "redis-url"  # key of Open WebUI's Redis URL in the Secret websocket.existingSecret names
MIGRATIONS_COMMAND = ("python", "-c", "import open_webui.config")


def tmpfs_volumes(paths: list[str], size: str) -> tuple[list[Obj], list[Obj]]:
    volumes = [{"name": f"tmpfs-{i}", "emptyDir": {"medium": "Memory", "sizeLimit": size}} for i in range(len(paths))]
    mounts = [{"name": f"tmpfs-{i}", "mountPath": p} for i, p in enumerate(paths)]
    return volumes, mounts


def pod_labels(service: str, environment: str) -> dict[str, str]:
    found = labels(service, environment)
    found.pop("app.kubernetes.io/name")  # the charts set their own
    found.pop("app.kubernetes.io/managed-by")
    return found


def open_webui_pod_selector() -> dict[str, str]:
    """Labels the open-webui chart puts on its pods (base.selectorLabels + component)."""
    return {"app.kubernetes.io/instance": OPEN_WEBUI.release, "app.kubernetes.io/component": OPEN_WEBUI.name}


def open_webui_values(
    catalog: Catalog,
    name: str,
    *,
    registry: ImageSource,
    sources: Sources,
    shared_storage_class: str,
    ingress_host: str,
    ingress_class: str,
    ingress_tls_secret: str,
    runtime_class: str | None,
    data_claim: str = "",
    redis_secret: Any = "",
) -> Obj:
    """The open-webui chart's values. `data_claim`: a claim of ours (protected) the chart mounts as
    `persistence.existingClaim` instead of making its own; `redis_secret`: the Secret holding its Redis URL
    (`REDIS_URL_KEY`), needed when open_webui.redis names one."""
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService)
    deployed = describe_service(catalog, name)
    repository, _, tag = image_ref(deployed, registry).rpartition(":")
    volumes, mounts = tmpfs_volumes(service.security.tmpfs, service.security.tmpfs_size)
    data = service.volumes[0] if service.volumes else None
    values: Obj = {
        "fullnameOverride": name,  # the Service is named after the catalog service
        "ollama": {"enabled": False},  # Ollama is its own release
        "pipelines": {"enabled": False},
        "tika": {"enabled": False},
        "terminals": {"enabled": False},
        # The LLM endpoint and API switches come from the catalog (derived env), as locally:
        "ollamaUrlsFromExtraEnv": True,
        "enableOpenaiApi": True,
        "openaiBaseApiUrl": "",
        "openaiApiKey": "",
        "replicaCount": service.replicas,
        "workload": {"kind": "Deployment"},
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "command": list(service.command or []),
        # The chart seeds the volume from the image's data directory; ours ships it empty (and sh's
        # `dir/*` would not match), so copy the directory itself.
        "copyAppData": {
            "command": ["sh", "-c", f"cp -R -n {data.path if data else '/app/backend/data'}/. /tmp/app-data/"],
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
        },
        "serviceAccount": {"enable": True, "create": True, "automountServiceAccountToken": False},
        "podSecurityContext": pod_security(deployed),
        "containerSecurityContext": container_security(deployed),
        "resources": resources(deployed),
        "service": {"type": "ClusterIP", "port": service.ports[0].port, "containerPort": service.ports[0].port},
        "persistence": {
            "enabled": data is not None,
            "size": data.size if data else "1Gi",
            "accessModes": ["ReadWriteMany"] if service.replicas > 1 else ["ReadWriteOnce"],
            "storageClass": shared_storage_class,
            "provider": "local",
            "existingClaim": data_claim,
        },
        "websocket": _websocket(service, redis_secret),
        # migrations run once, in the migrations Job the release waits for
        "extraEnvVars": [*env_vars(deployed, sources), {"name": MIGRATIONS_ENV, "value": "false"}],
        "volumes": volumes,
        "volumeMounts": {"container": mounts, "initContainer": []},
        "podLabels": pod_labels(name, catalog.environment),
        "ingress": {
            "enabled": bool(ingress_host),
            "class": ingress_class,
            "host": ingress_host,
            "tls": bool(ingress_tls_secret),
            "existingSecret": ingress_tls_secret,
        },
    }
    if service.replicas > 1:
        values["topologySpreadConstraints"] = [
            {**constraint, "labelSelector": {"matchLabels": open_webui_pod_selector()}}
            for constraint in spread(name)["topologySpreadConstraints"]
        ]
    live, ready = deployed.health.live, deployed.health.ready
    if live and ready:
        values["startupProbe"] = {**probe_action(live), "periodSeconds": 2, "failureThreshold": 90}
        values["livenessProbe"] = {**probe_action(live), "periodSeconds": 10, "failureThreshold": 3}
        values["readinessProbe"] = {**probe_action(ready), "periodSeconds": 5, "failureThreshold": 3}
    if runtime_class:
        values["runtimeClassName"] = runtime_class
    if pull_secrets(deployed, registry):
        values["imagePullSecrets"] = pull_secrets(deployed, registry)
    return values


def migrations_name(name: str) -> str:
    """The Job (and pod label) running Open WebUI's database migrations."""
    return f"{name}-migrations"


def open_webui_migrations(
    catalog: Catalog, name: str, *, registry: ImageSource, sources: Sources, namespace: Any, runtime_class: str | None
) -> Obj:
    """A Job running Open WebUI's migrations once, in its image with its environment (database,
    keys) and ENABLE_DB_MIGRATIONS=true; scratch space on emptyDirs (the root filesystem is read-only)."""
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService)
    deployed = describe_service(catalog, name)
    job = migrations_name(name)
    volumes, mounts = tmpfs_volumes(service.security.tmpfs, service.security.tmpfs_size)
    data_path = service.volumes[0].path if service.volumes else "/app/backend/data"
    volumes.append({"name": "data", "emptyDir": {"sizeLimit": "1Gi"}})
    mounts.append({"name": "data", "mountPath": data_path})
    env = [e for e in env_vars(deployed, sources) if e["name"] != MIGRATIONS_ENV]
    pod_labels = labels(job, catalog.environment)
    spec: Obj = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(deployed),
        "containers": [
            {
                "name": "migrations",
                "image": image_ref(deployed, registry),
                "imagePullPolicy": "IfNotPresent",
                "command": list(MIGRATIONS_COMMAND),
                "env": [*env, {"name": MIGRATIONS_ENV, "value": "true"}],
                "securityContext": container_security(deployed),
                "resources": resources(deployed),
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }
    if runtime_class:
        spec["runtimeClassName"] = runtime_class
    if pull_secrets(deployed, registry):
        spec["imagePullSecrets"] = pull_secrets(deployed, registry)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job, "namespace": namespace, "labels": pod_labels},
        "spec": {
            "backoffLimit": 3,  # e.g. the database not reachable yet
            "activeDeadlineSeconds": 1800,
            "template": {"metadata": {"labels": pod_labels}, "spec": spec},
        },
    }


def open_webui_data_claim(catalog: Catalog, name: str, *, namespace: Any, storage_class: str) -> Obj | None:
    """Open WebUI's data claim, ours rather than the chart's so that it can be protected: ReadWriteMany
    when several replicas share it."""
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService)
    if not service.volumes:
        return None
    spec: Obj = {
        "accessModes": ["ReadWriteMany"] if service.replicas > 1 else ["ReadWriteOnce"],
        "resources": {"requests": {"storage": service.volumes[0].size}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{name}-data", "namespace": namespace, "labels": labels(name, catalog.environment)},
        "spec": spec,
    }


def _websocket(service: OpenWebUIService, redis_secret: Any) -> Obj:
    if not service.open_webui.redis:  # one replica: the in-process manager
        return {"enabled": True, "manager": "", "redis": {"enabled": False}}
    # The URL carries Redis' password: the chart reads it (REDIS_URL, WEBSOCKET_REDIS_URL) from our Secret
    # (templates/workload-manager.yaml, websocket.existingSecret), never from a value.
    return {
        "enabled": True,
        "manager": "redis",
        "existingSecret": redis_secret,
        "existingSecretKey": REDIS_URL_KEY,
        "redis": {"enabled": False},
    }


def open_webui_redis_url(catalog: Catalog, name: str, password: str) -> str:
    """Open WebUI's Redis URL with the password (`REDIS_URL_KEY` of the Secret `websocket.existingSecret`
    names); db 1: the gateway's rate-limit buckets use db 0 of the same Redis."""
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService) and service.open_webui.redis
    redis = catalog.services[service.open_webui.redis]
    assert isinstance(redis, RedisService)
    return f"redis://:{quote(password, safe='')}@{service.open_webui.redis}:{redis.ports[0].port}/1"


def open_webui_redis_password(catalog: Catalog, name: str) -> str | None:
    """The catalog secret Open WebUI authenticates to its Redis with; None without Redis."""
    service = catalog.services[name]
    assert isinstance(service, OpenWebUIService)
    redis = catalog.services.get(service.open_webui.redis or "")
    return redis.redis.password if isinstance(redis, RedisService) else None


def ollama_values(
    catalog: Catalog, name: str, *, gpus: int, gpu_type: str, storage_class: str, runtime_class: str | None
) -> Obj:
    service = catalog.services[name]
    assert isinstance(service, LlmService)
    deployed = describe_service(catalog, name)
    port = service.ports[0].port
    models = service.volumes[0] if service.volumes else None
    volumes, mounts = tmpfs_volumes(service.security.tmpfs, service.security.tmpfs_size)
    # The chart sets OLLAMA_HOST itself (0.0.0.0:<port>, the catalog's value) and runs the image's
    # entrypoint, /bin/ollama serve (the catalog's command).
    extra_env = [{"name": k, "value": v} for k, v in sorted(service.env.items()) if k != "OLLAMA_HOST"]
    values: Obj = {
        "fullnameOverride": name,
        "image": {"repository": service.image.repository, "tag": service.image.tag, "pullPolicy": "IfNotPresent"},
        "ollama": {
            "port": port,
            "gpu": {"enabled": gpus > 0, "type": gpu_type, "number": max(gpus, 1)},
            "models": {"pull": list(service.llm.models), "run": []},
            "mountPath": models.path if models else "",
        },
        "extraEnv": extra_env,
        "serviceAccount": {"create": True, "automount": False},
        "podLabels": pod_labels(name, catalog.environment),
        "podSecurityContext": pod_security(deployed),
        "securityContext": container_security(deployed),
        "resources": resources(deployed),
        "service": {"type": "ClusterIP", "port": port},
        "persistentVolume": {
            "enabled": models is not None,
            "size": models.size if models else "1Gi",
            "accessModes": ["ReadWriteOnce"],
            "storageClass": storage_class,
        },
        "volumes": volumes,
        "volumeMounts": mounts,
        "updateStrategy": {"type": "Recreate"},  # one ReadWriteOnce volume of models
        "tests": {"enabled": False},  # its test pod is an unhardened busybox
    }
    if service.health and service.health.path:
        values["livenessProbe"] = {"enabled": True, "path": service.health.path}
        values["readinessProbe"] = {"enabled": True, "path": (service.ready or service.health).path or "/"}
    if runtime_class:
        values["runtimeClassName"] = runtime_class
    return values


def retention(prometheus: PrometheusService, default: str = "10d") -> str:
    for arg in prometheus.command or []:
        if match := re.fullmatch(r"--storage\.tsdb\.retention\.time=(\S+)", arg):
            return match.group(1)
    return default


def kube_prometheus_stack_values(
    catalog: Catalog,
    prometheus_name: str,
    grafana_name: str | None,
    *,
    grafana_admin_secret: Any,
    storage_class: str,
) -> Obj:
    prometheus = catalog.services[prometheus_name]
    assert isinstance(prometheus, PrometheusService)
    storage: Obj = {}
    if prometheus.volumes:
        spec: Obj = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": prometheus.volumes[0].size}},
        }
        if storage_class:
            spec["storageClassName"] = storage_class
        storage = {"volumeClaimTemplate": {"spec": spec}}
    values: Obj = {
        "fullnameOverride": KUBE_PROMETHEUS_STACK.release,
        "crds": {"enabled": True},
        "prometheus": {
            "prometheusSpec": {
                "scrapeInterval": prometheus.prometheus.scrape_interval,
                "evaluationInterval": prometheus.prometheus.evaluation_interval,
                "retention": retention(prometheus),
                "externalLabels": {"environment": catalog.environment},  # as the generated scrape config
                "resources": resources(describe_service(catalog, prometheus_name)),
                "storageSpec": storage,
                # our ServiceMonitors and PrometheusRules carry MONITOR_LABELS, in any namespace
                "serviceMonitorSelectorNilUsesHelmValues": True,
                "serviceMonitorNamespaceSelector": {},
                "ruleSelectorNilUsesHelmValues": True,
                "ruleNamespaceSelector": {},
            }
        },
        # The operator's admission webhook certificates come from Helm hook Jobs: helm.v3.Release runs them.
        "prometheusOperator": {"admissionWebhooks": {"enabled": True}},
        "grafana": {"enabled": grafana_name is not None},
    }
    if grafana_name is not None:
        grafana = catalog.services[grafana_name]
        assert isinstance(grafana, GrafanaService)
        data = grafana.volumes[0] if grafana.volumes else None
        values["grafana"] |= {
            "image": {
                "registry": _registry_of(grafana.image.repository),
                "repository": _path_of(grafana.image.repository),
                "tag": grafana.image.tag,
            },
            "admin": {"existingSecret": grafana_admin_secret, "userKey": "admin-user", "passwordKey": "admin-password"},
            "env": {k: v for k, v in sorted(grafana.env.items()) if not k.startswith(CHART_MANAGED_ENV)},
            "resources": resources(describe_service(catalog, grafana_name)),
            "persistence": _grafana_persistence(data.size if data else None, storage_class),
            # one ReadWriteOnce claim: a rolling update's new pod could never mount it while the old one runs
            "deploymentStrategy": {"type": "Recreate"},
            "initChownData": {"enabled": False},  # runs as root; fsGroup owns the volume instead
            "testFramework": {"enabled": False},
            "defaultDashboardsEnabled": True,
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": DASHBOARD_LABEL[0],
                    "labelValue": DASHBOARD_LABEL[1],
                    "searchNamespace": "ALL",
                    "folderAnnotation": "grafana_folder",
                    "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
                },
                # the datasource uid the catalog's dashboards refer to (mcpstack.generate.grafana)
                "datasources": {
                    "enabled": True,
                    "uid": DATASOURCE_UID,
                    "name": "Prometheus",
                    "isDefaultDatasource": True,
                },
            },
        }
    return values


def _grafana_persistence(size: str | None, storage_class: str) -> Obj:
    persistence: Obj = {"enabled": size is not None, "size": size or "1Gi"}
    if storage_class:
        persistence["storageClassName"] = storage_class
    return persistence


def _registry_of(repository: str) -> str:
    first = repository.split("/", maxsplit=1)[0]
    return first if "." in first or ":" in first else "docker.io"


def _path_of(repository: str) -> str:
    first, _, rest = repository.partition("/")
    return rest if ("." in first or ":" in first) and rest else repository


def service_monitor(catalog: Catalog, name: str, *, namespace: Any) -> Obj:
    service = catalog.services[name]
    assert service.metrics is not None
    prometheus = next(s for s in catalog.services.values() if isinstance(s, PrometheusService))
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**labels(name, catalog.environment), **MONITOR_LABELS},
        },
        "spec": {
            "selector": {"matchLabels": selector(name)},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [
                {
                    "port": service.metrics.port,
                    "path": service.metrics.path,
                    "interval": prometheus.prometheus.scrape_interval,
                    "scheme": "http",
                }
            ],
        },
    }
