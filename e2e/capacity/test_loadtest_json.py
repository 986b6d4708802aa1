"""`mcpstack loadtest --output json` for scripts and CI: stdout is exactly one JSON document, the same verdicts the
report holds, with the exit code the text mode has. Against loadtests/fake_gateway.py (no Docker; 127.0.0.1 only;
~20 s each)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from e2e.capacity.loadtest_command import MCPSTACK, fake_gateway
from mcpstack import REPO_ROOT

KEY = {"MCPSTACK_LOADTEST_KEY": "a-key-the-stand-in-accepts"}
SHORT = ("--users", "30", "--duration", "10s", "--think", "1-3")


def _loadtest_json(report_dir: Path, url: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        [str(MCPSTACK), "loadtest", "--report", str(report_dir), "--target", url, *SHORT, "--output", "json"],
        cwd=REPO_ROOT,
        env={**os.environ, **KEY},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stderr  # not JSON (a table, a log line): fails here


def test_a_passing_run_prints_one_json_document_matching_its_report(tmp_path: Path) -> None:
    with fake_gateway() as url:
        code, document, stderr = _loadtest_json(tmp_path, url)
    assert code == 0, stderr
    assert document["passed"] is True
    report = json.loads((tmp_path / "report.json").read_text())
    assert document["verdicts"] == report["verdicts"]
    assert {v["slo"] for v in document["verdicts"]} >= {"tool-call (all)", "connections held"}


def test_a_failing_run_exits_1_with_the_missed_verdict_in_json(tmp_path: Path) -> None:
    with fake_gateway("--delay-ms", "700") as url:
        code, document, _ = _loadtest_json(tmp_path, url)
    assert code == 1
    assert document["passed"] is False
    missed = {v["slo"] for v in document["verdicts"] if not v["passed"]}
    assert "tool-call (all)" in missed
