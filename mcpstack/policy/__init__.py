"""`mcpstack policy`: the rendered stack against the Kubernetes schema, the hardening rules and the
production invariants. Rules live in mcpstack.policy.rules, each with a stable id."""

from __future__ import annotations

from mcpstack.policy.rules import RULES, Rule, Violation, run

__all__ = ["RULES", "Rule", "Violation", "check"]


def check(rendered) -> list[Violation]:
    return run(rendered)
