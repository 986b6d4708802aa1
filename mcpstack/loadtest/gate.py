"""The SLO gate: the SLO scenario (or the rate-limit scenario) at the catalog's load, evaluated into verdicts and a
report. The measured window starts when the last user has been started (the ramp-up is not measured) and lasts
`duration`; the run goes on a few seconds longer so that requests started in the window can finish."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from mcpstack import REPO_ROOT, __version__
from mcpstack.loadtest import evaluate, stats
from mcpstack.loadtest.runner import LocustRun, Log, Target, run_locust

KEEPALIVE_SECONDS = 3.0  # below the gateway's (uvicorn's) 5 s idle timeout, with room for a busy generator
TAIL_SECONDS = 8.0  # after the window: requests started in it finish
NOISY_RATE = 10.0  # calls/s of the rate-limit scenario's noisy client
SCENARIOS = {"slo": "mixed.py", "rate-limit": "ratelimit.py"}
HARNESS_FILE = Path(os.environ.get("MCPSTACK_STATE_DIR", REPO_ROOT / ".mcpstack")) / "loadtest-harness.json"


def seconds(duration: str | float) -> float:
    """'60s', '2m', '1h', '90' -> seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", duration)
    if not match:
        raise ValueError(f"not a duration: {duration!r} (e.g. 30s, 2m)")
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    return float(match.group(1)) * factor


def run_gate(
    target: Target,
    report_dir: Path,
    *,
    scenario: str = "slo",
    users: int | None = None,
    duration: str | float | None = None,
    spawn_rate: float | None = None,
    log: Log = print,
) -> dict[str, Any]:
    catalog = target.catalog
    if catalog is None:
        raise ValueError("the SLO gate needs the catalog the target was deployed from")
    slos = catalog.slos
    users = users or slos.load.users
    measured = seconds(duration if duration is not None else slos.load.duration)
    spawn_rate = spawn_rate or slos.load.spawn_rate
    noisy = 1 if scenario == "rate-limit" else 0
    total = users + noisy
    ramp = total / spawn_rate
    think = slos.load.think_time_seconds
    conditions = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    run = run_locust(
        SCENARIOS[scenario],
        target,
        report_dir,
        users=total,
        spawn_rate=spawn_rate,
        seconds=ramp * 1.5 + 2 + measured + TAIL_SECONDS,
        environment={
            "LOADTEST_THINK_MIN": f"{think.min:g}",
            "LOADTEST_THINK_MAX": f"{think.max:g}",
            "LOADTEST_KEEPALIVE": f"{KEEPALIVE_SECONDS:g}",
            "LOADTEST_NOISY_RATE": f"{NOISY_RATE:g}",
        },
        log=log,
    )
    conditions["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    window = measured_window(run, total, measured)
    requests = run.record["requests"]
    inside = stats.in_window(requests, *window) if window else []
    span = (window[1] - window[0]) if window else 0.0
    verdicts = evaluate.objective_verdicts(inside, slos, span)
    verdicts += evaluate.concurrency_verdicts(inside, run.record["users"], run.samples, total, window)
    verdicts.append(evaluate.within_limits_verdict(inside))
    if noisy:
        verdicts += evaluate.noisy_verdicts(requests, target.gateway.gateway.rate_limits)
    ceiling = load_ceiling()
    verdicts.append(evaluate.generator_verdict(run.samples, window, ceiling))
    report = {
        "scenario": scenario,
        "passed": all(v.passed for v in verdicts),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": {
            "url": target.url,
            "stack": target.stack,
            "environment": catalog.environment,
            "client": slos.load.client,
        },
        "load": {
            "users": users,
            "noisy_clients": noisy,
            "noisy_calls_per_second": NOISY_RATE if noisy else None,
            "think_time_seconds": {"min": think.min, "max": think.max},
            "keepalive_seconds": KEEPALIVE_SECONDS,
            "spawn_rate": spawn_rate,
            "duration_seconds": measured,
            "window": list(window) if window else None,
            "ramp_up_seconds": round(window[0] - run.started, 2) if window else None,
        },
        "objectives": slos.model_dump(mode="json"),
        "machine": machine(),
        "conditions": conditions,
        "versions": versions(target),
        "endpoints": {name: stats.summary(rows, span) for name, rows in stats.by_endpoint(inside).items()},
        "kinds": {kind: stats.summary(rows, span) for kind, rows in stats.by_kind(inside).items()},
        "all": stats.summary(inside, span),
        "verdicts": [v.as_dict() for v in verdicts],
        "generator": generator_figures(run, window, ceiling),
        "containers_cpu": container_figures(run, window),
        "failures": evaluate.failures_by_reason(inside),
        "slowest": slowest(inside),
        "locust_exit_code": run.exit_code,
        "series": stats.time_series(
            requests, run.started, run.ended, 2.0, evaluate.kinds_present(requests)
        ),  # the whole run, ramp-up included: the plots shade it
        "started": run.started,
        "users_series": run.record["users"],
        "samples": [asdict(sample) for sample in run.samples],
    }
    return report


