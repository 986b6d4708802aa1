"""The report of one gate run, as report.json holds it: every verdict, the figures behind them, what the plots need,
and what it was measured on (gate.evaluate_run makes it; tables.py and gate_plots.py show it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mcpstack.capacity.ceiling import Ceiling
from mcpstack.capacity.evaluate import Failure, Verdict
from mcpstack.capacity.locust_run import TargetInfo
from mcpstack.capacity.machine import Conditions, Machine, Versions
from mcpstack.capacity.record import Sample, UserCount
from mcpstack.capacity.stats import Figures, TimeSeries
from mcpstack.catalog.models import Slos


@dataclass(frozen=True)
class MeasuredLoad:
    """The load as it ran: users, think time, and the measured window (None when spawning never completed)."""

    users: int
    noisy_clients: int
    noisy_calls_per_second: float | None
    think_min: float
    think_max: float
    think_time_from_catalog: bool
    keepalive_seconds: float
    spawn_rate: float
    duration_seconds: float
    window: tuple[float, float] | None
    ramp_up_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "noisy_clients": self.noisy_clients,
            "noisy_calls_per_second": self.noisy_calls_per_second,
            "think_time_seconds": {"min": self.think_min, "max": self.think_max},
            "think_time_from_catalog": self.think_time_from_catalog,
            "keepalive_seconds": self.keepalive_seconds,
            "spawn_rate": self.spawn_rate,
            "duration_seconds": self.duration_seconds,
            "window": list(self.window) if self.window else None,
            "ramp_up_seconds": self.ramp_up_seconds,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MeasuredLoad:
        window = doc.get("window")
        return cls(
            users=doc["users"],
            noisy_clients=doc.get("noisy_clients") or 0,
            noisy_calls_per_second=doc.get("noisy_calls_per_second"),
            think_min=doc["think_time_seconds"]["min"],
            think_max=doc["think_time_seconds"]["max"],
            think_time_from_catalog=doc.get("think_time_from_catalog", True),
            keepalive_seconds=doc["keepalive_seconds"],
            spawn_rate=doc["spawn_rate"],
            duration_seconds=doc["duration_seconds"],
            window=(window[0], window[1]) if window else None,
            ramp_up_seconds=doc.get("ramp_up_seconds"),
        )


@dataclass(frozen=True)
class GeneratorFigures:
    """The load generator in the measured window, and how close it came to its ceiling (when measured)."""

    peak_cpu_percent: float
    mean_cpu_percent: float
    rps: float
    ceiling: Ceiling | None
    fraction_of_ceiling: float | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "peak_cpu_percent": self.peak_cpu_percent,
            "mean_cpu_percent": self.mean_cpu_percent,
            "rps": self.rps,
            "ceiling": self.ceiling.to_json() if self.ceiling else None,
        }
        if self.fraction_of_ceiling is not None:
            doc["fraction_of_ceiling"] = self.fraction_of_ceiling
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GeneratorFigures:
        ceiling = Ceiling.from_json(doc["ceiling"]) if doc.get("ceiling") else None
        return cls(
            doc["peak_cpu_percent"], doc["mean_cpu_percent"], doc["rps"], ceiling, doc.get("fraction_of_ceiling")
        )


@dataclass(frozen=True)
class ContainerCpu:
    """A service's container in the measured window, % of one core."""

    mean_cpu_percent: float
    peak_cpu_percent: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ContainerCpu:
        return cls(**doc)


@dataclass(frozen=True)
class SlowRequest:
    """One of the slowest requests, with its correlation ID: grep the gateway's log for it."""

    endpoint: str
    ms: float
    status: int
    correlation_id: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SlowRequest:
        return cls(**doc)


@dataclass(frozen=True)
class GateReport:
    """One gate run: passed when every verdict passed (warnings never fail it)."""

    scenario: str
    passed: bool
    date: str
    target: TargetInfo
    load: MeasuredLoad
    objectives: Slos
    machine: Machine
    conditions: Conditions
    versions: Versions
    endpoints: dict[str, Figures]
    kinds: dict[str, Figures]
    overall: Figures  # every request of the window ("all" in report.json)
    verdicts: list[Verdict]
    generator: GeneratorFigures
    containers_cpu: dict[str, ContainerCpu]
    failures: list[Failure]
    slowest: list[SlowRequest]
    locust_exit_code: int
    locustfile_errors: list[list[Any]]
    series: TimeSeries  # the whole run, ramp-up included: the plots shade it
    started: float
    ended: float
    users_series: list[UserCount]
    samples: list[Sample]
    files: dict[str, str] = field(default_factory=dict)  # what -> file name in the report directory

    def to_json(self) -> dict[str, Any]:
        doc = {
            "scenario": self.scenario,
            "passed": self.passed,
            "date": self.date,
            "target": self.target.to_json(),
            "load": self.load.to_json(),
            "objectives": self.objectives.model_dump(mode="json"),
            "machine": self.machine.to_json(),
            "conditions": self.conditions.to_json(),
            "versions": self.versions.to_json(),
            "endpoints": {name: f.to_json() for name, f in self.endpoints.items()},
            "kinds": {kind: f.to_json() for kind, f in self.kinds.items()},
            "all": self.overall.to_json(),
            "verdicts": [v.to_json() for v in self.verdicts],
            "generator": self.generator.to_json(),
            "containers_cpu": {name: c.to_json() for name, c in self.containers_cpu.items()},
            "failures": [f.to_json() for f in self.failures],
            "slowest": [s.to_json() for s in self.slowest],
            "locust_exit_code": self.locust_exit_code,
            "locustfile_errors": self.locustfile_errors,
            "series": self.series.to_json(),
            "started": self.started,
            "ended": self.ended,
            "users_series": [list(u) for u in self.users_series],
            "samples": [s.to_json() for s in self.samples],
        }
        return {**doc, "files": self.files} if self.files else doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GateReport:
        return cls(
            scenario=doc["scenario"],
            passed=doc["passed"],
            date=doc["date"],
            target=TargetInfo.from_json(doc["target"]),
            load=MeasuredLoad.from_json(doc["load"]),
            objectives=Slos.model_validate(doc["objectives"]),
            machine=Machine.from_json(doc["machine"]),
            conditions=Conditions.from_json(doc.get("conditions") or {}),
            versions=Versions.from_json(doc["versions"]),
            endpoints={name: Figures.from_json(f) for name, f in doc["endpoints"].items()},
            kinds={kind: Figures.from_json(f) for kind, f in doc["kinds"].items()},
            overall=Figures.from_json(doc["all"]),
            verdicts=[Verdict.from_json(v) for v in doc["verdicts"]],
            generator=GeneratorFigures.from_json(doc["generator"]),
            containers_cpu={name: ContainerCpu.from_json(c) for name, c in doc["containers_cpu"].items()},
            failures=[Failure.from_json(f) for f in doc["failures"]],
            slowest=[SlowRequest.from_json(s) for s in doc["slowest"]],
            locust_exit_code=doc["locust_exit_code"],
            locustfile_errors=doc.get("locustfile_errors") or [],
            series=TimeSeries.from_json(doc["series"]),
            started=doc["started"],
            ended=doc["ended"],
            users_series=[(t, n) for t, n in doc.get("users_series") or []],
            samples=[Sample.from_json(s) for s in doc["samples"]],
            files=dict(doc.get("files") or {}),
        )
