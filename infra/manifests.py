"""Kubernetes objects for a catalog service, as plain dicts (the API's own field names).

Pure functions of the catalog and the stack settings: the components in infra/components pass
these to pulumi_kubernetes, the policy checks read the same shapes back, and the parity test holds
them against the local Docker runtime's containers (mcpstack.local.spec). Names of Secrets and
ConfigMaps may be Pulumi Outputs (auto-named objects); everything else is a plain value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mcpstack.catalog.models import Catalog, Probe, ServiceBase
from mcpstack.generate import GENERATORS, derived_env

LABEL_SERVICE = "mcpstack.io/service"
LABEL_ENVIRONMENT = "mcpstack.io/environment"
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
    return {LABEL_SERVICE: service}


def labels(service: str, environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        LABEL_ENVIRONMENT: environment,
        LABEL_SERVICE: service,
    }


def image_ref(service: ServiceBase, registry: str) -> str:
    """Images built from this repository get the registry prefix; third-party images are pulled as named."""
    if service.image.build is not None and registry:
        return f"{registry.rstrip('/')}/{service.image.ref}"
    return service.image.ref


def is_our_service(service: ServiceBase) -> bool:
    return service.kind in OUR_SERVICE_KINDS


def secret_names(service: ServiceBase) -> list[str]:
    return sorted({ref.secret for ref in service.secrets})


def generators_used(service: ServiceBase) -> list[str]:
    return sorted({f.generator for f in service.files} | set(service.generated_env.values()))


def plain_env(catalog: Catalog, name: str) -> dict[str, str]:
    return dict(catalog.services[name].env) | derived_env(catalog, name)


def env_vars(catalog: Catalog, name: str, sources: Sources) -> list[Obj]:
    service = catalog.services[name]
    entries: dict[str, Obj] = {var: {"name": var, "value": value} for var, value in plain_env(catalog, name).items()}
    for ref in service.secrets:
        if ref.env:
            entries[ref.env] = {
                "name": ref.env,
                "valueFrom": {"secretKeyRef": {"name": sources.secrets, "key": ref.secret}},
            }
    for var, generator in service.generated_env.items():
        if GENERATORS[generator].secret:
            source = {"secretKeyRef": {"name": sources.generated, "key": generator}}
        else:
            source = {"configMapKeyRef": {"name": sources.config, "key": generator}}
        entries[var] = {"name": var, "valueFrom": source}
    return [entries[var] for var in sorted(entries)]


def volume_name(volume: str) -> str:
    return f"data-{volume}"


def claim_name(service: str, volume: str) -> str:
    return f"{service}-{volume}"


def volume_mounts(service: ServiceBase) -> list[Obj]:
    mounts: list[Obj] = []
    for ref in service.secrets:
        if ref.file:
            mounts.append({"name": "secrets", "mountPath": ref.file, "subPath": ref.secret, "readOnly": True})
    for file in service.files:
        source = "generated" if GENERATORS[file.generator].secret else "config"
        mounts.append({"name": source, "mountPath": file.path, "subPath": file.generator, "readOnly": True})
    for volume in service.volumes:
        mounts.append({"name": volume_name(volume.name), "mountPath": volume.path})
    for index, path in enumerate(service.security.tmpfs):
        mounts.append({"name": f"tmpfs-{index}", "mountPath": path})
    return sorted(mounts, key=lambda m: m["mountPath"])


def pod_volumes(name: str, service: ServiceBase, sources: Sources, claims: dict[str, Any] | None = None) -> list[Obj]:
    volumes: list[Obj] = []
    if any(ref.file for ref in service.secrets):
        volumes.append({"name": "secrets", "secret": {"secretName": sources.secrets, "defaultMode": SECRET_FILE_MODE}})
    if any(GENERATORS[f.generator].secret for f in service.files):
        volumes.append(
            {"name": "generated", "secret": {"secretName": sources.generated, "defaultMode": SECRET_FILE_MODE}}
        )
    if any(not GENERATORS[f.generator].secret for f in service.files):
        volumes.append({"name": "config", "configMap": {"name": sources.config, "defaultMode": CONFIG_FILE_MODE}})
    for volume in service.volumes:
        claim = (claims or {}).get(volume.name, claim_name(name, volume.name))
        volumes.append({"name": volume_name(volume.name), "persistentVolumeClaim": {"claimName": claim}})
    for index, _path in enumerate(service.security.tmpfs):
        volumes.append(
            {"name": f"tmpfs-{index}", "emptyDir": {"medium": "Memory", "sizeLimit": service.security.tmpfs_size}}
        )
    return volumes


def probe_action(probe: Probe) -> Obj:
    """A catalog probe: HTTP GET when it has a path, a TCP connect otherwise."""
    if probe.path:
        return {"httpGet": {"path": probe.path, "port": probe.port}}
    return {"tcpSocket": {"port": probe.port}}


def probes(service: ServiceBase) -> Obj:
    if service.health is None:
        return {}
    ready = service.ready or service.health
    return {
        # generous start-up budget (Open WebUI ~20 s, Grafana migrations), then strict liveness
        "startupProbe": {**probe_action(service.health), "periodSeconds": 2, "failureThreshold": 90},
        "livenessProbe": {
            **probe_action(service.health),
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "readinessProbe": {**probe_action(ready), "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
    }


def resources(service: ServiceBase) -> Obj:
    found: Obj = {}
    for part in ("requests", "limits"):
        values = {k: v for k, v in getattr(service.resources, part).model_dump().items() if v is not None}
        if values:
            found[part] = values
    return found


def seccomp_profile(service: ServiceBase) -> Obj:
    """The runtime's default, or the catalog's own profile installed on the nodes as a Localhost profile."""
    path = service.security.seccomp_profile
    if path:
        return {"type": "Localhost", "localhostProfile": f"{SECCOMP_DIR}/{PurePosixPath(path).name}"}
    return {"type": "RuntimeDefault"}


def container_security(service: ServiceBase) -> Obj:
    security = service.security
    context: Obj = {
        "runAsUser": security.user,
        "runAsGroup": security.group,
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": security.read_only_root_filesystem,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": seccomp_profile(service),
    }
    if security.apparmor_profile:
        context["appArmorProfile"] = {"type": "Localhost", "localhostProfile": security.apparmor_profile}
    return context


def runtime_class(service: ServiceBase, configured: str | None) -> str | None:
    """The stack's RuntimeClass for the service, else the catalog's OCI runtime (security.runtime) by name."""
    return configured or service.security.runtime


def pod_security(service: ServiceBase) -> Obj:
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


def container(catalog: Catalog, name: str, registry: str, sources: Sources) -> Obj:
    service = catalog.services[name]
    spec: Obj = {
        "name": name,
        "image": image_ref(service, registry),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": "TCP"} for p in service.ports],
        "env": env_vars(catalog, name, sources),
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
    catalog: Catalog,
    name: str,
    *,
    registry: str,
    sources: Sources,
    runtime_class: str | None = None,
    highly_available: bool = False,
    claims: dict[str, Any] | None = None,
) -> Obj:
    service = catalog.services[name]
    spec: Obj = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,  # no *_SERVICE_HOST variables: the environment is the catalog's alone
        "terminationGracePeriodSeconds": 30,
        "securityContext": pod_security(service),
        "containers": [container(catalog, name, registry, sources)],
        "volumes": pod_volumes(name, service, sources, claims),
    }
    if runtime_class:
        spec["runtimeClassName"] = runtime_class
    if highly_available:
        spec |= spread(name)
    return spec


def metadata(name: str, namespace: Any, environment: str, service: str | None = None) -> Obj:
    return {"name": name, "namespace": namespace, "labels": labels(service or name, environment)}


def deployment(
    catalog: Catalog,
    name: str,
    *,
    namespace: Any,
    registry: str,
    sources: Sources,
    runtime_class: str | None = None,
    highly_available: bool = False,
) -> Obj:
    service = catalog.services[name]
    if service.volumes:  # a ReadWriteOnce claim cannot be attached to two pods during a rollout
        strategy: Obj = {"type": "Recreate"}
    else:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, namespace, catalog.environment),
        "spec": {
            "replicas": service.replicas,
            "revisionHistoryLimit": 5,
            "strategy": strategy,
            "selector": {"matchLabels": selector(name)},
            "template": {
                "metadata": {"labels": labels(name, catalog.environment)},
                "spec": pod_spec(
                    catalog,
                    name,
                    registry=registry,
                    sources=sources,
                    runtime_class=runtime_class,
                    highly_available=highly_available,
                ),
            },
        },
    }


def service_object(catalog: Catalog, name: str, *, namespace: Any) -> Obj:
    """The Service is named after the catalog service: its DNS name is what every generator uses."""
    service = catalog.services[name]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, namespace, catalog.environment),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name),
            "ports": [{"name": p.name, "port": p.port, "targetPort": p.name, "protocol": "TCP"} for p in service.ports],
        },
    }


def claim(
    catalog: Catalog, name: str, volume: str, *, namespace: Any, storage_class: str, access_mode: str = "ReadWriteOnce"
) -> Obj:
    size = next(v.size for v in catalog.services[name].volumes if v.name == volume)
    spec: Obj = {"accessModes": [access_mode], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(claim_name(name, volume), namespace, catalog.environment, service=name),
        "spec": spec,
    }


def autoscaler(catalog: Catalog, name: str, *, namespace: Any, max_replicas: int, cpu_percent: int) -> Obj:
    floor = catalog.services[name].replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(name, namespace, catalog.environment),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
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
