"""High availability (prod): our services run several replicas, autoscaled, with disruption budgets,
spread over nodes."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.policy.rules.context import OUR_KINDS, Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import PodView, ref_of, selector_matches

SECTION = Section()


def _ha_pods(ctx: Context, with_webui: bool = False) -> list[PodView]:
    kinds = (*OUR_KINDS, "open-webui") if with_webui else OUR_KINDS
    return [p for p in ctx.pods if ctx.kind_of(p.service or "") in kinds and p.long_running]


@SECTION.rule("HA-REPLICAS", "our services (MCP servers, gateway) run at least 2 replicas", helm_only=True)
def _replicas(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx):
        if (pod.replicas or 0) < 2:
            yield Violation("HA-REPLICAS", pod.ref, pod.replicas_path, f"{pod.replicas} < 2")


@SECTION.rule(
    "HA-AUTOSCALER", "our services scale with a HorizontalPodAutoscaler (min >= 2, max >= min)", helm_only=True
)
def _autoscaler(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx):
        kind, _, name = pod.ref.partition(" ")
        name = name.split("/")[-1]
        scalers = [
            h
            for h in ctx.of_kind("HorizontalPodAutoscaler")
            if h["metadata"].get("namespace") == pod.namespace
            and (h["spec"].get("scaleTargetRef") or {}).get("kind") == kind
            and (h["spec"].get("scaleTargetRef") or {}).get("name") == name
        ]
        if not scalers:
            yield Violation("HA-AUTOSCALER", pod.ref, "HorizontalPodAutoscaler", "none targets this workload")
        for scaler in scalers:
            low, high = scaler["spec"].get("minReplicas", 1), scaler["spec"].get("maxReplicas", 0)
            if low < 2 or high < low or not scaler["spec"].get("metrics"):
                yield Violation("HA-AUTOSCALER", ref_of(scaler), "spec", f"minReplicas {low}, maxReplicas {high}")


@SECTION.rule(
    "HA-DISRUPTION-BUDGET",
    "our services and Open WebUI have a PodDisruptionBudget selecting their pods",
    helm_only=True,
)
def _budget(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx, with_webui=True):
        budgets = [
            b
            for b in ctx.of_kind("PodDisruptionBudget")
            if b["metadata"].get("namespace") == pod.namespace
            and selector_matches(b["spec"].get("selector"), pod.labels)
        ]
        if not budgets:
            yield Violation("HA-DISRUPTION-BUDGET", pod.ref, "labels", "no PodDisruptionBudget selects these pods")


@SECTION.rule(
    "HA-SPREAD",
    "replicas spread over nodes (topology spread or anti-affinity selecting their own pods)",
    helm_only=True,
)
def _spread(ctx: Context) -> Iterator[Violation]:
    for pod in _ha_pods(ctx, with_webui=True):
        constraints = pod.spec.get("topologySpreadConstraints") or []
        anti = ((pod.spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution"
        ) or []
        anti_required = ((pod.spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or []
        ok = any(selector_matches(c.get("labelSelector"), pod.labels) for c in constraints) or any(
            selector_matches((t.get("podAffinityTerm") or t).get("labelSelector"), pod.labels)
            for t in [*anti, *anti_required]
        )
        if not ok:
            yield Violation(
                "HA-SPREAD", pod.ref, f"{pod.spec_path}.topologySpreadConstraints", "replicas may share a node"
            )
