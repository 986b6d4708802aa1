"""The gateway benchmark's results: one row per path and connection count (medians over the rounds, with every
round's measurement), the run's conditions and goals, written as report.json and report.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcpstack.capacity.bench import wrk
from mcpstack.capacity.bench.cpu import CallCpu
from mcpstack.capacity.bench.goals import Goal, goals_table
from mcpstack.capacity.machine import Conditions, Machine


@dataclass(frozen=True)
class GatewayRow:
    """One path at one connection count: medians over the rounds, and every round's measurement and CPU."""

    target: str
    api: str
    upstream: str
    connections: int
    rounds: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu: CallCpu  # medians of the rounds' CPU ms per call
    samples: list[wrk.Measurement]
    cpu_samples: list[CallCpu]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "api": self.api,
            "upstream": self.upstream,
            "connections": self.connections,
            "rounds": self.rounds,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
            "requests": self.requests,
            "cpu_ms_per_call": self.cpu.to_json(),
            "samples": [m.to_json() for m in self.samples],
            "cpu_samples": [c.to_json() for c in self.cpu_samples],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GatewayRow:
        fields = {k: v for k, v in doc.items() if k not in ("cpu_ms_per_call", "samples", "cpu_samples")}
        return cls(
            **fields,
            cpu=CallCpu.from_json(doc["cpu_ms_per_call"]),
            samples=[wrk.Measurement.from_json(m) for m in doc["samples"]],
            cpu_samples=[CallCpu.from_json(c) for c in doc["cpu_samples"]],
        )


@dataclass(frozen=True)
class GatewayBenchmark:
    date: str
    machine: Machine
    conditions: Conditions
    gateway_workers: int  # worker processes of the gateway as shipped (the catalog's `workers`, else its CPUs)
    seconds: float
    rounds: int
    results: list[GatewayRow]
    verdicts: list[Goal]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "machine": self.machine.to_json(),
            "conditions": self.conditions.to_json(),
            "gateway_workers": self.gateway_workers,
            "seconds": self.seconds,
            "rounds": self.rounds,
            "passed": self.passed,
            "results": [r.to_json() for r in self.results],
            "verdicts": [v.to_json() for v in self.verdicts],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GatewayBenchmark:
        return cls(
            doc["date"],
            Machine.from_json(doc["machine"]),
            Conditions.from_json(doc["conditions"]),
            doc["gateway_workers"],
            doc["seconds"],
            doc["rounds"],
            [GatewayRow.from_json(r) for r in doc["results"]],
            [Goal.from_json(v) for v in doc["verdicts"]],
        )


def _ms(value: float | None, absent: str) -> str:
    return absent if value is None else f"{value:.2f}"


def markdown(report: GatewayBenchmark) -> str:
    m, load = report.machine, report.conditions.load_average_before
    lines = [
        f"# Gateway benchmark ({report.date})",
        "",
        f"Machine: {m.cpus} CPUs, {m.memory_gib} GiB, kernel {m.kernel}, Docker {m.docker}; load average before "
        f"the run {load}. wrk on the same machine, {report.seconds:g} s per measurement, {report.rounds} "
        f"interleaved rounds, medians. The gateway as shipped runs {report.gateway_workers} worker process(es). "
        "CPU: the container's cgroup CPU time over a measurement / calls completed.",
        "",
        "| target | api | upstream | connections | req/s | p50 ms | p95 ms | p99 ms | errors | "
        "gateway CPU ms/call | server CPU ms/call |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        lines.append(
            f"| {r.target} | {r.api} | {r.upstream} | {r.connections} | {r.rps} | {r.p50_ms} | {r.p95_ms} | "
            f"{r.p99_ms} | {r.errors} | {_ms(r.cpu.gateway_ms, '-')} | {_ms(r.cpu.server_ms, 'in gateway')} |"
        )
    lines += ["", *goals_table(report.verdicts)]
    return "\n".join(lines) + "\n"
