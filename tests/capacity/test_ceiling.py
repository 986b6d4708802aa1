"""Where gate runs find the load generator's ceiling, and what a ceiling report holds."""

from __future__ import annotations

import json
from pathlib import Path

from mcpstack.capacity.ceiling import Ceiling, CeilingReport, CeilingRun, load_ceiling
from mcpstack.capacity.machine import Machine
from mcpstack.capacity.report import write_json

# A ceiling file as `mcpstack bench loadgen` wrote it before the capacity package (.mcpstack/loadtest-harness.json)
KEPT = {
    "date": "2026-11-23T10:00:00+00:00",
    "machine": {"cpus": 2, "memory_gib": 23.5, "kernel": "6.8", "python": "3.11.2", "system": "Linux-6.8"},
    "conditions": {"load_average": [0.4, 0.3, 0.2]},
    "seconds": 15.0,
    "runs": [
        {
            "users": 10,
            "rps": 2100.5,
            "p50_ms": 4.1,
            "p95_ms": 6.2,
            "failures": 0,
            "cpu": 98.0,
            "cpu_peak": 100.0,
            "server_cpu": 30.1,
        }
    ],
    "ceiling": {"rps": 2100.5, "cpu": 98.0, "users": 10, "date": "2026-11-23"},
}


def test_a_kept_ceiling_is_read(tmp_path: Path) -> None:
    path = tmp_path / "loadtest-harness.json"
    path.write_text(json.dumps(KEPT))
    assert load_ceiling(path) == Ceiling(rps=2100.5, cpu=98.0, users=10, date="2026-11-23")


def test_no_ceiling_when_none_was_measured_or_the_file_is_not_one(tmp_path: Path) -> None:
    assert load_ceiling(tmp_path / "missing.json") is None
    (tmp_path / "garbage.json").write_text("not json")
    assert load_ceiling(tmp_path / "garbage.json") is None
    (tmp_path / "other.json").write_text(json.dumps({"ceiling": {"rps": 1}}))
    assert load_ceiling(tmp_path / "other.json") is None


def test_a_ceiling_report_writes_the_same_file_it_reads(tmp_path: Path) -> None:
    report = CeilingReport.from_json(KEPT)
    assert report.runs == [CeilingRun(10, 2100.5, 4.1, 6.2, 0, 98.0, 100.0, 30.1)]
    assert report.machine == Machine(2, 23.5, "6.8", "3.11.2", "Linux-6.8")
    path = write_json(report, tmp_path / "kept.json")
    assert json.loads(path.read_text()) == KEPT
    assert load_ceiling(path) == report.ceiling
