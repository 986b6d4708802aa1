"""The knee's plot: p95 per step against the objectives, throughput per step, and CPU per step (where the time
goes), with the knee and the first broken step marked."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from mcpstack.capacity.knee_report import KneeReport
from mcpstack.capacity.plotting import COLOURS, CPU_COLOURS, LEGEND, ms_axis, objective_lines, save, styled

KNEE_COLOUR = "#2ca02c"
BROKEN_COLOUR = "#d62728"


def plot_knee(report: KneeReport, path: Path) -> Path:
    results = report.steps
    users = [r.users for r in results]
    with styled():
        figure = Figure(figsize=(13, 11))
        latency, rate, cpu = figure.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]})
        kinds = []
        for kind, colour in COLOURS.items():
            values = [figures.p95_ms if (figures := r.kinds.get(kind)) else math.nan for r in results]
            if all(math.isnan(v) for v in values):
                continue
            kinds.append(kind)
            latency.plot(users, values, "-o", color=colour, label=f"{kind} p95")
        objectives = {kind: o.p95_ms if (o := report.objectives.get(kind)) else None for kind in kinds}
        objective_lines(latency, objectives, left=True)
        ms_axis(latency)
        latency.set_ylabel("p95 latency")
        latency.set_title("p95 latency per step (after settling) against the objectives")
        rate.plot(users, [r.rps for r in results], "-o", color="black", label="all requests")
        rate.plot(users, [r.tool_call_rps for r in results], "-o", color=COLOURS["tool-call"], label="tool calls")
        rate.set_ylabel("requests/s")
        rate.set_ylim(bottom=0)
        rate.set_title("Throughput per step")
        _cpu_panel(cpu, report, users)
        _mark_knee(report, rate, (latency, rate, cpu))
        _mark_break(report, latency, (latency, rate, cpu))
        for axis in (latency, rate, cpu):
            axis.legend(**LEGEND)
        machine = report.machine
        figure.suptitle(
            f"Knee of the {report.target.environment} stack (rate limits lifted), load generator on the same "
            f"machine\n{machine.cpus} CPUs, {machine.memory_gib:g} GiB, kernel {machine.kernel}, {report.date[:10]}",
            fontsize=12,
            fontweight="bold",
        )
        return save(figure, path)


def _cpu_panel(cpu: Any, report: KneeReport, users: list[int]) -> None:
    results = report.steps
    cpu.plot(users, [r.generator_cpu_mean for r in results], "--^", color=CPU_COLOURS["load generator"],
             label="load generator")  # fmt: skip
    services = sorted({name for r in results for name in r.containers_cpu_mean})
    for service in services:
        values = [r.containers_cpu_mean.get(service, math.nan) for r in results]
        if max((v for v in values if not math.isnan(v)), default=0) >= 5:
            cpu.plot(users, values, "-s", color=CPU_COLOURS.get(service), label=f"{service} (container)")
    cpu.set_ylabel("mean CPU, % of one core")
    cpu.set_ylim(bottom=0)
    cpu.set_title("CPU per step: where the time goes")
    load = report.load
    cpu.set_xlabel(f"concurrent users (each: one call, then {load.think_min:g}-{load.think_max:g} s think time)")


def _mark_knee(report: KneeReport, rate: Any, axes: tuple[Any, ...]) -> None:
    """The knee: a line through every panel, labelled in the throughput panel's lower left of it (below the
    throughput lines, which rise to the right)."""
    knee = report.knee
    if not knee.users:
        return
    for axis in axes:
        axis.axvline(knee.users, color=KNEE_COLOUR, lw=2.5, alpha=0.6, label="knee" if axis is axes[1] else None)
    rate.annotate(
        f"knee: {knee.users} users\n{knee.rps:g} req/s\n({knee.tool_call_rps:g} tool calls/s)",
        (knee.users, 0.04),
        xycoords=("data", "axes fraction"),
        xytext=(-6, 0),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color=KNEE_COLOUR,
        fontsize=10,
        fontweight="bold",
    )


def _mark_break(report: KneeReport, latency: Any, axes: tuple[Any, ...]) -> None:
    """The first step that broke: a dashed line, and what it missed."""
    broken = next((r for r in report.steps if not r.passed), None)
    if broken is None:
        return
    total = sum(k.requests for k in broken.kinds.values())
    failed = sum(k.failures for k in broken.kinds.values())
    missed = [
        f"{kind} p95 {v.p95_ms:.0f} ms, {v.success_rate * 100:.2f}% ok"
        for kind, v in broken.judged.items()
        if not v.passed
    ]
    if broken.users_running < broken.users:
        missed.append(f"only {broken.users_running} users running")
    if broken.slowest_endpoint:
        missed.append(f"slowest: {broken.slowest_endpoint.endpoint} p95 {broken.slowest_endpoint.p95_ms:.0f} ms")
    success = (total - failed) / total * 100 if total else 0.0
    for axis in axes:
        axis.axvline(broken.users, color=BROKEN_COLOUR, ls="--", lw=1.5, alpha=0.7)
    latency.annotate(
        "\n".join([f"{broken.users} users, broken:", *missed, f"all requests {success:.2f}% ok"]),
        (broken.users, 0.03),
        xycoords=("data", "axes fraction"),
        xytext=(-6, 0),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color=BROKEN_COLOUR,
        fontsize=9,
    )