def gate(target: Target, report_dir: Path, *, log: Log = print, **options: Any) -> dict[str, Any]:
    """Run, evaluate, and write report.json and the plots next to locust's HTML report."""
    from mcpstack.loadtest.report import plot_histograms, plot_timeline, write_json

    report = run_gate(target, report_dir, log=log, **options)
    requests = json.loads((report_dir / "requests.json").read_text())["requests"]
    report["files"] = {
        "report": "report.json",
        "locust_html": "locust.html",
        "requests": "requests.json",
        "timeline": plot_timeline(report, requests, report["samples"], report_dir / "timeline.png").name,
        "histograms": plot_histograms(report, requests, report_dir / "histograms.png").name,
    }
    write_json(report, report_dir)
    return report


def measured_window(run: LocustRun, total: int, measured: float) -> tuple[float, float] | None:
    """From the moment every user was running to `measured` seconds later (cut short if the run ended first)."""
    spawned = [t for t, count in run.record["spawned"] if count >= total]
    if not spawned:
        return None
    start = spawned[0]
    return start, min(start + measured, run.ended - TAIL_SECONDS / 2)


def slowest(requests: list, count: int = 5) -> list[dict[str, Any]]:
    """The slowest requests with their correlation IDs: grep the gateway's log for them."""
    ranked = sorted(requests, key=lambda r: -r[stats.LATENCY])[:count]
    return [
        {"endpoint": r[stats.NAME], "ms": r[stats.LATENCY], "status": r[stats.STATUS], "correlation_id": r[stats.CID]}
        for r in ranked
    ]


def generator_figures(run: LocustRun, window: tuple[float, float] | None, ceiling: dict | None) -> dict[str, Any]:
    inside = [s for s in run.samples if window is None or window[0] <= s.t < window[1]]
    rps = len(stats.in_window(run.record["requests"], *window)) / (window[1] - window[0]) if window else 0.0
    figures: dict[str, Any] = {
        "peak_cpu_percent": max((s.cpu for s in inside), default=0.0),
        "mean_cpu_percent": round(sum(s.cpu for s in inside) / len(inside), 1) if inside else 0.0,
        "rps": round(rps, 1),
        "ceiling": ceiling,
    }
    if ceiling:
        figures["fraction_of_ceiling"] = round(rps / ceiling["rps"], 3)
    return figures


def container_figures(run: LocustRun, window: tuple[float, float] | None) -> dict[str, dict[str, float]]:
    inside = [s for s in run.samples if window is None or window[0] <= s.t < window[1]]
    services = sorted({name for s in inside for name in s.containers})
    figures = {}
    for service in services:
        values = [s.containers[service] for s in inside if service in s.containers]
        figures[service] = {"mean_cpu_percent": round(sum(values) / len(values), 1), "peak_cpu_percent": max(values)}
    return figures


def load_ceiling() -> dict[str, Any] | None:
    """The load generator's ceiling on this machine, if `mcpstack bench loadgen` measured it."""
    try:
        return json.loads(HARNESS_FILE.read_text())["ceiling"]
    except (OSError, ValueError, KeyError):
        return None


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "system": platform.platform(terse=True),
    }


def versions(target: Target) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {
        "mcpstack": __version__,
        "commit": commit + ("+changes" if commit and dirty else ""),
        "locust": metadata.version("locust"),
        "gateway_image": target.gateway.image.ref,
        "images": target.images,
    }
