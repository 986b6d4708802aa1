"""The gate's plots: the run over time (latency, throughput, users and connections, CPU; what is not measured
shaded) and a latency histogram per endpoint."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from mcpstack.capacity import stats
from mcpstack.capacity.gate_report import GateReport
from mcpstack.capacity.plotting import COLOURS, CPU_COLOURS, LEGEND, ms, ms_axis, objective_lines, save, styled
from mcpstack.capacity.record import Sample
from mcpstack.capacity.stats import Request, TimeSeries
from mcpstack.catalog.models import Slos


def p95_objectives(slos: Slos, kinds: Sequence[str]) -> dict[str, float | None]:
    """The p95 objective of each kind to draw (none for a kind without one)."""
    p95: dict[str, float | None] = {kind: objective.p95_ms for kind, objective in slos.objectives.items()}
    return {kind: p95.get(kind) for kind in kinds}


def plot_timeline(report: GateReport, requests: Sequence[Request], path: Path) -> Path:
    """Latency percentiles, throughput, users and connections, CPU over time; what is not measured shaded."""
    samples = report.samples
    started = report.started
    end = max([started + 1] + [r[stats.START] for r in requests] + [s.t for s in samples]) - started
    present = {stats.kind_of(r[stats.NAME]) for r in requests}
    kinds = [k for k in COLOURS if k in present]
    series = stats.time_series(requests, started, started + end + 0.001, 5.0, kinds)
    with styled():
        figure = Figure(figsize=(13, 12.5))
        axes = figure.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 1.6, 1.6]})
        latency, throughput, users, cpu = axes
        _latency_panel(latency, series, kinds, report.objectives)
        _throughput_panel(throughput, series, kinds)
        _users_panel(users, report)
        _cpu_panel(cpu, samples, started)
        _windows(list(axes), report, end)
        handles, labels = latency.get_legend_handles_labels()
        handles.append(Patch(color="#999999", alpha=0.3))
        labels.append("not measured\n(ramp-up, tail)")
        latency.legend(handles, labels, **LEGEND)
        figure.suptitle(_caption(report), fontsize=12, fontweight="bold")
        return save(figure, path)


def _windows(axes: list[Any], report: GateReport, end: float) -> None:
    window = report.load.window
    if not window:
        return
    for axis in axes:
        axis.axvspan(0, window[0] - report.started, color="#999999", alpha=0.2, lw=0)
        axis.axvspan(window[1] - report.started, end, color="#999999", alpha=0.2, lw=0)
        axis.set_xlim(0, end)


def _latency_panel(axis: Any, series: TimeSeries, kinds: list[str], slos: Slos) -> None:
    t = [x + series.bin_seconds / 2 for x in series.t]
    for kind in kinds:
        colour = COLOURS[kind]
        axis.plot(t, series.kinds[kind].p95_ms, "-o", ms=3.5, color=colour, label=f"{kind} p95")
        axis.plot(t, series.kinds[kind].p50_ms, "--", color=colour, alpha=0.6, label=f"{kind} p50")
    objectives = p95_objectives(slos, [k for k in kinds if k != "noisy"])
    objective_lines(axis, objectives)
    ms_axis(axis)
    highest = max([1.0] + [v for k in kinds for v in series.kinds[k].p95_ms if not math.isnan(v)])
    highest = max([highest] + [v or 0 for v in p95_objectives(slos, kinds).values()])
    axis.set_ylim(top=highest * 2.5)
    axis.set_ylabel("latency")
    axis.set_title(f"Latency per {series.bin_seconds:g} s: p95 (solid), p50 (dashed); dotted: objectives")


def _throughput_panel(axis: Any, series: TimeSeries, kinds: list[str]) -> None:
    width = series.bin_seconds
    t = [x + width / 2 for x in series.t]
    for kind in kinds:
        label = "noisy client (all answers)" if kind == "noisy" else kind
        axis.plot(t, series.kinds[kind].rps, "-o", ms=3, color=COLOURS[kind], label=label)
        limited = series.kinds[kind].rate_limited
        if any(limited):
            axis.bar(
                t, [n / width for n in limited], width=width * 0.8, color=COLOURS["noisy"] if kind == "noisy" else
                "#ff9896", alpha=0.35, label=f"{kind}: 429 answers",
            )  # fmt: skip
    axis.set_title("Throughput")
    axis.set_ylabel("requests/s")
    axis.set_ylim(bottom=0)
    axis.legend(**LEGEND)


def _users_panel(axis: Any, report: GateReport) -> None:
    started, samples, points = report.started, report.samples, report.users_series
    requested = report.load.users + report.load.noisy_clients
    if points:
        axis.step([p[0] - started for p in points], [p[1] for p in points], where="post", label="users running")
    axis.plot([s.t - started for s in samples], [s.connections for s in samples], ".", ms=5, color="#ff7f0e",
              label="connections held")  # fmt: skip
    axis.axhline(requested, color="black", ls=":", lw=1, label=f"requested: {requested}")
    axis.set_ylabel("count")
    axis.set_ylim(0, max([requested] + [p[1] for p in points] + [s.connections for s in samples]) * 1.15)
    axis.set_title("Users running and connections the load generator held to the target")
    axis.legend(**LEGEND)


def _cpu_panel(axis: Any, samples: list[Sample], started: float) -> None:
    times = [s.t - started for s in samples]
    axis.plot(times, [s.cpu for s in samples], color=CPU_COLOURS["load generator"], lw=1.5, label="load generator")
    services = sorted({name for s in samples for name in s.containers})
    for service in services:
        values = [s.containers.get(service, math.nan) for s in samples]
        if max((v for v in values if not math.isnan(v)), default=0) < 5:
            continue  # idle services only clutter the panel
        axis.plot(times, values, lw=1.2, color=CPU_COLOURS.get(service), label=f"{service} (container)")
    axis.axhline(90, color="#d62728", ls=":", lw=1, label="90%: generator warning")
    axis.set_ylim(0, 105 if not services else max(105.0, *(c for s in samples for c in s.containers.values())))
    axis.set_ylabel("% of one core")
    axis.set_xlabel("seconds since the load generator started")
    axis.set_title("CPU: the load generator and the busiest containers")
    axis.legend(**LEGEND)


def plot_histograms(report: GateReport, requests: Sequence[Request], path: Path) -> Path:
    """One latency histogram per endpoint (log-spaced bins), with p50, p95 and the objective, measured window only."""
    window = report.load.window
    inside = stats.in_window(requests, *window) if window else list(requests)
    endpoints = stats.by_endpoint(inside)
    columns = 3
    rows = max(1, math.ceil(len(endpoints) / columns))
    with styled():
        figure = Figure(figsize=(14, 3.3 * rows + 1.0))
        axes = figure.subplots(rows, columns, squeeze=False)
        for axis, (endpoint, rows_) in zip(axes.flat, endpoints.items(), strict=False):
            _histogram(axis, endpoint, rows_, report.objectives)
        for axis in list(axes.flat)[len(endpoints) :]:
            axis.axis("off")
        figure.suptitle(
            "Latency per endpoint, measured window only: dashed p50, solid p95, red dotted the p95 objective\n"
            + _caption(report),
            fontsize=11.5,
            fontweight="bold",
        )
        return save(figure, path)


def _histogram(axis: Any, endpoint: str, rows: list[Request], slos: Slos) -> None:
    latencies = np.array([max(r[stats.LATENCY], 0.1) for r in rows])
    kind = stats.kind_of(endpoint)
    override = slos.endpoints.get(endpoint)
    objective = (override.p95_ms if override else None) or p95_objectives(slos, [kind])[kind]
    low = min(latencies.min(), objective or math.inf) / 1.5
    high = max(latencies.max(), objective or 0) * 2
    edges = np.logspace(math.log10(low), math.log10(high), 45)
    axis.hist(latencies, bins=edges, color=COLOURS.get(kind, "#1f77b4"), alpha=0.85)
    ms_axis(axis, "x", math.log10(high / low))
    axis.set_xlim(low, high)
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    figures = stats.summary(rows, 1)
    axis.axvline(figures.p50_ms, color="#555555", ls="--", lw=1.2)
    axis.axvline(figures.p95_ms, color="black", lw=1.8)
    missed = objective is not None and figures.p95_ms >= objective
    if objective:
        axis.axvline(objective, color="#d62728", ls=":", lw=2.2)
        axis.axvspan(objective, high, color="#d62728", alpha=0.06, lw=0)
    failed = f", {figures.failures} failed" if figures.failures else ""
    axis.set_title(
        f"{endpoint} (n={len(rows)}{failed})\np50 {ms(round(figures.p50_ms, 1))}, "
        f"p95 {ms(round(figures.p95_ms, 1))}" + (f" - objective p95 < {ms(objective)}" if objective else ""),
        fontsize=10,
        color="#d62728" if missed else "black",
    )
    axis.set_ylabel("requests")


def _caption(report: GateReport) -> str:
    load, machine = report.load, report.machine
    noisy = f" + {load.noisy_clients} noisy client" if load.noisy_clients else ""
    return (
        f"{report.scenario}: {load.users} users{noisy}, think {load.think_min:g}-{load.think_max:g} s, "
        f"{load.duration_seconds:g} s measured - {report.target.environment} at {report.target.url} - "
        f"{machine.cpus} CPUs, {machine.memory_gib:g} GiB, {report.date[:10]}"
    )
