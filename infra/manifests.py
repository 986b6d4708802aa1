"""Kubernetes objects for a deployed service, as plain dicts (the API's own field names).

Pure functions of a DeployedService (mcpstack.deployment) and the stack settings: the components in
infra/components pass these to pulumi_kubernetes, the policy checks read the same shapes back, and the
parity test holds them and the local Docker runtime's containers (mcpstack.local.spec) against the one
DeployedService both render. Only what is particular to Kubernetes is decided here. Names of Secrets
and ConfigMaps may be Pulumi Outputs (auto-named objects); everything else is a plain value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mcpstack.catalog.models import ServiceBase
from mcpstack.deployment import DeployedService, Probe, Timing, Volume
from mcpstack.deployment import labels as scheme
from mcpstack.deployment.images import ImageSource

LABEL_SERVICE = scheme.SERVICE
LABEL_ENVIRONMENT = scheme.ENVIRONMENT
PART_OF = "mcpstack"
TMPFS_SIZE = "64Mi"  # scratch space of helper pods (the catalog's services: security.tmpfs_size)
SECCOMP_DIR = "mcpstack"  # Localhost profiles: <kubelet root>/seccomp/mcpstack/<file> on every node
SECRET_FILE_MODE = 0o440  # owner root, group fsGroup: readable by the service's group only
CONFIG_FILE_MODE = 0o444
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
OUR_SERVICE_KINDS = ("mcp-server", "gateway")  # "our services": HA in prod, memory limit <= 512Mi

Obj = dict[str, Any]


@dataclass(frozen=True)
class Sources:
    """Objects a service's pod reads its secrets and generated files from (absent: none needed)."""

    secrets: Any = None  # Secret: key = catalog secret name
    generated: Any = None  # Secret: key = generator name (generators marked secret)
    config: Any = None  # ConfigMap: key = generator name (the others)


def selector(service: str) -> dict[str, str]:
    return scheme.selector(service)


def recommended_labels(name: str) -> dict[str, str]:
    """Kubernetes' recommended labels (app.kubernetes.io/*), on top of mcpstack's own scheme."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def labels(service: str, environment: str) -> dict[str, str]:
    """Labels of an object belonging to `service` (or of a helper such as a Job, named like one)."""
    return {**recommended_labels(service), **scheme.service_labels(service, environment)}


def service_labels(service: DeployedService) -> dict[str, str]:
    return {**recommended_labels(service.name), **service.labels}


def image_ref(service: DeployedService, registry: ImageSource) -> str:
    """Images built from this repository come from the stack's registry, by the digest pushed there (local
    names without a registry); third-party images are pulled as named."""
    return registry.ref(service.image) if service.built_here else service.image


def pull_secrets(service: DeployedService, registry: ImageSource) -> list[Obj]:
    """`imagePullSecrets` of a pod running an image built here: the stack's pull Secret, if any."""
    return [{"name": registry.pull_secret}] if service.built_here and registry.pull_secret else []


def is_our_service(service: ServiceBase | DeployedService) -> bool:
    return service.kind in OUR_SERVICE_KINDS


def secret_names(service: DeployedService) -> list[str]:
    return sorted({ref.secret for ref in service.secrets})


def generators_used(service: DeployedService) -> list[str]:
    return sorted(service.generated)


def env_vars(service: DeployedService, sources: Sources) -> list[Obj]:
    entries: dict[str, Obj] = {var: {"name": var, "value": value} for var, value in service.env.items()}
    for ref in service.secrets:
        if ref.env:
            entries[ref.env] = {
                "name": ref.env,
                "valueFrom": {"secretKeyRef": {"name": sources.secrets, "key": ref.secret}},
            }
    for var, content in service.generated_env.items():
        if content.secret:
            source = {"secretKeyRef": {"name": sources.generated, "key": content.generator}}
        else:
            source = {"configMapKeyRef": {"name": sources.config, "key": content.generator}}
        entries[var] = {"name": var, "valueFrom": source}
    return [entries[var] for var in sorted(entries)]


def volume_name(volume: Volume) -> str:
    """Persistent volumes are `data-<name>`; scratch ones keep their own name (tmpfs-<index>)."""
    return f"data-{volume.name}" if volume.persistent else volume.name


