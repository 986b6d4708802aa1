"""The load generator's own ceiling: how many requests per second one locust process (FastHttpUser) drives on this
machine, closed loop, against a trivial local endpoint (loadtests/trivial_server.py) that is far cheaper per request
than locust. Gate runs compare their load generator CPU with it and warn above 90% (gate.load_ceiling)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from mcpstack import REPO_ROOT
from mcpstack.loadtest import stats
from mcpstack.loadtest.gate import HARNESS_FILE, machine
from mcpstack.loadtest.runner import LoadTestError, Log, Target, run_locust

SETTLE_SECONDS = 3.0


def measure_ceiling(
    report_dir: Path,
    *,
    users: tuple[int, ...] = (10, 50, 100),
    seconds: float = 15.0,
    log: Log = print,
    harness_file: Path | None = HARNESS_FILE,
) -> dict[str, Any]:
    """Closed-loop runs of `users` each for `seconds`; the best req/s is the ceiling, kept in `harness_file` (where
    gate runs read it) unless None."""
    report_dir.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "loadtests.trivial_server", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("serving on "):
            raise LoadTestError(f"the trivial server did not start: {line!r}")
        url = "http://" + line.split()[-1]
        target = Target(url, "", None)
        runs = []
        server_process = psutil.Process(server.pid)
        for count in users:
            busy, since = sum(server_process.cpu_times()[:2]), time.monotonic()
            run = run_locust(
                "harness.py",
                target,
                report_dir / f"users-{count}",
                users=count,
                spawn_rate=1000,
                seconds=seconds,
                environment={},
                log=log,
            )
            server_cpu = (sum(server_process.cpu_times()[:2]) - busy) / (time.monotonic() - since) * 100
            start = run.started + SETTLE_SECONDS
            end = run.ended - 1.0
            inside = stats.in_window(run.record["requests"], start, end)
            cpu = [s.cpu for s in run.samples if start <= s.t < end]
            figures = stats.summary(inside, end - start)
            runs.append(
                {
                    "users": count,
                    "rps": round(figures["rps"], 1),
                    "p50_ms": figures["p50_ms"],
                    "p95_ms": figures["p95_ms"],
                    "failures": figures["failures"],
                    "cpu": round(statistics.fmean(cpu), 1) if cpu else 0.0,
                    "cpu_peak": max(cpu, default=0.0),
                    # over the whole run, start-up included: well below 100% means the server was not the limit
                    "server_cpu": round(server_cpu, 1),
                }
            )
            log(
                f"  {count} users: {runs[-1]['rps']:.0f} req/s, load generator CPU {runs[-1]['cpu']:.0f}%, "
                f"trivial server CPU {server_cpu:.0f}%"
            )
            time.sleep(1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    best = max(runs, key=lambda r: r["rps"])
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "conditions": {"load_average": [round(x, 2) for x in os.getloadavg()]},
        "seconds": seconds,
        "runs": runs,
        "ceiling": {
            "rps": best["rps"],
            "cpu": best["cpu"],
            "users": best["users"],
            "date": datetime.now(UTC).date().isoformat(),
        },
    }
    (report_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    if harness_file is not None:
        harness_file.parent.mkdir(parents=True, exist_ok=True)
        harness_file.write_text(json.dumps(report, indent=1) + "\n")
    return report
