"""The policy rules: small functions over the rendered stack, each with a stable id.

A rule yields Violations naming the object, the field and what is wrong. Rules read the rendered
objects and Helm values (what would be deployed) and the catalog (what was meant); they never ask
the code that built the objects, so a mistake there shows up here.

One module per part of the policy; RULES lists their rules in this order, which is the order
`mcpstack policy` checks and reports them in.
"""

from __future__ import annotations

from infra.render import Rendered
from mcpstack.policy.rules import (
    availability,
    hardening_runtime,
    hardening_security,
    monitoring,
    network_callers,
    network_isolation,
    network_reach,
    ollama,
    schema_helm,
    secrets,
    services,
    webui,
)
from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Rule, Violation

__all__ = ["RULES", "Rule", "Violation", "rule_ids", "run"]

SECTIONS = (
    schema_helm,
    hardening_security,
    hardening_runtime,
    network_isolation,
    network_callers,
    network_reach,
    secrets,
    services,
    monitoring,
    availability,
    webui,
    ollama,
)
RULES: list[Rule] = [rule for section in SECTIONS for rule in section.SECTION.rules]


def run(rendered: Rendered) -> list[Violation]:
    context = Context(rendered)
    found: list[Violation] = []
    for item in RULES:
        if item.helm_only and not context.helm:
            continue
        found.extend(item.check(context))
    return found


def rule_ids() -> list[str]:
    return [r.id for r in RULES]
