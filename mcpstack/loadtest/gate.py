"""The SLO gate: the SLO scenario (or the rate-limit scenario) at the catalog's load, evaluated into verdicts and a
report. The measured window starts when the last user has been started (the ramp-up is not measured) and lasts
`duration`; the run goes on TAIL_SECONDS longer so that requests started in the window can finish, and a request
still unanswered when the run stops is recorded as an unfinished failure (loadtests/common.py)."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from mcpstack import REPO_ROOT, __version__
from mcpstack.catalog.models import Slos
from mcpstack.loadtest import evaluate, stats
from mcpstack.loadtest.runner import LocustRun, Log, Target, run_locust

KEEPALIVE_SECONDS = 3.0  # below the gateway's (uvicorn's) 5 s idle timeout, with room for a busy generator
TAIL_SECONDS = 5.0  # after the window: requests started in it finish (or are recorded as unfinished: failures)
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


@dataclass(frozen=True)
class GateLoad:
    """The load of one gate run: the catalog's `slos.load`, with the command line's overrides."""

    scenario: str
    users: int
    noisy: int
    measured: float
    spawn_rate: float
    think_min: float
    think_max: float

    @property
    def total(self) -> int:
        return self.users + self.noisy

    @classmethod
    def of(
        cls,
        slos: Slos,
        scenario: str = "slo",
        users: int | None = None,
        duration: str | float | None = None,
        spawn_rate: float | None = None,
        think: str | tuple[float, float] | None = None,
    ) -> GateLoad:
        if scenario not in SCENARIOS:
            raise ValueError(f"no such scenario: {scenario!r} (one of {', '.join(SCENARIOS)})")
        low, high = (
            think_range(think)
            if think is not None
            else (slos.load.think_time_seconds.min, slos.load.think_time_seconds.max)
        )
        return cls(
            scenario,
            users or slos.load.users,
            1 if scenario == "rate-limit" else 0,
            seconds(duration if duration is not None else slos.load.duration),
            spawn_rate or slos.load.spawn_rate,
            low,
            high,
        )


def think_range(value: str | tuple[float, float]) -> tuple[float, float]:
    """'8-16' or (8, 16) -> (8.0, 16.0): a user's pause between two calls, drawn uniformly."""
    if isinstance(value, tuple):
        low, high = value
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*-\s*([0-9]+(?:\.[0-9]+)?)\s*", value)
        if not match:
            raise ValueError(f"not a think time range: {value!r} (e.g. 8-16, in seconds)")
        low, high = float(match.group(1)), float(match.group(2))
    if high < low:
        raise ValueError(f"think time range {low:g}-{high:g}: the maximum is below the minimum")
    return float(low), float(high)


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
) -> dict[str, Any]:
    catalog = target.catalog
    if catalog is None:
        raise ValueError("the SLO gate needs the catalog the target was deployed from")
    load = GateLoad.of(catalog.slos, scenario, users, duration, spawn_rate, think)
    ramp = load.total / load.spawn_rate
    conditions = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
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
    conditions["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return evaluate_run(run, target, load, conditions=conditions, ceiling=load_ceiling())


def evaluate_run(
    run: LocustRun,
    target: Target,
    load: GateLoad,
    *,
    conditions: dict[str, Any] | None = None,
    ceiling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of one run: every verdict, the figures behind them, and what the plots need (pure but for the
    machine and version facts)."""
    assert target.catalog is not None
    slos = target.catalog.slos
    window = measured_window(run, load.total, load.measured)
    requests = run.record["requests"]
    inside = stats.in_window(requests, *window) if window else []
    span = (window[1] - window[0]) if window else 0.0
    verdicts = evaluate.objective_verdicts(inside, slos, span)
    verdicts += evaluate.concurrency_verdicts(inside, run.record["users"], run.samples, load.total, window)
    verdicts.append(evaluate.within_limits_verdict(inside))
    if load.noisy:
        verdicts += evaluate.noisy_verdicts(requests, target.gateway.gateway.rate_limits)
    verdicts.append(evaluate.locustfile_verdict(run.record.get("errors", []), run.exit_code))
    verdicts.append(evaluate.generator_verdict(run.samples, window, ceiling, len(inside) / span if span else 0.0))
    return {
        "scenario": load.scenario,
        "passed": all(v.passed for v in verdicts),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": {
            "url": target.url,
            "stack": target.stack,
            "environment": target.catalog.environment,
            "client": slos.load.client,
        },
        "load": {
            "users": load.users,
            "noisy_clients": load.noisy,
            "noisy_calls_per_second": NOISY_RATE if load.noisy else None,
            "think_time_seconds": {"min": load.think_min, "max": load.think_max},
            "think_time_from_catalog": (load.think_min, load.think_max)
            == (slos.load.think_time_seconds.min, slos.load.think_time_seconds.max),
            "keepalive_seconds": KEEPALIVE_SECONDS,
            "spawn_rate": load.spawn_rate,
            "duration_seconds": load.measured,
            "window": list(window) if window else None,
            "ramp_up_seconds": round(window[0] - run.started, 2) if window else None,
        },
        "objectives": slos.model_dump(mode="json"),
        "machine": machine(),
        "conditions": conditions or {},
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
        "locustfile_errors": run.record.get("errors", [])[:20],
        "series": stats.time_series(
            requests, run.started, run.ended, 2.0, evaluate.kinds_present(requests)
        ),  # the whole run, ramp-up included: the plots shade it
        "started": run.started,
        "ended": run.ended,
        "users_series": run.record["users"],
        "samples": [asdict(sample) for sample in run.samples],
    }


def gate(target: Target, report_dir: Path, *, log: Log = print, **options: Any) -> dict[str, Any]:
    """Run, evaluate, and write report.json, report.md and the plots next to locust's HTML report."""
    from mcpstack.loadtest.report import plot_histograms, plot_timeline, write_json, write_markdown

    report = run_gate(target, report_dir, log=log, **options)
    requests = json.loads((report_dir / "requests.json").read_text())["requests"]
    report["files"] = {
        "report": "report.json",
        "locust_html": "locust.html",
        "requests": "requests.json",
        "markdown": "report.md",
        "timeline": plot_timeline(report, requests, report["samples"], report_dir / "timeline.png").name,
        "histograms": plot_histograms(report, requests, report_dir / "histograms.png").name,
    }
    write_json(report, report_dir)
    write_markdown(report, report_dir)
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
