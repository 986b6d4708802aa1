"""The SLO gate: the SLO scenario (or the rate-limit scenario) at the catalog's load, evaluated into verdicts and a
report. The measured window starts when the last user has been started (the ramp-up is not measured) and lasts
`duration`; the run goes on TAIL_SECONDS longer so that requests started in the window can finish, and a request
still unanswered when the run stops is recorded as an unfinished failure (loadtests/common.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcpstack.capacity import evaluate, stats
from mcpstack.capacity.ceiling import Ceiling, load_ceiling
from mcpstack.capacity.gate_load import SCENARIOS, GateLoad
from mcpstack.capacity.gate_plots import plot_histograms, plot_timeline
from mcpstack.capacity.gate_report import ContainerCpu, GateReport, GeneratorFigures, MeasuredLoad, SlowRequest
from mcpstack.capacity.locust_run import Log, Target, TargetInfo, run_locust
from mcpstack.capacity.machine import Conditions, load_average, machine, now, versions
from mcpstack.capacity.record import LocustRun, Record
from mcpstack.capacity.report import write_report
from mcpstack.capacity.stats import Request
from mcpstack.capacity.tables import gate_markdown

KEEPALIVE_SECONDS = 3.0  # below the gateway's (uvicorn's) 5 s idle timeout, with room for a busy generator
TAIL_SECONDS = 5.0  # after the window: requests started in it finish (or are recorded as unfinished: failures)
NOISY_RATE = 10.0  # calls/s of the rate-limit scenario's noisy client
Window = tuple[float, float]


def run_gate(
    target: Target,
    report_dir: Path,
    *,
    scenario: str = "slo",
    users: int | None = None,
    duration: str | float | None = None,
    spawn_rate: float | None = None,
    think: str | tuple[float, float] | None = None,
    log: Log = print,
) -> GateReport:
    catalog = target.catalog
    if catalog is None:
        raise ValueError("the SLO gate needs the catalog the target was deployed from")
    load = GateLoad.of(catalog.slos, scenario, users, duration, spawn_rate, think)
    ramp = load.total / load.spawn_rate
    before = load_average()
    run = run_locust(
        SCENARIOS[scenario],
        target,
        report_dir,
        users=load.total,
        spawn_rate=load.spawn_rate,
        seconds=ramp * 2 + 30 + load.measured + TAIL_SECONDS,  # a cap: the locustfile stops the run itself
        environment={
            "LOADTEST_STOP_AFTER": f"{load.measured + TAIL_SECONDS:g}",
            "LOADTEST_THINK_MIN": f"{load.think_min:g}",
            "LOADTEST_THINK_MAX": f"{load.think_max:g}",
            "LOADTEST_KEEPALIVE": f"{KEEPALIVE_SECONDS:g}",
            "LOADTEST_NOISY_RATE": f"{NOISY_RATE:g}",
        },
        log=log,
    )
    conditions = Conditions(load_average_before=before, load_average_after=load_average())
    return evaluate_run(run, target, load, conditions=conditions, ceiling=load_ceiling())


def evaluate_run(
    run: LocustRun,
    target: Target,
    load: GateLoad,
    *,
    conditions: Conditions | None = None,
    ceiling: Ceiling | None = None,
) -> GateReport:
    """The report of one run: every verdict, the figures behind them, and what the plots need (pure but for the
    machine and version facts)."""
    assert target.catalog is not None
    slos = target.catalog.slos
    window = measured_window(run, load.total, load.measured)
    requests = run.record.requests
    inside = stats.in_window(requests, *window) if window else []
    span = (window[1] - window[0]) if window else 0.0
    verdicts = evaluate.objective_verdicts(inside, slos, span)
    verdicts += evaluate.concurrency_verdicts(inside, run.record.users, run.samples, load.total, window)
    verdicts.append(evaluate.within_limits_verdict(inside))
    if load.noisy:
        verdicts += evaluate.noisy_verdicts(requests, target.gateway.gateway.rate_limits)
    verdicts.append(evaluate.locustfile_verdict(run.record.errors, run.exit_code))
    verdicts.append(evaluate.generator_verdict(run.samples, window, ceiling, len(inside) / span if span else 0.0))
    measured_load = MeasuredLoad(
        users=load.users,
        noisy_clients=load.noisy,
        noisy_calls_per_second=NOISY_RATE if load.noisy else None,
        think_min=load.think_min,
        think_max=load.think_max,
        think_time_from_catalog=(load.think_min, load.think_max)
        == (slos.load.think_time_seconds.min, slos.load.think_time_seconds.max),
        keepalive_seconds=KEEPALIVE_SECONDS,
        spawn_rate=load.spawn_rate,
        duration_seconds=load.measured,
        window=window,
        ramp_up_seconds=round(window[0] - run.started, 2) if window else None,
    )
    return GateReport(
        scenario=load.scenario,
        passed=all(v.passed for v in verdicts),
        date=now(),
        target=TargetInfo.of(target),
        load=measured_load,
        objectives=slos,
        machine=machine(),
        conditions=conditions or Conditions(),
        versions=versions(target),
        endpoints={name: stats.summary(rows, span) for name, rows in stats.by_endpoint(inside).items()},
        kinds={kind: stats.summary(rows, span) for kind, rows in stats.by_kind(inside).items()},
        overall=stats.summary(inside, span),
        verdicts=verdicts,
        generator=generator_figures(run, window, ceiling),
        containers_cpu=container_figures(run, window),
        failures=evaluate.failures_by_reason(inside),
        slowest=slowest(inside),
        locust_exit_code=run.exit_code,
        locustfile_errors=run.record.errors[:20],
        series=stats.time_series(requests, run.started, run.ended, 2.0, evaluate.kinds_present(requests)),
        started=run.started,
        ended=run.ended,
        users_series=run.record.users,
        samples=run.samples,
    )


def gate(target: Target, report_dir: Path, *, log: Log = print, **options: Any) -> GateReport:
    """Run, evaluate, and write report.json, report.md and the plots next to locust's HTML report."""
    report = run_gate(target, report_dir, log=log, **options)
    requests = Record.from_json(json.loads((report_dir / "requests.json").read_text())).requests
    files = {
        "report": "report.json",
        "locust_html": "locust.html",
        "requests": "requests.json",
        "markdown": "report.md",
        "timeline": plot_timeline(report, requests, report_dir / "timeline.png").name,
        "histograms": plot_histograms(report, requests, report_dir / "histograms.png").name,
    }
    report = replace(report, files=files)
    write_report(report, report_dir, gate_markdown(report))
    return report


