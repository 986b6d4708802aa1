"""What a run leaves behind: report.json, the verdict table on the terminal, and PNG plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mcpstack.loadtest import stats

COLOURS = {"tool-call": "#1f77b4", "discovery": "#2ca02c", "health": "#9467bd", "noisy": "#d62728"}


def write_json(report: dict[str, Any], report_dir: Path) -> Path:
    path = report_dir / "report.json"
    path.write_text(json.dumps(plain(report), indent=1, allow_nan=False) + "\n")
    return path


def plain(value: Any) -> Any:
    """The value as strict JSON: NaN (an empty bin's percentile, a kind with no requests) becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def table(report: dict[str, Any]) -> Table:
    load = report["load"]
    verdict = "[green]PASSED[/green]" if report["passed"] else "[red]FAILED[/red]"
    users = f"{load['users']} users" + (f" + {load['noisy_clients']} noisy" if load.get("noisy_clients") else "")
    think = load["think_time_seconds"]
    title = (
        f"SLO gate ({report['scenario']}): {verdict} - {users}, {load['duration_seconds']:g} s measured, think "
        f"{think['min']:g}-{think['max']:g} s, {report['target']['url']} ({report['target']['environment']})"
    )
    result = Table(title=title, title_justify="left")
    result.add_column("SLO", no_wrap=True)
    result.add_column("target")
    result.add_column("measured")
    result.add_column("result", no_wrap=True)
    for v in report["verdicts"]:
        if v["warning"]:
            outcome = "[yellow]warn[/yellow]"
        else:
            outcome = "[green]pass[/green]" if v["passed"] else "[red]FAIL[/red]"
        name = v["slo"] if v["group"] == "objective" else f"{v['group']}: {v['slo']}"
        result.add_row(name, v["target"], v["measured"], outcome)
    return result


def print_summary(report: dict[str, Any], console: Console) -> None:
    console.print(table(report))
    for failure in report.get("failures", [])[:5]:
        console.print(f"  failed {failure['count']}x {failure['endpoint']}: {failure['error']}", highlight=False)
    for v in report["verdicts"]:
        if v["warning"]:
            console.print(
                f"[yellow]warning:[/yellow] the load generator came close to its own limit ({v['measured']}): it may "
                "have limited the load or added latency (docs/capacity.md#the-load-generator)",
                highlight=False,
            )


def markdown_table(report: dict[str, Any]) -> str:
    lines = ["| SLO | target | measured | result |", "|---|---|---|---|"]
    for v in report["verdicts"]:
        outcome = "warn" if v["warning"] else "pass" if v["passed"] else "**FAIL**"
        name = v["slo"] if v["group"] == "objective" else f"{v['group']}: {v['slo']}"
        lines.append(f"| {name} | {v['target']} | {v['measured']} | {outcome} |")
    return "\n".join(lines) + "\n"


def write_markdown(report: dict[str, Any], report_dir: Path) -> Path:
    """The verdict table with what it was measured on, ready to paste into documentation."""
    load, machine, versions = report["load"], report["machine"], report["versions"]
    think = load["think_time_seconds"]
    noisy = f" + {load['noisy_clients']} noisy client" if load.get("noisy_clients") else ""
    lines = [
        f"**{report['scenario']}: {'PASSED' if report['passed'] else 'FAILED'}** - {load['users']} users{noisy}, "
        f"think {think['min']:g}-{think['max']:g} s, {load['duration_seconds']:g} s measured after a "
        f"{load['ramp_up_seconds']} s ramp-up; {report['target']['environment']} stack at {report['target']['url']}; "
        f"{report['date'][:16].replace('T', ' ')} UTC",
        "",
        f"Measured on {machine['cpus']} CPUs, {machine['memory_gib']:g} GiB, kernel {machine['kernel']}, Python "
        f"{machine['python']}, locust {versions['locust']}, load generator on the same machine; load average "
        f"{report['conditions'].get('load_average_before', ['?'])[0]} before the run; commit {versions['commit']}.",
        "",
        markdown_table(report),
    ]
    path = report_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


# -- plots ------------------------------------------------------------------------------------------

LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 8, "borderaxespad": 0}
CPU_COLOURS = {"load generator": "#7f7f7f", "mcpo": "#ff7f0e", "sandbox": "#8c564b", "time": "#17becf"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "axes.titleweight": "bold", "axes.titlesize": 11}
    )
    return plt


