"""Knee finding: steps of more users with a short think time (so more paced requests per second) until a step
misses an objective. The knee is the last step before the first one that broke: the most concurrent users, and the
request rate they drove, that the stack sustains within every objective on this hardware.

Each step is judged on its requests after a settling time, by kind of request (tool-call, discovery, health): p95
against the kind's objective and the success rate. Endpoint overrides do not apply here.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcpstack.loadtest import stats
from mcpstack.loadtest.gate import load_ceiling, machine, versions
from mcpstack.loadtest.report import write_json
from mcpstack.loadtest.runner import Log, Target, run_locust

STRESS_THINK = (0.5, 1.5)  # seconds: a stress run, not the SLO load (documented in docs/capacity.md)
DEFAULT_STEPS = (25, 50, 75, 100, 125, 150, 175, 200, 250, 300, 400)
STEP_SECONDS = 20.0
SETTLE_SECONDS = 5.0
SPAWN_RATE = 50.0


def kind_objectives(target: Target) -> dict[str, dict[str, float]]:
    assert target.catalog is not None
    slos = target.catalog.slos
    return {
        kind: {
            **({"p95_ms": objective.p95_ms} if objective.p95_ms is not None else {}),
            "success_rate": objective.success_rate or slos.success_rate,
        }
        for kind, objective in slos.objectives.items()
    }


def run_stress(
    target: Target,
    report_dir: Path,
    *,
    steps: tuple[int, ...] = DEFAULT_STEPS,
    step_seconds: float = STEP_SECONDS,
    settle_seconds: float = SETTLE_SECONDS,
    log: Log = print,
) -> dict[str, Any]:
    objectives = kind_objectives(target)
    load_before = [round(x, 2) for x in os.getloadavg()]
    run = run_locust(
        "stress.py",
        target,
        report_dir,
        users=max(steps),
        spawn_rate=SPAWN_RATE,
        seconds=len(steps) * step_seconds + 15,
        environment={
            "LOADTEST_THINK_MIN": f"{STRESS_THINK[0]:g}",
            "LOADTEST_THINK_MAX": f"{STRESS_THINK[1]:g}",
            "LOADTEST_KEEPALIVE": "3",
            "LOADTEST_STEPS": ",".join(map(str, steps)),
            "LOADTEST_STEP_SECONDS": f"{step_seconds:g}",
            "LOADTEST_SETTLE_SECONDS": f"{settle_seconds:g}",
            "LOADTEST_SPAWN_RATE": f"{SPAWN_RATE:g}",
            "LOADTEST_OBJECTIVES": json.dumps(objectives),
        },
        log=log,
    )
    requests = run.record["requests"]
    results = [
        judge_step(step, requests, run.record["users"], run.samples, objectives, settle_seconds)
        for step in run.record["steps"]
        if "end" in step
    ]
    knee = find_knee(results)
    report = {
        "scenario": "stress",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": {"url": target.url, "stack": target.stack, "environment": target.catalog.environment},  # type: ignore[union-attr]
        "load": {
            "think_time_seconds": {"min": STRESS_THINK[0], "max": STRESS_THINK[1]},
            "steps": list(steps),
            "step_seconds": step_seconds,
            "settle_seconds": settle_seconds,
        },
        "objectives": objectives,
        "steps": results,
        "knee": knee,
        "machine": machine(),
        "conditions": {
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": versions(target),
        "generator_ceiling": load_ceiling(),
        "started": run.started,
        "users_series": run.record["users"],
        "samples": [vars(s) for s in run.samples],
    }
    report["files"] = {"knee": plot_knee(report, report_dir / "knee.png").name, "locust_html": "locust.html"}
    write_json(report, report_dir)
    return report


def judge_step(
    step: dict[str, Any],
    requests: list,
    users: list,
    samples: list,
    objectives: dict[str, dict[str, float]],
    settle_seconds: float,
) -> dict[str, Any]:
    start, end = step["start"] + settle_seconds, step["end"]
    inside = stats.in_window(requests, start, end)
    seconds = max(end - start, 1e-9)
    judged = stats.judge_kinds(inside, objectives)
    window_samples = [s for s in samples if start <= s.t < end]
    containers: dict[str, list[float]] = {}
    for sample in window_samples:
        for service, cpu in sample.containers.items():
            containers.setdefault(service, []).append(cpu)
    running = [count for t, count in users if start <= t < end]
    kinds = {kind: stats.summary(rows, seconds) for kind, rows in stats.by_kind(inside).items()}
    endpoints = {name: stats.summary(rows, seconds) for name, rows in stats.by_endpoint(inside).items()}
    slowest = max(endpoints, key=lambda name: endpoints[name]["p95_ms"], default=None)
    return {
        "users": step["users"],
        "users_running": min(running, default=0),
        "window": [start, end],
        "rps": round(len(inside) / seconds, 1),
        "tool_call_rps": round(kinds.get("tool-call", {}).get("rps", 0.0), 1),
        "kinds": kinds,
        "endpoints_p95_ms": {name: figures["p95_ms"] for name, figures in endpoints.items()},
        "slowest_endpoint": {"endpoint": slowest, "p95_ms": endpoints[slowest]["p95_ms"]} if slowest else None,
        "judged": judged,
        "passed": bool(judged)
        and all(v["passed"] for v in judged.values())
        and min(running, default=0) >= step["users"],
        "rate_limited": sum(1 for r in inside if r[stats.STATUS] == 429),
        "connections_median": statistics.median([s.connections for s in window_samples]) if window_samples else 0,
        "generator_cpu_peak": max((s.cpu for s in window_samples), default=0.0),
        "generator_cpu_mean": round(statistics.fmean(s.cpu for s in window_samples), 1) if window_samples else 0.0,
        "containers_cpu_mean": {k: round(statistics.fmean(v), 1) for k, v in sorted(containers.items())},
    }


def find_knee(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The last step that passed before the first that broke."""
    knee, broke = None, None
    for result in results:
        if not result["passed"]:
            broke = result
            break
        knee = result
    return {
        "users": knee["users"] if knee else None,
        "rps": knee["rps"] if knee else None,
        "tool_call_rps": knee["tool_call_rps"] if knee else None,
        "broken_at_users": broke["users"] if broke else None,
        "broken": sorted(k for k, v in broke["judged"].items() if not v["passed"]) if broke else [],
        "reached_the_end": broke is None,
    }


