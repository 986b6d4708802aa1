"""What a gate run leaves behind, from a real recorded run: report.json (valid JSON, no NaN), the verdict table,
the Markdown table, and the plots."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from mcpstack.loadtest.gate import GateLoad, evaluate_run
from mcpstack.loadtest.report import (
    markdown_table,
    plot_histograms,
    plot_timeline,
    print_summary,
    write_json,
    write_markdown,
)
from mcpstack.loadtest.runner import LocustRun, Target
from mcpstack.loadtest.stats import NAME


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_report_json_table_and_plots(tmp_path: Path, dev_target: Target, run_of: Callable[[str], LocustRun]) -> None:
    run = run_of("rate-limit-100-users")
    assert dev_target.catalog is not None
    report = evaluate_run(run, dev_target, GateLoad.of(dev_target.catalog.slos, "rate-limit", duration="30s"))

    written = json.loads(write_json(report, tmp_path).read_text())
    assert "NaN" not in (tmp_path / "report.json").read_text()
    for endpoint in ("time/get_current_time", "sandbox/execute_python", "health", "time/openapi.json"):
        figures = written["endpoints"][endpoint]
        assert figures["requests"] > 0
        assert figures["failures"] == 0
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        assert figures["rps"] > 0
    assert {"users", "duration_seconds", "window"} <= set(written["load"])
    assert {"url", "environment"} <= set(written["target"])
    assert {"locust", "gateway_image", "commit"} <= set(written["versions"])
    assert written["machine"]["cpus"] >= 1
    assert all({"slo", "target", "measured", "passed"} <= set(v) for v in written["verdicts"])

    console = Console(record=True, width=170)
    print_summary(report, console)
    text = console.export_text()
    assert "SLO gate (rate-limit): PASSED - 100 users + 1 noisy, 30 s measured" in text
    assert "connections held" in text
    assert "noisy client refused beyond its limit" in text

    table = markdown_table(report).splitlines()
    assert table[0] == "| SLO | target | measured | result |"
    assert len(table) == 2 + len(report["verdicts"])
    document = write_markdown(report, tmp_path).read_text()
    assert document.startswith("**rate-limit: PASSED** - 100 users + 1 noisy client, think 8-16 s, 30 s measured")
    assert f"Measured on {report['machine']['cpus']} CPUs" in document
    assert markdown_table(report) in document

    timeline = plot_timeline(report, run.record["requests"], report["samples"], tmp_path / "timeline.png")
    width, height = png_size(timeline)
    assert width >= 1200
    assert height >= 1000
    histograms = plot_histograms(report, run.record["requests"], tmp_path / "histograms.png")
    width, height = png_size(histograms)
    endpoints = {r[NAME] for r in run.record["requests"]}
    assert width >= 1200
    assert height >= 330 * (len(endpoints) // 3)  # one panel per endpoint, three to a row
