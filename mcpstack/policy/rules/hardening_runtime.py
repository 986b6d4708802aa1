"""Hardening, what a pod runs with: resources and the memory ceiling, probes, pinned images, no
service account token, the stack's RuntimeClass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcpstack.catalog.models import ServiceBase
from mcpstack.policy.rules.context import OUR_KINDS, Context
from mcpstack.policy.rules.network import port_numbers
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import Obj
from mcpstack.quantities import memory_bytes

MEMORY_CEILING = "512Mi"

SECTION = Section()


@SECTION.rule("HARD-RESOURCES", "every container requests and limits CPU and memory")
def _resources(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (c.resources.get(part) or {}).get(resource):
                        yield Violation(
                            "HARD-RESOURCES", pod.ref, f"{c.resources_path}.{part}.{resource}", "must be set"
                        )


@SECTION.rule("HARD-MEMORY-CEILING", f"our services and the gateway are limited to at most {MEMORY_CEILING} of memory")
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


@SECTION.rule("HARD-PROBES", "long-running containers have liveness (catalog `health`) and readiness (`ready`) probes")
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


@SECTION.rule("HARD-IMAGE-PINNED", "every image has an explicit tag other than `latest` (or a digest)")
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


@SECTION.rule(
    "HARD-SERVICE-ACCOUNT-TOKEN", "no pod mounts a service account token (none of them talks to the API server)"
)
def _sa_token(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        if pod.automount_token is not False:
            yield Violation("HARD-SERVICE-ACCOUNT-TOKEN", pod.ref, pod.automount_path, "must be false")


@SECTION.rule(
    "HARD-RUNTIME-CLASS", "services given a RuntimeClass in the stack config (e.g. sandbox=gvisor) run with it"
)
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
