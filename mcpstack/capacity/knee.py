"""Knee finding: steps of more users with a short think time (so more paced requests per second) until a step
misses an objective. The knee is the last step before the first one that broke: the most concurrent users, and the
request rate they drove, that the stack sustains within every objective on this hardware.

Each step is judged on its requests after a settling time, by kind of request (tool-call, discovery, health): p95
against the kind's objective and the success rate. Endpoint overrides do not apply here.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcpstack.capacity import stats
from mcpstack.capacity.ceiling import load_ceiling
from mcpstack.capacity.knee_plot import plot_knee
from mcpstack.capacity.knee_report import Knee, KneeLoad, KneeReport, KneeStep, SlowestEndpoint
from mcpstack.capacity.locust_run import Log, Target, TargetInfo, local_target, preflight, run_locust
from mcpstack.capacity.machine import Conditions, load_average, machine, now, versions
from mcpstack.capacity.record import Sample, StepMark, UserCount
from mcpstack.capacity.report import write_report
from mcpstack.capacity.stack_variants import knee_stack
from mcpstack.capacity.stats import KindObjective, Request
from mcpstack.local.variants import variant_stack

KNEE_THINK = (0.5, 1.5)  # seconds: a stress run, not the SLO load (documented in docs/capacity.md)
DEFAULT_STEPS = (25, 50, 75, 100, 125, 150, 175, 200, 250, 300, 400)
STEP_SECONDS = 20.0
SETTLE_SECONDS = 5.0
SPAWN_RATE = 50.0


def kind_objectives(target: Target) -> dict[str, KindObjective]:
    assert target.catalog is not None
    slos = target.catalog.slos
    return {
        kind: KindObjective(objective.success_rate or slos.success_rate, objective.p95_ms)
        for kind, objective in slos.objectives.items()
    }


def run_knee(
    target: Target,
    report_dir: Path,
    *,
    steps: tuple[int, ...] = DEFAULT_STEPS,
    step_seconds: float = STEP_SECONDS,
    settle_seconds: float = SETTLE_SECONDS,
    log: Log = print,
) -> KneeReport:
    assert target.catalog is not None
    objectives = kind_objectives(target)
    before = load_average()
    run = run_locust(
        "knee_users.py",
        target,
        report_dir,
        users=max(steps),
        spawn_rate=SPAWN_RATE,
        seconds=len(steps) * step_seconds + 15,
        environment={
            "LOADTEST_THINK_MIN": f"{KNEE_THINK[0]:g}",
            "LOADTEST_THINK_MAX": f"{KNEE_THINK[1]:g}",
            "LOADTEST_KEEPALIVE": "3",
            "LOADTEST_STEPS": ",".join(map(str, steps)),
            "LOADTEST_STEP_SECONDS": f"{step_seconds:g}",
            "LOADTEST_SETTLE_SECONDS": f"{settle_seconds:g}",
            "LOADTEST_SPAWN_RATE": f"{SPAWN_RATE:g}",
            "LOADTEST_OBJECTIVES": json.dumps({kind: o.to_json() for kind, o in objectives.items()}),
        },
        log=log,
    )
    requests = run.record.requests
    results = [
        judge_step(step, requests, run.record.users, run.samples, objectives, settle_seconds)
        for step in run.record.steps
        if step.end is not None
    ]
    report = KneeReport(
        date=now(),
        target=TargetInfo.of(target, with_client=False),
        load=KneeLoad(KNEE_THINK[0], KNEE_THINK[1], list(steps), step_seconds, settle_seconds),
        objectives=objectives,
        steps=results,
        knee=find_knee(results),
        machine=machine(),
        conditions=Conditions(load_average_before=before, load_average_after=load_average()),
        versions=versions(target),
        generator_ceiling=load_ceiling(),
        started=run.started,
        users_series=run.record.users,
        samples=run.samples,
    )
    report = replace(
        report, files={"knee": plot_knee(report, report_dir / "knee.png").name, "locust_html": "locust.html"}
    )
    write_report(report, report_dir)
    return report


def judge_step(
    step: StepMark,
    requests: list[Request],
    users: list[UserCount],
    samples: list[Sample],
    objectives: dict[str, KindObjective],
    settle_seconds: float,
) -> KneeStep:
    assert step.end is not None
    start, end = step.start + settle_seconds, step.end
    inside = stats.in_window(requests, start, end)
    seconds = max(end - start, 1e-9)
    judged = stats.judge_kinds(inside, objectives)
    window_samples = [s for s in samples if start <= s.t < end]
    containers: dict[str, list[float]] = {}
    for sample in window_samples:
        for service, cpu in sample.containers.items():
            containers.setdefault(service, []).append(cpu)
    running = min((count for t, count in users if start <= t < end), default=0)
    kinds = {kind: stats.summary(rows, seconds) for kind, rows in stats.by_kind(inside).items()}
    endpoints = {name: stats.summary(rows, seconds).p95_ms for name, rows in stats.by_endpoint(inside).items()}
    slowest = max(endpoints, key=lambda name: endpoints[name], default=None)
    tool_calls = kinds.get("tool-call")
    return KneeStep(
        users=step.users,
        users_running=running,
        window=(start, end),
        rps=round(len(inside) / seconds, 1),
        tool_call_rps=round(tool_calls.rps, 1) if tool_calls else 0.0,
        kinds=kinds,
        endpoints_p95_ms=endpoints,
        slowest_endpoint=SlowestEndpoint(slowest, endpoints[slowest]) if slowest else None,
        judged=judged,
        passed=bool(judged) and all(v.passed for v in judged.values()) and running >= step.users,
        rate_limited=sum(1 for r in inside if r[stats.STATUS] == 429),
        connections_median=statistics.median([s.connections for s in window_samples]) if window_samples else 0,
        generator_cpu_peak=max((s.cpu for s in window_samples), default=0.0),
        generator_cpu_mean=round(statistics.fmean(s.cpu for s in window_samples), 1) if window_samples else 0.0,
        containers_cpu_mean={k: round(statistics.fmean(v), 1) for k, v in sorted(containers.items())},
    )


def find_knee(results: list[KneeStep]) -> Knee:
    """The last step that passed before the first that broke."""
    knee, broke = None, None
    for result in results:
        if not result.passed:
            broke = result
            break
        knee = result
    return Knee(
        users=knee.users if knee else None,
        rps=knee.rps if knee else None,
        tool_call_rps=knee.tool_call_rps if knee else None,
        broken_at_users=broke.users if broke else None,
        broken=sorted(k for k, v in broke.judged.items() if not v.passed) if broke else [],
        reached_the_end=broke is None,
    )


def knee_on_fresh_stack(report_dir: Path, *, log: Log = print, **options: Any) -> KneeReport:
    """run_knee against a stack of the dev catalog with the rate limits lifted (stack_variants.knee_stack), removed
    afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="mcpstack-knee-") as workdir,
        variant_stack(Path(workdir) / "config", knee_stack, "mcpstack-knee") as stack,
    ):
        target = local_target(stack)
        preflight(target)
        return run_knee(target, report_dir, log=log, **options)
