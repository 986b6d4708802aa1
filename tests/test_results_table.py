"""The smoke results plugin (e2e/results_table.py) behind `mcpstack smoke --output json`: each check by its
docstring's first line, its outcome and the first line of its failure, written where MCPSTACK_RESULTS_JSON says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcpstack import REPO_ROOT

CHECKS = '''
import pytest

def test_passes():
    """The route answers."""

def test_fails():
    """The metrics are scraped."""
    assert 1 == 2, "scrape target down"

@pytest.fixture
def broken():
    raise RuntimeError("stack not reachable")

def test_setup_error(broken):
    """Needs the stack."""
'''


def _run(tmp_path: Path, *, as_json: bool) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp_path / "test_checks.py").write_text(CHECKS)
    results = tmp_path / "results.json"
    environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environ.pop("MCPSTACK_RESULTS_JSON", None)
    if as_json:
        environ["MCPSTACK_RESULTS_JSON"] = str(results)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "e2e.results_table", "-p", "no:cacheprovider", "test_checks.py"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, results


def test_json_lists_every_check_with_its_outcome_and_first_failure_line(tmp_path: Path) -> None:
    done, results = _run(tmp_path, as_json=True)
    assert done.returncode == 1, done.stdout
    checks = {c["check"]: c for c in json.loads(results.read_text())}
    assert set(checks) == {"The route answers.", "The metrics are scraped.", "Needs the stack."}
    assert checks["The route answers."]["outcome"] == "passed"
    assert checks["The route answers."]["detail"] == ""
    assert checks["The metrics are scraped."]["outcome"] == "failed"
    assert "scrape target down" in checks["The metrics are scraped."]["detail"]
    assert checks["Needs the stack."]["outcome"] == "failed"
    assert "stack not reachable" in checks["Needs the stack."]["detail"]
    assert all(isinstance(c["seconds"], float) for c in checks.values())
    assert "smoke verification" not in done.stdout  # JSON mode: no table


def test_text_mode_prints_the_table_and_writes_no_file(tmp_path: Path) -> None:
    done, results = _run(tmp_path, as_json=False)
    assert "smoke verification" in done.stdout
    assert "The metrics are scraped." in done.stdout
    assert not results.exists()