def measured_window(run: LocustRun, total: int, measured: float) -> Window | None:
    """From the moment every user was running to `measured` seconds later (cut short if the run ended first)."""
    spawned = [t for t, count in run.record.spawned if count >= total]
    if not spawned:
        return None
    start = spawned[0]
    return start, min(start + measured, run.ended - TAIL_SECONDS / 2)


def slowest(requests: list[Request], count: int = 5) -> list[SlowRequest]:
    """The slowest requests with their correlation IDs: grep the gateway's log for them."""
    ranked = sorted(requests, key=lambda r: -r[stats.LATENCY])[:count]
    return [SlowRequest(r[stats.NAME], r[stats.LATENCY], r[stats.STATUS], r[stats.CID]) for r in ranked]


def generator_figures(run: LocustRun, window: Window | None, ceiling: Ceiling | None) -> GeneratorFigures:
    inside = [s for s in run.samples if window is None or window[0] <= s.t < window[1]]
    rps = len(stats.in_window(run.record.requests, *window)) / (window[1] - window[0]) if window else 0.0
    return GeneratorFigures(
        peak_cpu_percent=max((s.cpu for s in inside), default=0.0),
        mean_cpu_percent=round(sum(s.cpu for s in inside) / len(inside), 1) if inside else 0.0,
        rps=round(rps, 1),
        ceiling=ceiling,
        fraction_of_ceiling=round(rps / ceiling.rps, 3) if ceiling else None,
    )


def container_figures(run: LocustRun, window: Window | None) -> dict[str, ContainerCpu]:
    inside = [s for s in run.samples if window is None or window[0] <= s.t < window[1]]
    services = sorted({name for s in inside for name in s.containers})
    figures = {}
    for service in services:
        values = [s.containers[service] for s in inside if service in s.containers]
        figures[service] = ContainerCpu(
            mean_cpu_percent=round(sum(values) / len(values), 1), peak_cpu_percent=max(values)
        )
    return figures
