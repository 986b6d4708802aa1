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
    path.write_text(json.dumps(report, indent=1, default=_plain) + "\n")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"cannot serialise {type(value).__name__}")


def table(report: dict[str, Any]) -> Table:
    load = report["load"]
    verdict = "[green]PASSED[/green]" if report["passed"] else "[red]FAILED[/red]"
    users = f"{load['users']} users" + (f" + {load['noisy_clients']} noisy" if load.get("noisy_clients") else "")
    title = (
        f"SLO gate ({report['scenario']}): {verdict} - {users}, {load['duration_seconds']:g} s measured, "
        f"{report['target']['url']} ({report['target']['environment']})"
    )
    result = Table("SLO", "target", "measured", "result", title=title, title_justify="left")
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
                f"[yellow]warning:[/yellow] the load generator used {v['details']['peak_cpu']:.0f}% of its core: it "
                "may have limited the load or added latency (docs/capacity.md#the-load-generator)"
            )


def markdown_table(report: dict[str, Any]) -> str:
    lines = ["| SLO | target | measured | result |", "|---|---|---|---|"]
    for v in report["verdicts"]:
        outcome = "warn" if v["warning"] else "pass" if v["passed"] else "**FAIL**"
        name = v["slo"] if v["group"] == "objective" else f"{v['group']}: {v['slo']}"
        lines.append(f"| {name} | {v['target']} | {v['measured']} | {outcome} |")
    return "\n".join(lines) + "\n"


# -- plots ------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "axes.titleweight": "bold"})
    return plt


def _ms_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g} ms"))


