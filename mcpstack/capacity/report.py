"""The one writer of capacity reports: report.json (strict JSON) and, when there is one, report.md, for the gate,
the knee, the load generator's ceiling and the benchmarks alike. Each report is a typed object that says how it is
written (`to_json`) and read back (`from_json`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol


class Report(Protocol):
    """A result that is written as report.json."""

    def to_json(self) -> dict[str, Any]: ...


def plain(value: Any) -> Any:
    """The value as strict JSON: NaN (an empty bin's percentile, a kind with no requests) becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def write_json(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(report.to_json()), indent=1, allow_nan=False) + "\n")
    return path


def write_report(report: Report, report_dir: Path, markdown: str | None = None) -> Path:
    """report.json, and report.md when given, in `report_dir`; returns the path of report.json."""
    path = write_json(report, report_dir / "report.json")
    if markdown is not None:
        (report_dir / "report.md").write_text(markdown)
    return path
