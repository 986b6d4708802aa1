"""The load generator's own ceiling: how many requests per second one locust process (FastHttpUser) drives on this
machine, closed loop, against a trivial local endpoint (loadtests/trivial_server.py) that is far cheaper per request
than locust. Gate runs compare their load generator with it and warn above 90% (evaluate.generator_verdict)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from mcpstack import REPO_ROOT
from mcpstack.capacity import stats
from mcpstack.capacity.locust_run import LoadTestError, Log, Target, run_locust
from mcpstack.capacity.machine import Machine, load_average, machine, now
from mcpstack.capacity.report import write_json, write_report

SETTLE_SECONDS = 3.0
# Where gate runs read the ceiling (the file's name predates the word "ceiling" here; kept so a measured one is found)
CEILING_FILE = Path(os.environ.get("MCPSTACK_STATE_DIR", REPO_ROOT / ".mcpstack")) / "loadtest-harness.json"


@dataclass(frozen=True)
class Ceiling:
    """The best closed-loop run: the req/s one locust process drove, at what CPU, with how many users, when."""

    rps: float
    cpu: float
    users: int
    date: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Ceiling:
        return cls(doc["rps"], doc["cpu"], doc["users"], doc["date"])


@dataclass(frozen=True)
class CeilingRun:
    """One closed-loop run of `users` against the trivial endpoint, after settling."""

    users: int
    rps: float
    p50_ms: float
    p95_ms: float
    failures: int
    cpu: float  # the load generator's mean, % of one core
    cpu_peak: float
    server_cpu: float  # the trivial endpoint's, over the whole run: well below 100% means it was not the limit

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CeilingRun:
        return cls(**doc)


@dataclass(frozen=True)
class CeilingReport:
    date: str
    machine: Machine
    load_average: list[float]
    seconds: float
    runs: list[CeilingRun]
    ceiling: Ceiling

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "machine": self.machine.to_json(),
            "conditions": {"load_average": self.load_average},
            "seconds": self.seconds,
            "runs": [r.to_json() for r in self.runs],
            "ceiling": self.ceiling.to_json(),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CeilingReport:
        return cls(
            doc["date"],
            Machine.from_json(doc["machine"]),
            list(doc["conditions"]["load_average"]),
            doc["seconds"],
            [CeilingRun.from_json(r) for r in doc["runs"]],
            Ceiling.from_json(doc["ceiling"]),
        )


def load_ceiling(path: Path = CEILING_FILE) -> Ceiling | None:
    """The load generator's ceiling on this machine, if `mcpstack bench loadgen` measured it."""
    try:
        return Ceiling.from_json(json.loads(path.read_text())["ceiling"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def measure_ceiling(
    report_dir: Path,
    *,
    users: tuple[int, ...] = (10, 50, 100),
    seconds: float = 15.0,
    log: Log = print,
    ceiling_file: Path | None = CEILING_FILE,
) -> CeilingReport:
    """Closed-loop runs of `users` each for `seconds`; the best req/s is the ceiling, kept in `ceiling_file` (where
    gate runs read it) unless None."""
    report_dir.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "loadtests.trivial_server", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("serving on "):
            raise LoadTestError(f"the trivial server did not start: {line!r}")
        target = Target("http://" + line.split()[-1], "", None)
        process = psutil.Process(server.pid)
        runs = [_closed_loop(target, count, report_dir, seconds, process, log) for count in users]
    finally:
        server.terminate()
        server.wait(timeout=10)
    best = max(runs, key=lambda r: r.rps)
    report = CeilingReport(
        date=now(),
        machine=machine(),
        load_average=load_average(),
        seconds=seconds,
        runs=runs,
        ceiling=Ceiling(best.rps, best.cpu, best.users, datetime.now(UTC).date().isoformat()),
    )
    write_report(report, report_dir)
    if ceiling_file is not None:
        write_json(report, ceiling_file)
    return report


def _closed_loop(
    target: Target, count: int, report_dir: Path, seconds: float, server: psutil.Process, log: Log
) -> CeilingRun:
    busy, since = sum(server.cpu_times()[:2]), time.monotonic()
    run = run_locust(
        "ceiling_users.py",
        target,
        report_dir / f"users-{count}",
        users=count,
        spawn_rate=1000,
        seconds=seconds,
        environment={},
        log=log,
    )
    server_cpu = (sum(server.cpu_times()[:2]) - busy) / (time.monotonic() - since) * 100
    start, end = run.started + SETTLE_SECONDS, run.ended - 1.0
    inside = stats.in_window(run.record.requests, start, end)
    cpu = [s.cpu for s in run.samples if start <= s.t < end]
    figures = stats.summary(inside, end - start)
    result = CeilingRun(
        users=count,
        rps=round(figures.rps, 1),
        p50_ms=figures.p50_ms,
        p95_ms=figures.p95_ms,
        failures=figures.failures,
        cpu=round(statistics.fmean(cpu), 1) if cpu else 0.0,
        cpu_peak=max(cpu, default=0.0),
        server_cpu=round(server_cpu, 1),
    )
    log(
        f"  {count} users: {result.rps:.0f} req/s, load generator CPU {result.cpu:.0f}%, "
        f"trivial server CPU {server_cpu:.0f}%"
    )
    time.sleep(1)
    return result