def _ms(value: float, _: Any = None) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def _ms_axis(axis: Any, which: str = "y", decades: float = 3.0) -> None:
    """A log scale in milliseconds, labelled 1 ms, 10 ms, 100 ms, 1 s - with 2 and 5 between them when the axis spans
    two decades or less - and no crowded minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = axis.yaxis if which == "y" else axis.xaxis
    (axis.set_yscale if which == "y" else axis.set_xscale)("log")
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.2 else (1.0,)))
    target.set_major_formatter(FuncFormatter(_ms))
    target.set_minor_formatter(NullFormatter())


def objective_lines(
    axis: Any, objectives: dict[str, Any], kinds: list[str], horizontal: bool = True, left: bool = False
) -> None:
    """One dotted line per distinct p95 objective, labelled with the kinds it applies to."""
    values: dict[float, list[str]] = {}
    for kind in kinds:
        value = (objectives.get(kind) or {}).get("p95_ms")
        if value:
            values.setdefault(value, []).append(kind)
    for value, names in sorted(values.items()):
        colour = COLOURS[names[0]] if len(names) == 1 else "#333333"
        label = f"p95 objective {_ms(value)}: {', '.join(names)}"
        if horizontal:
            axis.axhline(value, color=colour, ls=":", lw=1.6)
            axis.annotate(
                label, (0.005 if left else 0.995, value), xycoords=("axes fraction", "data"),
                ha="left" if left else "right", va="bottom", color=colour,
                fontsize=8.5,
            )  # fmt: skip
        else:
            axis.axvline(value, color=colour, ls=":", lw=2, label=label)


def _windows(axes: list[Any], report: dict[str, Any], end: float) -> None:
    window = report["load"]["window"]
    if not window:
        return
    started = report["started"]
    for axis in axes:
        axis.axvspan(0, window[0] - started, color="#999999", alpha=0.2, lw=0)
        axis.axvspan(window[1] - started, end, color="#999999", alpha=0.2, lw=0)
        axis.set_xlim(0, end)


def plot_timeline(report: dict[str, Any], requests: list, samples: list, path: Path) -> Path:
    """Latency percentiles, throughput, users and connections, CPU over time; what is not measured shaded."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    started = report["started"]
    end = max([started + 1] + [r[stats.START] for r in requests] + [s["t"] for s in samples]) - started
    present = {stats.kind_of(r[stats.NAME]) for r in requests}
    kinds = [k for k in COLOURS if k in present]
    series = stats.time_series(requests, started, started + end + 0.001, 5.0, kinds)
    figure, axes = plt.subplots(4, 1, figsize=(13, 12.5), sharex=True, gridspec_kw={"height_ratios": [3, 2, 1.6, 1.6]})
    latency, throughput, users, cpu = axes
    _latency_panel(latency, series, kinds, report["objectives"]["objectives"])
    _throughput_panel(throughput, series, kinds)
    _users_panel(users, report, samples)
    _cpu_panel(cpu, samples, started)
    _windows(list(axes), report, end)
    handles, labels = latency.get_legend_handles_labels()
    handles.append(Patch(color="#999999", alpha=0.3))
    labels.append("not measured\n(ramp-up, tail)")
    latency.legend(handles, labels, **LEGEND)
    figure.suptitle(_caption(report), fontsize=12, fontweight="bold")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _latency_panel(axis: Any, series: dict[str, Any], kinds: list[str], objectives: dict[str, Any]) -> None:
    t = [x + series["bin_seconds"] / 2 for x in series["t"]]
    for kind in kinds:
        colour = COLOURS[kind]
        axis.plot(t, series[kind]["p95_ms"], "-o", ms=3.5, color=colour, label=f"{kind} p95")
        axis.plot(t, series[kind]["p50_ms"], "--", color=colour, alpha=0.6, label=f"{kind} p50")
    objective_lines(axis, objectives, [k for k in kinds if k != "noisy"])
    _ms_axis(axis)
    highest = max([1.0] + [v for k in kinds for v in series[k]["p95_ms"] if not math.isnan(v)])
    highest = max([highest] + [(objectives.get(k) or {}).get("p95_ms") or 0 for k in kinds])
    axis.set_ylim(top=highest * 2.5)
    axis.set_ylabel("latency")
    axis.set_title(f"Latency per {series['bin_seconds']:g} s: p95 (solid), p50 (dashed); dotted: objectives")


