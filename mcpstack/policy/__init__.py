"""`mcpstack policy`: the rendered stack against the Kubernetes schema, the hardening rules and the
production invariants. Rules live in mcpstack.policy.rules, each with a stable id. Where the charts
are present locally (mcpstack.policy.templates), their real templates are rendered and checked too."""

from __future__ import annotations

from pathlib import Path

from infra.render import Rendered
from mcpstack.policy.rules import RULES, Rule, Violation, run
from mcpstack.policy.templates import with_templates

__all__ = ["RULES", "Rule", "Violation", "check"]


def check(rendered: Rendered, charts: Path | None = None) -> list[Violation]:
    """Every rule over the render, plus the objects of the charts present in `charts` (default:
    $MCPSTACK_CHARTS or .mcpstack/charts)."""
    complete, _used = with_templates(rendered, charts)
    return run(complete)
