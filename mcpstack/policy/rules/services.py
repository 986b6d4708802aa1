"""Services: every Service selects pods, targets ports they have and keeps the catalog's port numbers."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import ref_of, selector_matches

SECTION = Section()


@SECTION.rule(
    "SVC-SELECTS-PODS", "every Service selects pods, targets ports they have, and keeps the catalog's port numbers"
)
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
