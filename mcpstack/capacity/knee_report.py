"""The report of a knee run (`mcpstack loadtest --scenario stress`), as report.json holds it: each step after
settling, the knee, and what it was measured on (knee.py makes it; tables.py and knee_plot.py show it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mcpstack.capacity.ceiling import Ceiling
from mcpstack.capacity.locust_run import TargetInfo
from mcpstack.capacity.machine import Conditions, Machine, Versions
from mcpstack.capacity.record import Sample, UserCount
from mcpstack.capacity.stats import Figures, KindJudgement, KindObjective, number


@dataclass(frozen=True)
class SlowestEndpoint:
    endpoint: str
    p95_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SlowestEndpoint:
        return cls(doc["endpoint"], number(doc["p95_ms"]))


@dataclass(frozen=True)
class KneeStep:
    """One step of users, judged on its requests after settling: passed when every kind met its objective and
    every user of the step was running."""

    users: int
    users_running: int
    window: tuple[float, float]
    rps: float
    tool_call_rps: float
    kinds: dict[str, Figures]
    endpoints_p95_ms: dict[str, float]
    slowest_endpoint: SlowestEndpoint | None
    judged: dict[str, KindJudgement]
    passed: bool
    rate_limited: int
    connections_median: float
    generator_cpu_peak: float
    generator_cpu_mean: float
    containers_cpu_mean: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "users_running": self.users_running,
            "window": list(self.window),
            "rps": self.rps,
            "tool_call_rps": self.tool_call_rps,
            "kinds": {kind: f.to_json() for kind, f in self.kinds.items()},
            "endpoints_p95_ms": self.endpoints_p95_ms,
            "slowest_endpoint": self.slowest_endpoint.to_json() if self.slowest_endpoint else None,
            "judged": {kind: j.to_json() for kind, j in self.judged.items()},
            "passed": self.passed,
            "rate_limited": self.rate_limited,
            "connections_median": self.connections_median,
            "generator_cpu_peak": self.generator_cpu_peak,
            "generator_cpu_mean": self.generator_cpu_mean,
            "containers_cpu_mean": self.containers_cpu_mean,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> KneeStep:
        slowest = doc.get("slowest_endpoint")
        return cls(
            users=doc["users"],
            users_running=doc["users_running"],
            window=(doc["window"][0], doc["window"][1]),
            rps=doc["rps"],
            tool_call_rps=doc["tool_call_rps"],
            kinds={kind: Figures.from_json(f) for kind, f in doc["kinds"].items()},
            endpoints_p95_ms={name: number(v) for name, v in doc["endpoints_p95_ms"].items()},
            slowest_endpoint=SlowestEndpoint.from_json(slowest) if slowest else None,
            judged={kind: KindJudgement.from_json(j) for kind, j in doc["judged"].items()},
            passed=doc["passed"],
            rate_limited=doc["rate_limited"],
            connections_median=doc["connections_median"],
            generator_cpu_peak=doc["generator_cpu_peak"],
            generator_cpu_mean=doc["generator_cpu_mean"],
            containers_cpu_mean=dict(doc["containers_cpu_mean"]),
        )


@dataclass(frozen=True)
class Knee:
    """The last step that passed before the first that broke (users None: not even the first step passed)."""

    users: int | None
    rps: float | None
    tool_call_rps: float | None
    broken_at_users: int | None
    broken: list[str]  # the kinds of request the first broken step missed
    reached_the_end: bool  # no step broke: the knee is further out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Knee:
        return cls(**doc)


@dataclass(frozen=True)
class KneeLoad:
    think_min: float
    think_max: float
    steps: list[int]
    step_seconds: float
    settle_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "think_time_seconds": {"min": self.think_min, "max": self.think_max},
            "steps": self.steps,
            "step_seconds": self.step_seconds,
            "settle_seconds": self.settle_seconds,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> KneeLoad:
        think = doc["think_time_seconds"]
        return cls(think["min"], think["max"], list(doc["steps"]), doc["step_seconds"], doc["settle_seconds"])


@dataclass(frozen=True)
class KneeReport:
    date: str
    target: TargetInfo
    load: KneeLoad
    objectives: dict[str, KindObjective]
    steps: list[KneeStep]
    knee: Knee
    machine: Machine
    conditions: Conditions
    versions: Versions
    generator_ceiling: Ceiling | None
    started: float
    users_series: list[UserCount]
    samples: list[Sample]
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc = {
            "scenario": "stress",
            "date": self.date,
            "target": self.target.to_json(),
            "load": self.load.to_json(),
            "objectives": {kind: o.to_json() for kind, o in self.objectives.items()},
            "steps": [s.to_json() for s in self.steps],
            "knee": self.knee.to_json(),
            "machine": self.machine.to_json(),
            "conditions": self.conditions.to_json(),
            "versions": self.versions.to_json(),
            "generator_ceiling": self.generator_ceiling.to_json() if self.generator_ceiling else None,
            "started": self.started,
            "users_series": [list(u) for u in self.users_series],
            "samples": [s.to_json() for s in self.samples],
        }
        return {**doc, "files": self.files} if self.files else doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> KneeReport:
        ceiling = doc.get("generator_ceiling")
        return cls(
            date=doc["date"],
            target=TargetInfo.from_json(doc["target"]),
            load=KneeLoad.from_json(doc["load"]),
            objectives={kind: KindObjective.from_json(o) for kind, o in doc["objectives"].items()},
            steps=[KneeStep.from_json(s) for s in doc["steps"]],
            knee=Knee.from_json(doc["knee"]),
            machine=Machine.from_json(doc["machine"]),
            conditions=Conditions.from_json(doc.get("conditions") or {}),
            versions=Versions.from_json(doc["versions"]),
            generator_ceiling=Ceiling.from_json(ceiling) if ceiling else None,
            started=doc["started"],
            users_series=[(t, n) for t, n in doc.get("users_series") or []],
            samples=[Sample.from_json(s) for s in doc["samples"]],
            files=dict(doc.get("files") or {}),
        )
