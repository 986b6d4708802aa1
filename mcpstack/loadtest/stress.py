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
from mcpstack.loadtest.runner import Log, Target, run_locust

STRESS_THINK = (0.5, 1.5)  # seconds: a stress run, not the SLO load (documented in docs/capacity.md)
DEFAULT_STEPS = (10, 25, 50, 75, 100, 150, 200, 250, 300, 400)
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
    (report_dir / "report.json").write_text(json.dumps(report, indent=1, default=_nan) + "\n")
    return report


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(type(value).__name__)


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
    return {
        "users": step["users"],
        "users_running": min(running, default=0),
        "window": [start, end],
        "rps": round(len(inside) / seconds, 1),
        "tool_call_rps": round(kinds.get("tool-call", {}).get("rps", 0.0), 1),
        "kinds": kinds,
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
    from mcpstack.loadtest.report import COLOURS, _ms_axis, _pyplot

    plt = _pyplot()
    results = report["steps"]
    users = [r["users"] for r in results]
    figure, (latency, rate) = plt.subplots(2, 1, figsize=(11, 8), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for kind, colour in COLOURS.items():
        values = [r["kinds"].get(kind, {}).get("p95_ms", math.nan) for r in results]
        if all(math.isnan(v) for v in values):
            continue
        latency.plot(users, values, "-o", color=colour, label=f"{kind} p95")
        objective = report["objectives"].get(kind, {}).get("p95_ms")
        if objective:
            latency.axhline(objective, color=colour, ls=":", lw=1.5)
            latency.annotate(
                f"{kind} objective {objective:g} ms",
                (0.005, objective),
                xycoords=("axes fraction", "data"),
                va="bottom",
                color=colour,
                fontsize=9,
            )
    _ms_axis(latency)
    latency.set_title("p95 latency per step (after settling)")
    latency.legend(loc="upper left", fontsize=9)
    rate.plot(users, [r["rps"] for r in results], "-o", color="black", label="all requests/s")
    rate.plot(users, [r["tool_call_rps"] for r in results], "-o", color=COLOURS["tool-call"], label="tool calls/s")
    rate.set_ylabel("req/s")
    rate.set_xlabel("concurrent users (think time 0.5-1.5 s)")
    rate.set_title("Throughput per step; CPU of the gateway and of the load generator")
    cpu = rate.twinx()
    gateway = [r["containers_cpu_mean"].get("mcpo", math.nan) for r in results]
    if not all(math.isnan(v) for v in gateway):
        cpu.plot(users, gateway, "--s", color="#ff7f0e", label="gateway CPU % (of one core)")
    cpu.plot(users, [r["generator_cpu_mean"] for r in results], "--^", color="#7f7f7f", label="load generator CPU %")
    cpu.set_ylabel("CPU % of one core")
    cpu.set_ylim(bottom=0)
    cpu.grid(False)
    handles, labels = rate.get_legend_handles_labels()
    more_handles, more_labels = cpu.get_legend_handles_labels()
    rate.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=9)
    knee = report["knee"]
    if knee["users"]:
        for axis in (latency, rate):
            axis.axvline(knee["users"], color="#2ca02c", lw=2, alpha=0.7)
        latency.annotate(
            f" knee: {knee['users']} users, {knee['rps']:g} req/s ({knee['tool_call_rps']:g} tool calls/s)",
            (knee["users"], 0.95),
            xycoords=("data", "axes fraction"),
            color="#2ca02c",
            fontsize=10,
            fontweight="bold",
            va="top",
        )
    machine = report["machine"]
    figure.suptitle(
        f"Knee of the {report['target']['environment']} stack - {machine['cpus']} CPUs, load generator on the same "
        f"machine, {report['date'][:10]}",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


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
