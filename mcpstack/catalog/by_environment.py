"""Problems of several environments at once (`mcpstack validate`): each labelled with the environments it occurs
in, so a problem of catalog.yaml that every environment shares is reported once, not once per environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcpstack.catalog.errors import Problem


@dataclass(frozen=True)
class LabelledProblem:
    problem: Problem
    environments: tuple[str, ...]

    def label(self, checked: tuple[str, ...]) -> str:
        every = len(checked) > 1 and self.environments == checked
        return "every environment" if every else ", ".join(self.environments)

    def to_json(self) -> dict[str, Any]:
        location = self.problem.location
        return {
            "environments": list(self.environments),
            "file": location.file if location else None,
            "line": location.line if location else None,
            "column": location.column if location else None,
            "key": self.problem.path,
            "message": self.problem.message,
        }


def label_problems(found: dict[str, list[Problem]]) -> list[LabelledProblem]:
    """Each distinct problem once, with the environments (in the given order) that have it."""
    where: dict[Problem, list[str]] = {}
    for environment, problems in found.items():
        for problem in problems:
            where.setdefault(problem, [])
            if environment not in where[problem]:
                where[problem].append(environment)
    return [LabelledProblem(problem, tuple(envs)) for problem, envs in where.items()]
