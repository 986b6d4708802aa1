"""What every benchmark report carries: the machine it ran on, the date, report.json and report.md."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker


def machine() -> dict[str, Any]:
    info = docker.from_env().info()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(info.get("MemTotal", 0) / 2**30, 1),
        "kernel": platform.release(),
        "docker": info.get("ServerVersion"),
        "python": platform.python_version(),
    }


def write_report(report_dir: Path, fields: dict[str, Any], markdown: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """The report (date and machine first, then `fields`) as report.json and report.md in `report_dir`."""
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), **fields}
    (report_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (report_dir / "report.md").write_text(markdown(report))
    return report
