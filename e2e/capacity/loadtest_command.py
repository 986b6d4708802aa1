"""`mcpstack loadtest` as users and CI run it: the command in a subprocess (locust in another), its exit code, the
table it prints and the report it leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpstack import REPO_ROOT

MCPSTACK = Path(sys.executable).with_name("mcpstack")


@dataclass
class LoadtestResult:
    exit_code: int
    output: str
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "report.json").read_text())

    def verdict(self, slo: str) -> dict[str, Any]:
        return next(v for v in self.report["verdicts"] if v["slo"] == slo)

    def failed(self) -> set[str]:
        return {v["slo"] for v in self.report["verdicts"] if not v["passed"]}


def loadtest(report_dir: Path, *args: str, timeout: float, env: dict[str, str] | None = None) -> LoadtestResult:
    done = subprocess.run(
        [str(MCPSTACK), "loadtest", "--report", str(report_dir), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return LoadtestResult(done.returncode, done.stdout + done.stderr, report_dir)


@contextmanager
def fake_gateway(*options: str) -> Iterator[str]:
    """loadtests/fake_gateway.py on a free port of 127.0.0.1; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "loadtests.fake_gateway", "--port", "0", *options],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("serving on 127.0.0.1:"), f"the fake gateway did not start: {line!r}"
        yield "http://" + line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
