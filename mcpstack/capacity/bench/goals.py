"""A benchmark's goals: what an issue asked for, what was measured, and whether it was met."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Goal:
    goal: str
    measured: str
    passed: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Goal:
        return cls(**doc)


def goals_table(goals: Sequence[Goal]) -> list[str]:
    """The goals as Markdown table lines."""
    return [
        "| goal | measured | met |",
        "|---|---|---|",
        *(f"| {g.goal} | {g.measured} | {'yes' if g.passed else 'NO'} |" for g in goals),
    ]
