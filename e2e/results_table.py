"""pytest plugin for `mcpstack smoke`: a table of checks and results after the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rich.console import Console
from rich.markup import escape
from rich.table import Table

_titles: dict[str, str] = {}
_results: list[tuple[str, str, float, str]] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        doc = getattr(getattr(item, "function", None), "__doc__", None) or item.name
        suffix = f" [{item.callspec.id}]" if hasattr(item, "callspec") else ""
        _titles[item.nodeid] = doc.strip().splitlines()[0] + suffix


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message.splitlines()[0] if report.failed and crash else ""
        _results.append((_titles.get(report.nodeid, report.nodeid), report.outcome, report.duration, message))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get("MCPSTACK_RESULTS_JSON"):  # `mcpstack smoke --output json` prints these
        checks = [{"check": n, "outcome": o, "seconds": round(d, 3), "detail": m} for n, o, d, m in _results]
        Path(os.environ["MCPSTACK_RESULTS_JSON"]).write_text(json.dumps(checks, indent=1))
        return
    console = Console(width=None if Console().is_terminal else 140)
    table = Table("check", "result", "time", "detail", title="smoke verification")
    for name, outcome, duration, message in _results:
        colour = "green" if outcome == "passed" else "red"
        table.add_row(
            escape(name), f"[{colour}]{outcome}[/{colour}]", f"{duration * 1000:.0f} ms", escape(message[:120])
        )
    console.print(table)
