"""What one locust run leaves: the record the locustfile writes (loadtests/common.py), the runner's samples of the
load generator, and the run itself. A request stays the list the locustfile records (stats.py names its fields): a
run holds tens of thousands of them, and the recorded runs in tests/capacity/data keep that format."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mcpstack.capacity.stats import Request

UserCount = tuple[float, int]  # (epoch seconds, users running)


@dataclass(frozen=True)
class Sample:
    """What the runner saw of the load generator in one second."""

    t: float
    cpu: float  # percent of one core
    connections: int  # established to the target
    containers: dict[str, float] = field(default_factory=dict)  # service -> CPU percent of one core (local stacks)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Sample:
        return cls(doc["t"], doc["cpu"], doc["connections"], dict(doc.get("containers") or {}))


@dataclass(frozen=True)
class StepMark:
    """One step of the knee run as the locustfile marked it: its users, when it started and ended, and the kinds
    of request it found broken when it closed the step (loadtests/knee_users.py)."""

    users: int
    start: float
    end: float | None = None
    broken: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"users": self.users, "start": self.start}
        if self.end is not None:
            doc.update(end=self.end, broken=list(self.broken))
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StepMark:
        return cls(doc["users"], doc["start"], doc.get("end"), tuple(doc.get("broken") or ()))


@dataclass(frozen=True)
class Record:
    """What the locustfile recorded: every request, the user count each second, the moments spawning completed,
    the knee steps, and the exceptions that escaped a task ([time, user class, message])."""

    requests: list[Request]
    users: list[UserCount]
    spawned: list[UserCount]
    steps: list[StepMark] = field(default_factory=list)
    errors: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": [list(r) for r in self.requests],
            "users": [list(u) for u in self.users],
            "spawned": [list(s) for s in self.spawned],
            "steps": [s.to_json() for s in self.steps],
            "errors": self.errors,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Record:
        return cls(
            [list(r) for r in doc["requests"]],
            [(t, n) for t, n in doc["users"]],
            [(t, n) for t, n in doc["spawned"]],
            [StepMark.from_json(s) for s in doc.get("steps") or []],
            [list(e) for e in doc.get("errors") or []],
        )


@dataclass(frozen=True)
class LocustRun:
    """One locust subprocess: what it recorded, what was sampled while it ran, when, and how it ended."""

    record: Record
    samples: list[Sample]
    started: float
    ended: float
    exit_code: int
    command: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "ended": self.ended,
            "exit_code": self.exit_code,
            "command": self.command,
            "record": self.record.to_json(),
            "samples": [s.to_json() for s in self.samples],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LocustRun:
        """A run as to_json wrote it, or as recorded in tests/capacity/data (no command)."""
        return cls(
            Record.from_json(doc["record"]),
            [Sample.from_json(s) for s in doc["samples"]],
            doc["started"],
            doc["ended"],
            doc["exit_code"],
            list(doc.get("command") or []),
        )
