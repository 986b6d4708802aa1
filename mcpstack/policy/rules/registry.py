"""A policy rule: a check over the rendered stack with a stable id, and the Violations it yields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mcpstack.policy.rules.context import Context


@dataclass(frozen=True)
class Violation:
    """What a rule found: the object, the field in it, and what is wrong."""

    rule: str
    object: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.object}: {self.field}: {self.message}"


Check = Callable[[Context], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """A check with its stable id; `helm_only` rules apply to the Helm (production) stack only."""

    id: str
    description: str
    check: Check
    helm_only: bool = False


class Section:
    """The rules of one part of the policy (one module of this package), in the order they are declared."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def rule(self, rule_id: str, description: str, *, helm_only: bool = False) -> Callable[[Check], Check]:
        def register(check: Check) -> Check:
            self.rules.append(Rule(rule_id, description, check, helm_only))
            return check

        return register
