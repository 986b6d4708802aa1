"""Each precondition of a stack, checked against the cluster's API (read only): RuntimeClass, GPU nodes,
storage classes, the Prometheus Operator's CRDs, the ingress class and namespace, pushed images, and what
only other access could tell (node files, the database)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infra.components.context import built_images
from infra.settings import StackSettings
from mcpstack.catalog.models import Catalog
from mcpstack.preflight.cluster import Cluster

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"
GPU_RESOURCES = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu"}
OPERATOR_CRDS = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"  # a required precondition is missing: `pulumi up` would fail or hang
    WARN = "warn"  # works, but look at it
    NOT_CHECKED = "not checked"  # needs access the API does not give


@dataclass(frozen=True)
class Check:
    check: str
    expected: str
    found: str
    status: Status


Checker = Callable[[StackSettings, Catalog, Cluster], Iterator[Check]]


def api_server(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    version = cluster.get("/version") or {}
    yield Check(
        "API server",
        f"context {cluster.context or '(current)'}",
        f"{cluster.server}, {version.get('gitVersion', '?')}",
        Status.OK,
    )


def runtime_classes(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    wanted = dict(settings.runtime_classes)
    if not wanted:
        yield Check("RuntimeClass", "none (gvisor off)", "-", Status.OK)
    for service, name in sorted(wanted.items()):
        found = cluster.get(f"/apis/node.k8s.io/v1/runtimeclasses/{name}")
        yield Check(
            f"RuntimeClass {name} ({service})",
            "exists",
            f"handler {found.get('handler')}" if found else "absent",
            Status.OK if found else Status.FAIL,
        )


def gpu_nodes(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    if not settings.helm or not any(s.kind == "llm" and not s.local_only for s in catalog.services.values()):
        return
    if settings.ollama_gpus == 0:
        yield Check("GPU nodes", "none (ollamaGpus 0: CPU only)", "-", Status.OK)
        return
    resource = GPU_RESOURCES[settings.ollama_gpu_type]
    nodes = (cluster.get("/api/v1/nodes") or {}).get("items", [])
    fitting = [
        n["metadata"]["name"]
        for n in nodes
        if _count((n.get("status") or {}).get("allocatable", {}).get(resource)) >= settings.ollama_gpus
    ]
    yield Check(
        "GPU nodes",
        f"a node with {settings.ollama_gpus} allocatable {resource}",
        ", ".join(fitting) or f"none of {len(nodes)} node(s)",
        Status.OK if fitting else Status.FAIL,
    )


def storage_classes(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    classes = {
        c["metadata"]["name"]: c for c in (cluster.get("/apis/storage.k8s.io/v1/storageclasses") or {}).get("items", [])
    }
    defaults = [n for n, c in classes.items() if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    wanted = [("storage class (ReadWriteOnce claims)", settings.storage_class)]
    if settings.helm:
        wanted.append(("shared storage class (ReadWriteMany, Open WebUI)", settings.shared_storage_class))
    for label, name in wanted:
        if name:
            found = classes.get(name)
            text = (
                f"{name}: provisioner {found['provisioner']}"
                if found
                else f"{name} absent ({', '.join(classes) or 'none'})"
            )
            yield Check(label, f"{name} exists", text, Status.OK if found else Status.FAIL)
        else:
            yield Check(
                label,
                "a default class",
                ", ".join(defaults) or "no default class",
                Status.OK if defaults else Status.FAIL,
            )
    if settings.helm:
        yield Check(
            "ReadWriteMany support",
            "the shared class binds RWX claims",
            "the API does not say: a real claim does",
            Status.NOT_CHECKED,
        )


def operator_crds(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    if not settings.helm:
        return
    for crd in OPERATOR_CRDS:
        found = cluster.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")
        text = (
            "present (Helm never upgrades CRDs: apply the operator's first, docs/deploy.md)"
            if found
            else ("absent: kube-prometheus-stack's crds/ installs it")
        )
        yield Check(f"CRD {crd}", "present, or installed by kube-prometheus-stack", text, Status.OK)


def ingress(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    if settings.helm and settings.ingress_host:
        if settings.ingress_class:
            found = cluster.get(f"/apis/networking.k8s.io/v1/ingressclasses/{settings.ingress_class}")
            text = f"controller {found['spec'].get('controller')}" if found else "absent"
            yield Check(f"IngressClass {settings.ingress_class}", "exists", text, Status.OK if found else Status.FAIL)
        else:
            items = (cluster.get("/apis/networking.k8s.io/v1/ingressclasses") or {}).get("items", [])
            defaults = [
                c["metadata"]["name"]
                for c in items
                if (c["metadata"].get("annotations") or {}).get(DEFAULT_INGRESS_CLASS) == "true"
            ]
            yield Check(
                "IngressClass", "a default class", ", ".join(defaults) or "none", Status.OK if defaults else Status.FAIL
            )
    if settings.ingress_namespace:
        found = cluster.get(f"/api/v1/namespaces/{settings.ingress_namespace}")
        yield Check(
            f"namespace {settings.ingress_namespace}",
            "exists (the only source exposed services admit)",
            "exists" if found else "absent",
            Status.OK if found else Status.FAIL,
        )


def images(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    wanted = built_images(catalog, settings.helm)
    if not settings.images.registry:
        status = Status.WARN if settings.helm else Status.OK
        yield Check("images of ours", "pushed to a registry (prod)", "local names: the nodes must have them", status)
        return
    missing = settings.images.missing(wanted)
    yield Check(
        f"images pushed to {settings.images.registry}",
        f"{len(wanted)} digest(s) recorded",
        f"missing: {', '.join(missing)}" if missing else f"{len(wanted)} recorded",
        Status.FAIL if missing else Status.OK,
    )


def node_and_database(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> Iterator[Check]:
    profiles = sorted(
        {
            s.security.seccomp_profile
            for s in catalog.services.values()
            if s.security.seccomp_profile and not s.local_only
        }
    )
    if profiles:
        yield Check(
            "seccomp profiles on every node",
            ", ".join(p.rsplit("/", 1)[-1] for p in profiles),
            "in /var/lib/kubelet/seccomp/mcpstack/: needs node access",
            Status.NOT_CHECKED,
        )
    if settings.helm:
        yield Check(
            "database extensions",
            "CREATE EXTENSION vector, pgcrypto allowed",
            "needs DB access: psql DATABASE_URL -c 'CREATE EXTENSION IF NOT EXISTS vector'",
            Status.NOT_CHECKED,
        )


CHECKERS: tuple[Checker, ...] = (
    api_server,
    runtime_classes,
    gpu_nodes,
    storage_classes,
    operator_crds,
    ingress,
    images,
    node_and_database,
)


def run_checks(settings: StackSettings, catalog: Catalog, cluster: Cluster) -> list[Check]:
    return [check for checker in CHECKERS for check in checker(settings, catalog, cluster)]


def _count(quantity: Any) -> int:
    try:
        return int(str(quantity or "0"))
    except ValueError:
        return 0
