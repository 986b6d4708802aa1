"""Network isolation: default deny in every namespace, and one NetworkPolicy per pod that selects it."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import ref_of, selector_matches

SECTION = Section()


@SECTION.rule("NET-DEFAULT-DENY", "every namespace with our pods has a default-deny policy for ingress and egress")
def _default_deny(ctx: Context) -> Iterator[Violation]:
    for namespace in sorted({p.namespace for p in ctx.pods}):
        found = any(
            p["metadata"].get("namespace") == namespace
            and p.get("spec", {}).get("podSelector") == {}
            and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes") or [])
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
            for p in ctx.of_kind("NetworkPolicy")
        )
        if not found:
            yield Violation(
                "NET-DEFAULT-DENY",
                f"Namespace {namespace}",
                "NetworkPolicy",
                "no default-deny (podSelector: {}) policy",
            )


@SECTION.rule("NET-POLICY-PER-SERVICE", "every pod has its own NetworkPolicy, and every policy selects pods")
def _policy_per_service(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        if not ctx.network.policies_for(pod):
            yield Violation("NET-POLICY-PER-SERVICE", pod.ref, "labels", "no NetworkPolicy selects these pods")
    for policy in ctx.of_kind("NetworkPolicy"):
        selector = policy.get("spec", {}).get("podSelector")
        if selector == {}:
            continue
        namespace = policy["metadata"].get("namespace")
        if not any(p.namespace == namespace and selector_matches(selector, p.labels) for p in ctx.pods):
            yield Violation("NET-POLICY-PER-SERVICE", ref_of(policy), "spec.podSelector", "selects no pod")