def claim_name(service: str, volume: str) -> str:
    return f"{service}-{volume}"


def volume_mounts(service: DeployedService) -> list[Obj]:
    mounts: list[Obj] = []
    for ref in service.secrets:
        if ref.file:
            mounts.append({"name": "secrets", "mountPath": ref.file, "subPath": ref.secret, "readOnly": True})
    for path, content in service.files.items():
        source = "generated" if content.secret else "config"
        mounts.append({"name": source, "mountPath": path, "subPath": content.generator, "readOnly": True})
    for volume in service.volumes:
        mounts.append({"name": volume_name(volume), "mountPath": volume.path})
    return sorted(mounts, key=lambda m: m["mountPath"])


def pod_volumes(service: DeployedService, sources: Sources, claims: dict[str, Any] | None = None) -> list[Obj]:
    volumes: list[Obj] = []
    if any(ref.file for ref in service.secrets):
        volumes.append({"name": "secrets", "secret": {"secretName": sources.secrets, "defaultMode": SECRET_FILE_MODE}})
    if any(content.secret for content in service.files.values()):
        volumes.append(
            {"name": "generated", "secret": {"secretName": sources.generated, "defaultMode": SECRET_FILE_MODE}}
        )
    if any(not content.secret for content in service.files.values()):
        volumes.append({"name": "config", "configMap": {"name": sources.config, "defaultMode": CONFIG_FILE_MODE}})
    for volume in service.volumes:
        if volume.persistent:
            claim = (claims or {}).get(volume.name, claim_name(service.name, volume.name))
            volumes.append({"name": volume_name(volume), "persistentVolumeClaim": {"claimName": claim}})
        else:
            volumes.append({"name": volume_name(volume), "emptyDir": {"medium": "Memory", "sizeLimit": volume.size}})
    return volumes


def probe_action(probe: Probe) -> Obj:
    """A probe: HTTP GET when it has a path, a TCP connect otherwise."""
    if probe.path:
        return {"httpGet": {"path": probe.path, "port": probe.port}}
    return {"tcpSocket": {"port": probe.port}}


def timing(value: Timing) -> Obj:
    found: Obj = {"periodSeconds": value.period_seconds}
    if value.timeout_seconds is not None:
        found["timeoutSeconds"] = value.timeout_seconds
    return found | {"failureThreshold": value.failure_threshold}


def probes(service: DeployedService) -> Obj:
    health = service.health
    if health.live is None or health.ready is None:
        return {}
    return {
        "startupProbe": {**probe_action(health.live), **timing(health.startup)},
        "livenessProbe": {**probe_action(health.live), **timing(health.liveness)},
        "readinessProbe": {**probe_action(health.ready), **timing(health.readiness)},
    }


def resources(service: DeployedService) -> Obj:
    wanted = service.resources
    found: Obj = {}
    for part, cpu, memory in (
        ("requests", wanted.cpu_request, wanted.memory_request),
        ("limits", wanted.cpu_limit, wanted.memory_limit),
    ):
        values = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
        if values:
            found[part] = values
    return found


def seccomp_profile(service: DeployedService) -> Obj:
    """The runtime's default, or the catalog's own profile installed on the nodes as a Localhost profile."""
    path = service.security.seccomp_profile
    if path:
        return {"type": "Localhost", "localhostProfile": f"{SECCOMP_DIR}/{PurePosixPath(path).name}"}
    return {"type": "RuntimeDefault"}


def container_security(service: DeployedService) -> Obj:
    security = service.security
    context: Obj = {
        "runAsUser": security.user,
        "runAsGroup": security.group,
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": security.read_only_root,
        "allowPrivilegeEscalation": not security.no_new_privileges,
        "privileged": False,
        "capabilities": {"drop": list(security.drop_capabilities)},
        "seccompProfile": seccomp_profile(service),
    }
    if security.apparmor_profile:
        context["appArmorProfile"] = {"type": "Localhost", "localhostProfile": security.apparmor_profile}
    return context


def runtime_class(service: DeployedService, configured: str | None) -> str | None:
    """The stack's RuntimeClass for the service, else the catalog's OCI runtime (security.runtime) by name."""
    return configured or service.security.runtime