def plot_knee(report: dict[str, Any], path: Path) -> Path:
    from mcpstack.loadtest.report import COLOURS, CPU_COLOURS, LEGEND, _ms_axis, _pyplot, objective_lines

    plt = _pyplot()
    results = report["steps"]
    users = [r["users"] for r in results]
    figure, (latency, rate, cpu) = plt.subplots(
        3, 1, figsize=(13, 11), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
    )
    kinds = []
    for kind, colour in COLOURS.items():
        values = [(r["kinds"].get(kind) or {}).get("p95_ms", math.nan) for r in results]
        values = [math.nan if v is None else v for v in values]
        if all(math.isnan(v) for v in values):
            continue
        kinds.append(kind)
        latency.plot(users, values, "-o", color=colour, label=f"{kind} p95")
    objective_lines(latency, report["objectives"], kinds, left=True)
    _ms_axis(latency)
    latency.set_ylabel("p95 latency")
    latency.set_title("p95 latency per step (after settling) against the objectives")
    rate.plot(users, [r["rps"] for r in results], "-o", color="black", label="all requests")
    rate.plot(users, [r["tool_call_rps"] for r in results], "-o", color=COLOURS["tool-call"], label="tool calls")
    rate.set_ylabel("requests/s")
    rate.set_ylim(bottom=0)
    rate.set_title("Throughput per step")
    cpu.plot(users, [r["generator_cpu_mean"] for r in results], "--^", color=CPU_COLOURS["load generator"],
             label="load generator")  # fmt: skip
    services = sorted({name for r in results for name in r["containers_cpu_mean"]})
    for service in services:
        values = [r["containers_cpu_mean"].get(service, math.nan) for r in results]
        if max((v for v in values if not math.isnan(v)), default=0) >= 5:
            cpu.plot(users, values, "-s", color=CPU_COLOURS.get(service), label=f"{service} (container)")
    cpu.set_ylabel("mean CPU, % of one core")
    cpu.set_ylim(bottom=0)
    cpu.set_title("CPU per step: where the time goes")
    think = report["load"]["think_time_seconds"]
    cpu.set_xlabel(f"concurrent users (each: one call, then {think['min']:g}-{think['max']:g} s think time)")
    _mark_knee(report, rate, (latency, rate, cpu))
    _mark_break(report, latency, (latency, rate, cpu))
    for axis in (latency, rate, cpu):
        axis.legend(**LEGEND)
    machine = report["machine"]
    figure.suptitle(
        f"Knee of the {report['target']['environment']} stack (rate limits lifted), load generator on the same machine"
        f"\n{machine['cpus']} CPUs, {machine['memory_gib']:g} GiB, kernel {machine['kernel']}, {report['date'][:10]}",
        fontsize=12,
        fontweight="bold",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _mark_knee(report: dict[str, Any], rate: Any, axes: tuple[Any, ...]) -> None:
    """The knee: a line through every panel, labelled in the throughput panel's lower left of it (below the
    throughput lines, which rise to the right)."""
    knee = report["knee"]
    if not knee["users"]:
        return
    for axis in axes:
        axis.axvline(knee["users"], color="#2ca02c", lw=2.5, alpha=0.6, label="knee" if axis is axes[1] else None)
    rate.annotate(
        f"knee: {knee['users']} users\n{knee['rps']:g} req/s\n({knee['tool_call_rps']:g} tool calls/s)",
        (knee["users"], 0.04),
        xycoords=("data", "axes fraction"),
        xytext=(-6, 0),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color="#2ca02c",
        fontsize=10,
        fontweight="bold",
    )


def _mark_break(report: dict[str, Any], latency: Any, axes: tuple[Any, ...]) -> None:
    """The first step that broke: a dashed line, and what it missed."""
    broken = next((r for r in report["steps"] if not r["passed"]), None)
    if broken is None:
        return
    total = sum(k["requests"] for k in broken["kinds"].values())
    failed = sum(k["failures"] for k in broken["kinds"].values())
    missed = [
        f"{kind} p95 {v['p95_ms']:.0f} ms, {v['success_rate'] * 100:.2f}% ok"
        for kind, v in broken["judged"].items()
        if not v["passed"]
    ]
    if broken["users_running"] < broken["users"]:
        missed.append(f"only {broken['users_running']} users running")
    slowest = broken.get("slowest_endpoint")
    if slowest:
        missed.append(f"slowest: {slowest['endpoint']} p95 {slowest['p95_ms']:.0f} ms")
    success = (total - failed) / total * 100 if total else 0.0
    for axis in axes:
        axis.axvline(broken["users"], color="#d62728", ls="--", lw=1.5, alpha=0.7)
    latency.annotate(
        "\n".join([f"{broken['users']} users, broken:", *missed, f"all requests {success:.2f}% ok"]),
        (broken["users"], 0.03),
        xycoords=("data", "axes fraction"),
        xytext=(-6, 0),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color="#d62728",
        fontsize=9,
    )


def lift_rate_limits(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    """The knee's stack: the catalog as shipped, rate limits out of the way (they would be the knee otherwise), and
    no Open WebUI - it is not on the measured path (the load generator plays its part) and would take CPU."""
    for service in catalog["services"].values():
        if service.get("kind") == "gateway":
            service["gateway"]["rate_limits"].update(per_client_per_minute=10**9, global_per_minute=10**9)
    overlay.setdefault("local", {}).setdefault("skip", []).append("open-webui")


def stress_on_fresh_stack(report_dir: Path, *, log: Log = print, **options: Any) -> dict[str, Any]:
    """run_stress against a stack of the dev catalog with lift_rate_limits, removed afterwards."""
    import tempfile

    from mcpstack.loadtest.runner import local_target, preflight
    from mcpstack.local.variants import variant_stack

    with (
        tempfile.TemporaryDirectory(prefix="mcpstack-knee-") as workdir,
        variant_stack(Path(workdir) / "config", lift_rate_limits, "mcpstack-knee") as stack,
    ):
        target = local_target(stack)
        preflight(target)
        return run_stress(target, report_dir, log=log, **options)