def _throughput_panel(axis: Any, series: dict[str, Any], kinds: list[str]) -> None:
    width = series["bin_seconds"]
    t = [x + width / 2 for x in series["t"]]
    for kind in kinds:
        label = "noisy client (all answers)" if kind == "noisy" else kind
        axis.plot(t, series[kind]["rps"], "-o", ms=3, color=COLOURS[kind], label=label)
        limited = series[kind]["rate_limited"]
        if any(limited):
            axis.bar(
                t, [n / width for n in limited], width=width * 0.8, color=COLOURS["noisy"] if kind == "noisy" else
                "#ff9896", alpha=0.35, label=f"{kind}: 429 answers",
            )  # fmt: skip
    axis.set_title("Throughput")
    axis.set_ylabel("requests/s")
    axis.set_ylim(bottom=0)
    axis.legend(**LEGEND)


def _users_panel(axis: Any, report: dict[str, Any], samples: list) -> None:
    started = report["started"]
    points = report.get("users_series") or []
    load = report["load"]
    requested = load["users"] + (load.get("noisy_clients") or 0)
    if points:
        axis.step([p[0] - started for p in points], [p[1] for p in points], where="post", label="users running")
    axis.plot([s["t"] - started for s in samples], [s["connections"] for s in samples], ".", ms=5, color="#ff7f0e",
              label="connections held")  # fmt: skip
    axis.axhline(requested, color="black", ls=":", lw=1, label=f"requested: {requested}")
    axis.set_ylabel("count")
    axis.set_ylim(0, max([requested] + [p[1] for p in points] + [s["connections"] for s in samples]) * 1.15)
    axis.set_title("Users running and connections the load generator held to the target")
    axis.legend(**LEGEND)


def _cpu_panel(axis: Any, samples: list, started: float) -> None:
    times = [s["t"] - started for s in samples]
    axis.plot(times, [s["cpu"] for s in samples], color=CPU_COLOURS["load generator"], lw=1.5, label="load generator")
    services = sorted({name for s in samples for name in s.get("containers", {})})
    for service in services:
        values = [s.get("containers", {}).get(service, math.nan) for s in samples]
        if max((v for v in values if not math.isnan(v)), default=0) < 5:
            continue  # idle services only clutter the panel
        axis.plot(times, values, lw=1.2, color=CPU_COLOURS.get(service), label=f"{service} (container)")
    axis.axhline(90, color="#d62728", ls=":", lw=1, label="90%: generator warning")
    axis.set_ylim(
        0, 105 if not services else max(105.0, *(c for s in samples for c in s.get("containers", {}).values()))
    )
    axis.set_ylabel("% of one core")
    axis.set_xlabel("seconds since the load generator started")
    axis.set_title("CPU: the load generator and the busiest containers")
    axis.legend(**LEGEND)