def pod_security(service: DeployedService) -> Obj:
    security = service.security
    context: Obj = {
        "runAsNonRoot": True,
        "runAsUser": security.user,
        "runAsGroup": security.group,
        "fsGroup": security.group,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if security.sysctls:
        context["sysctls"] = [{"name": k, "value": v} for k, v in sorted(security.sysctls.items())]
    return context


def container(service: DeployedService, registry: ImageSource, sources: Sources) -> Obj:
    spec: Obj = {
        "name": service.name,
        "image": image_ref(service, registry),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": "TCP"} for p in service.ports],
        "env": env_vars(service, sources),
        "volumeMounts": volume_mounts(service),
        "securityContext": container_security(service),
        "resources": resources(service),
        **probes(service),
    }
    if service.command:
        spec["command"] = list(service.command)
    return {k: v for k, v in spec.items() if v != []}


def spread(service: str) -> Obj:
    """Replicas on different nodes (and zones) where the cluster allows it."""
    match = {"matchLabels": selector(service)}
    return {
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": match,
            }
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": match},
                    }
                ]
            }
        },
    }


def pod_spec(
    service: DeployedService,
    *,
    registry: ImageSource,
    sources: Sources,
    runtime_class: str | None = None,
    highly_available: bool = False,
    claims: dict[str, Any] | None = None,
) -> Obj:
    spec: Obj = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,  # no *_SERVICE_HOST variables: the environment is the catalog's alone
        "terminationGracePeriodSeconds": 30,
        "securityContext": pod_security(service),
        "containers": [container(service, registry, sources)],
        "volumes": pod_volumes(service, sources, claims),
    }
    if runtime_class:
        spec["runtimeClassName"] = runtime_class
    if pull_secrets(service, registry):
        spec["imagePullSecrets"] = pull_secrets(service, registry)
    if highly_available:
        spec |= spread(service.name)
    return spec


def metadata(name: str, namespace: Any, environment: str, service: str | None = None) -> Obj:
    return {"name": name, "namespace": namespace, "labels": labels(service or name, environment)}


def service_metadata(service: DeployedService, namespace: Any, name: str | None = None) -> Obj:
    """Metadata of an object of the service's, labelled with the service's labels."""
    return {"name": name or service.name, "namespace": namespace, "labels": service_labels(service)}


def deployment(
    service: DeployedService,
    *,
    namespace: Any,
    registry: ImageSource,
    sources: Sources,
    runtime_class: str | None = None,
    highly_available: bool = False,
) -> Obj:
    if any(v.persistent for v in service.volumes):  # a ReadWriteOnce claim cannot be attached to two pods at once
        strategy: Obj = {"type": "Recreate"}
    else:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": service_metadata(service, namespace),
        "spec": {
            "replicas": service.replicas,
            "revisionHistoryLimit": 5,
            "strategy": strategy,
            "selector": {"matchLabels": selector(service.name)},
            "template": {
                "metadata": {"labels": service_labels(service)},
                "spec": pod_spec(
                    service,
                    registry=registry,
                    sources=sources,
                    runtime_class=runtime_class,
                    highly_available=highly_available,
                ),
            },
        },
    }


def service_object(service: DeployedService, *, namespace: Any) -> Obj:
    """The Service is named after the catalog service: its DNS name is what every generator uses."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": service_metadata(service, namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(service.name),
            "ports": [{"name": p.name, "port": p.port, "targetPort": p.name, "protocol": "TCP"} for p in service.ports],
        },
    }


def claim(
    service: DeployedService,
    volume: Volume,
    *,
    namespace: Any,
    storage_class: str,
    access_mode: str = "ReadWriteOnce",
) -> Obj:
    spec: Obj = {"accessModes": [access_mode], "resources": {"requests": {"storage": volume.size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": service_metadata(service, namespace, name=claim_name(service.name, volume.name)),
        "spec": spec,
    }


def autoscaler(service: DeployedService, *, namespace: Any, max_replicas: int, cpu_percent: int) -> Obj:
    floor = service.replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": service_metadata(service, namespace),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": floor,
            "maxReplicas": max(max_replicas, floor),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu_percent}},
                }
            ],
        },
    }


def disruption_budget(name: str, *, namespace: Any, environment: str, pod_labels: dict[str, str]) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, namespace, environment),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(pod_labels)}},
    }