def plot_timeline(report: dict[str, Any], requests: list, samples: list, path: Path) -> Path:
    """Latency percentiles, throughput, users and connections over time; the ramp-up shaded."""
    plt = _pyplot()
    started = report["started"]
    window = report["load"]["window"]
    end = max([started + 1] + [r[stats.START] for r in requests])
    present = {stats.kind_of(r[stats.NAME]) for r in requests}
    kinds = [k for k in COLOURS if k in present]
    series = stats.time_series(requests, started, end + 0.001, 5.0, kinds)
    figure, (latency, throughput, users) = plt.subplots(
        3, 1, figsize=(12, 10), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
    )
    _latency_panel(latency, series, kinds, report["objectives"]["objectives"])
    _throughput_panel(throughput, series, kinds)
    _users_panel(users, report.get("users_series") or [], samples, started)
    for axis in (latency, throughput, users):
        if window:
            axis.axvspan(0, window[0] - started, color="#999999", alpha=0.18, lw=0)
            axis.axvspan(window[1] - started, end - started + 5, color="#999999", alpha=0.18, lw=0)
    if window:
        latency.text(1, latency.get_ylim()[1], " ramp-up\n (not measured)", va="top", fontsize=8, color="#555555")
    figure.suptitle(_caption(report), fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _latency_panel(axis: Any, series: dict[str, Any], kinds: list[str], objectives: dict[str, Any]) -> None:
    t = [x + series["bin_seconds"] / 2 for x in series["t"]]
    for kind in kinds:
        colour = COLOURS[kind]
        axis.plot(t, series[kind]["p95_ms"], "-o", ms=3, color=colour, label=f"{kind} p95")
        axis.plot(t, series[kind]["p50_ms"], "--", color=colour, alpha=0.6, label=f"{kind} p50")
        objective = (objectives.get(kind) or {}).get("p95_ms")
        if objective:
            axis.axhline(objective, color=colour, ls=":", lw=1.5)
            axis.annotate(
                f"{kind} objective: p95 < {objective:g} ms",
                (0.995, objective),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                color=colour,
                fontsize=9,
            )
    _ms_axis(axis)
    axis.set_title("Latency per 5 s (p95 solid, p50 dashed); dotted: objectives")
    axis.legend(loc="upper left", ncol=4, fontsize=8)


def _throughput_panel(axis: Any, series: dict[str, Any], kinds: list[str]) -> None:
    t = [x + series["bin_seconds"] / 2 for x in series["t"]]
    for kind in kinds:
        axis.plot(t, series[kind]["rps"], "-", color=COLOURS[kind], label=kind)
        limited = series[kind]["rate_limited"]
        if any(limited):
            axis.bar(t, [n / series["bin_seconds"] for n in limited], width=2, color="#d62728", alpha=0.4, label="429")
    axis.set_title("Throughput (requests/s)")
    axis.set_ylabel("req/s")
    axis.legend(loc="upper left", ncol=5, fontsize=8)


def _users_panel(axis: Any, user_points: list, samples: list, started: float) -> None:
    if user_points:
        axis.step([p[0] - started for p in user_points], [p[1] for p in user_points], where="post", label="users")
    times = [s["t"] - started for s in samples]
    axis.plot(times, [s["connections"] for s in samples], ".", ms=4, label="connections held")
    axis.set_ylabel("users / connections")
    axis.set_ylim(bottom=0)
    axis.set_title("Users running, connections the load generator held, and its CPU")
    cpu = axis.twinx()
    cpu.plot(times, [s["cpu"] for s in samples], color="#7f7f7f", lw=1, label="load generator CPU %")
    cpu.set_ylim(0, 105)
    cpu.set_ylabel("load generator CPU %")
    cpu.grid(False)
    handles, labels = axis.get_legend_handles_labels()
    more_handles, more_labels = cpu.get_legend_handles_labels()
    axis.legend(handles + more_handles, labels + more_labels, loc="lower right", fontsize=8)
    axis.set_xlabel("seconds since start")


def plot_histograms(report: dict[str, Any], requests: list, path: Path) -> Path:
    """One latency histogram per endpoint (log-spaced bins), with p50, p95 and the objective."""
    plt = _pyplot()
    import numpy as np

    window = report["load"]["window"]
    inside = stats.in_window(requests, *window) if window else requests
    endpoints = stats.by_endpoint(inside)
    columns = 3
    rows = max(1, math.ceil(len(endpoints) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(13, 3.2 * rows), squeeze=False)
    objectives = report["objectives"]
    for axis, (endpoint, rows_) in zip(axes.flat, endpoints.items(), strict=False):
        latencies = np.array([max(r[stats.LATENCY], 0.1) for r in rows_])
        edges = np.logspace(math.log10(latencies.min()), math.log10(max(latencies.max(), latencies.min() * 1.5)), 40)
        kind = stats.kind_of(endpoint)
        axis.hist(latencies, bins=edges, color=COLOURS.get(kind, "#1f77b4"), alpha=0.8)
        axis.set_xscale("log")
        summary = stats.summary(rows_, 1)
        axis.axvline(summary["p50_ms"], color="#555555", ls="--", lw=1, label=f"p50 {summary['p50_ms']:.0f} ms")
        axis.axvline(summary["p95_ms"], color="black", lw=1.5, label=f"p95 {summary['p95_ms']:.0f} ms")
        override = objectives["endpoints"].get(endpoint) or {}
        objective = override.get("p95_ms") or (objectives["objectives"].get(kind) or {}).get("p95_ms")
        if objective:
            axis.axvline(objective, color="#d62728", ls=":", lw=2, label=f"objective {objective:g} ms")
        axis.set_title(f"{endpoint} (n={len(rows_)})", fontsize=10)
        axis.set_xlabel("latency (ms, log)")
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[len(endpoints) :]:
        axis.axis("off")
    figure.suptitle("Latency distribution per endpoint, measured window only. " + _caption(report), fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _caption(report: dict[str, Any]) -> str:
    load = report["load"]
    machine = report["machine"]
    think = load["think_time_seconds"]
    return (
        f"{load['users']} users, think {think['min']:g}-{think['max']:g} s, {load['duration_seconds']:g} s measured "
        f"- {report['target']['environment']} stack, {machine['cpus']} CPUs, {report['date'][:10]}"
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


def _p95(kinds: dict[str, Any], kind: str) -> str:
    value = kinds.get(kind, {}).get("p95_ms")
    return "-" if value is None or math.isnan(value) else f"{value:.0f} ms"
