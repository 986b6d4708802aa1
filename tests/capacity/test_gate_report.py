"""What a gate run leaves behind, from a real recorded run: report.json (valid JSON, no NaN, read back as the same
report), the verdict table, the Markdown table, and the plots."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from mcpstack.capacity.gate import evaluate_run
from mcpstack.capacity.gate_load import GateLoad
from mcpstack.capacity.gate_plots import plot_histograms, plot_timeline
from mcpstack.capacity.gate_report import GateReport
from mcpstack.capacity.locust_run import Target
from mcpstack.capacity.record import LocustRun
from mcpstack.capacity.report import plain, write_report
from mcpstack.capacity.stats import NAME
from mcpstack.capacity.tables import gate_markdown, markdown_table, print_summary

RunOf = Callable[[str], LocustRun]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def rate_limit_report(run: LocustRun, target: Target) -> GateReport:
    assert target.catalog is not None
    return evaluate_run(run, target, GateLoad.of(target.catalog.slos, "rate-limit", duration="30s"))


def test_report_json_table_and_plots(tmp_path: Path, dev_target: Target, run_of: RunOf) -> None:
    run = run_of("rate-limit-100-users")
    report = rate_limit_report(run, dev_target)

    written = json.loads(write_report(report, tmp_path, gate_markdown(report)).read_text())
    assert "NaN" not in (tmp_path / "report.json").read_text()
    for endpoint in ("time/get_current_time", "sandbox/execute_python", "health", "time/openapi.json"):
        figures = written["endpoints"][endpoint]
        assert figures["requests"] > 0
        assert figures["failures"] == 0
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        assert figures["rps"] > 0
    assert {"users", "duration_seconds", "window"} <= set(written["load"])
    assert {"url", "environment", "client"} <= set(written["target"])
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
    assert len(table) == 2 + len(report.verdicts)
    document = (tmp_path / "report.md").read_text()
    assert document.startswith("**rate-limit: PASSED** - 100 users + 1 noisy client, think 8-16 s, 30 s measured")
    assert f"Measured on {report.machine.cpus} CPUs" in document
    assert markdown_table(report) in document

    timeline = plot_timeline(report, run.record.requests, tmp_path / "timeline.png")
    width, height = png_size(timeline)
    assert width >= 1200
    assert height >= 1000
    histograms = plot_histograms(report, run.record.requests, tmp_path / "histograms.png")
    width, height = png_size(histograms)
    endpoints = {r[NAME] for r in run.record.requests}
    assert width >= 1200
    assert height >= 330 * (len(endpoints) // 3)  # one panel per endpoint, three to a row


def test_report_json_reads_back_as_the_same_report(tmp_path: Path, dev_target: Target, run_of: RunOf) -> None:
    report = rate_limit_report(run_of("rate-limit-100-users"), dev_target)
    written = json.loads(write_report(report, tmp_path).read_text())
    again = GateReport.from_json(written)
    assert plain(again.to_json()) == written
    assert again.verdicts == report.verdicts
    assert again.load == report.load
    assert again.objectives == report.objectives
    assert again.overall == report.overall
    assert list(again.series.kinds) == list(report.series.kinds)


def test_a_figure_without_requests_is_null_in_json_and_nan_read_back(
    tmp_path: Path, dev_target: Target, run_of: RunOf
) -> None:
    """The recorded run's time series has 2 s bins without discovery calls: NaN percentiles, written as null."""
    report = rate_limit_report(run_of("rate-limit-100-users"), dev_target)
    written = json.loads(write_report(report, tmp_path).read_text())
    assert None in written["series"]["discovery"]["p95_ms"]
    again = GateReport.from_json(written)
    empty = [i for i, v in enumerate(written["series"]["discovery"]["p95_ms"]) if v is None]
    assert all(math.isnan(again.series.kinds["discovery"].p95_ms[i]) for i in empty)
    assert again.series.kinds["discovery"].rps[empty[0]] == 0