def plot_histograms(report: dict[str, Any], requests: list, path: Path) -> Path:
    """One latency histogram per endpoint (log-spaced bins), with p50, p95 and the objective, measured window only."""
    plt = _pyplot()
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    window = report["load"]["window"]
    inside = stats.in_window(requests, *window) if window else requests
    endpoints = stats.by_endpoint(inside)
    columns = 3
    rows = max(1, math.ceil(len(endpoints) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(14, 3.3 * rows + 1.0), squeeze=False)
    objectives = report["objectives"]
    for axis, (endpoint, rows_) in zip(axes.flat, endpoints.items(), strict=False):
        latencies = np.array([max(r[stats.LATENCY], 0.1) for r in rows_])
        kind = stats.kind_of(endpoint)
        override = objectives["endpoints"].get(endpoint) or {}
        objective = override.get("p95_ms") or (objectives["objectives"].get(kind) or {}).get("p95_ms")
        low = min(latencies.min(), objective or math.inf) / 1.5
        high = max(latencies.max(), objective or 0) * 2
        edges = np.logspace(math.log10(low), math.log10(high), 45)
        axis.hist(latencies, bins=edges, color=COLOURS.get(kind, "#1f77b4"), alpha=0.85)
        _ms_axis(axis, "x", math.log10(high / low))
        axis.set_xlim(low, high)
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        figures = stats.summary(rows_, 1)
        axis.axvline(figures["p50_ms"], color="#555555", ls="--", lw=1.2)
        axis.axvline(figures["p95_ms"], color="black", lw=1.8)
        missed = objective is not None and figures["p95_ms"] >= objective
        if objective:
            axis.axvline(objective, color="#d62728", ls=":", lw=2.2)
            axis.axvspan(objective, high, color="#d62728", alpha=0.06, lw=0)
        failed = f", {figures['failures']} failed" if figures["failures"] else ""
        axis.set_title(
            f"{endpoint} (n={len(rows_)}{failed})\np50 {_ms(round(figures['p50_ms'], 1))}, "
            f"p95 {_ms(round(figures['p95_ms'], 1))}" + (f" - objective p95 < {_ms(objective)}" if objective else ""),
            fontsize=10,
            color="#d62728" if missed else "black",
        )
        axis.set_ylabel("requests")
    for axis in list(axes.flat)[len(endpoints) :]:
        axis.axis("off")
    figure.suptitle(
        "Latency per endpoint, measured window only: dashed p50, solid p95, red dotted the p95 objective\n"
        + _caption(report),
        fontsize=11.5,
        fontweight="bold",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _caption(report: dict[str, Any]) -> str:
    load = report["load"]
    machine = report["machine"]
    think = load["think_time_seconds"]
    noisy = f" + {load['noisy_clients']} noisy client" if load.get("noisy_clients") else ""
    return (
        f"{report['scenario']}: {load['users']} users{noisy}, think {think['min']:g}-{think['max']:g} s, "
        f"{load['duration_seconds']:g} s measured - {report['target']['environment']} at {report['target']['url']} - "
        f"{machine['cpus']} CPUs, {machine['memory_gib']:g} GiB, {report['date'][:10]}"
    )


def print_knee(result: dict[str, Any], console: Console) -> None:
    steps = Table(
        "users",
        "req/s",
        "tool calls/s",
        "tool-call p95",
        "health p95",
        "discovery p95",
        "success",
        "generator CPU",
        "gateway CPU",
        "within SLO",
        title="stress steps (each after settling)",
        title_justify="left",
    )
    for step in result["steps"]:
        kinds = step["kinds"]
        total = sum(k["requests"] for k in kinds.values())
        failed = sum(k["failures"] for k in kinds.values())
        gateway = step["containers_cpu_mean"].get("mcpo")
        steps.add_row(
            str(step["users"]),
            f"{step['rps']:.0f}",
            f"{step['tool_call_rps']:.0f}",
            *(_p95(kinds, kind) for kind in ("tool-call", "health", "discovery")),
            f"{(total - failed) / total * 100:.2f}%" if total else "-",
            f"{step['generator_cpu_mean']:.0f}%",
            "-" if gateway is None else f"{gateway:.0f}%",
            "[green]yes[/green]" if step["passed"] else "[red]no[/red]",
        )
    console.print(steps)
    knee = result["knee"]
    if knee["users"] is None:
        console.print("[red]no step was within every objective[/red]")
    else:
        beyond = (
            f"; at {knee['broken_at_users']} users {', '.join(knee['broken']) or 'the users'} missed the objectives"
            if knee["broken_at_users"]
            else " (the last step: the knee is further out)"
        )
        console.print(
            f"knee: {knee['users']} users, {knee['rps']:g} req/s ({knee['tool_call_rps']:g} tool calls/s){beyond}"
        )
    broken = next((step for step in result["steps"] if not step["passed"]), None)
    if broken is not None and broken.get("slowest_endpoint"):
        slowest = broken["slowest_endpoint"]
        console.print(
            f"slowest endpoint at {broken['users']} users: {slowest['endpoint']}, p95 {slowest['p95_ms']:.0f} ms"
        )


def _p95(kinds: dict[str, Any], kind: str) -> str:
    value = kinds.get(kind, {}).get("p95_ms")
    return "-" if value is None or math.isnan(value) else f"{value:.0f} ms"
