"""The CI capacity run: `mcpstack loadtest` with 100 concurrent users for 30 s measured against the local stack the
e2e session started (fresh, random ports on 127.0.0.1), gating on the catalog's SLOs - ~45 s."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from e2e.capacity.loadtest_command import loadtest
from mcpstack.local.stack import LocalStack

pytestmark = pytest.mark.docker


def test_100_users_within_the_slos(stack: LocalStack, tmp_path: Path) -> None:
    result = loadtest(tmp_path, "--stack", stack.name, "--users", "100", "--duration", "30s", timeout=240)
    print(result.output)  # the SLO table, in the test log
    assert result.exit_code == 0, result.output
    report = result.report
    assert report["passed"] is True
    assert report["load"]["users"] == 100
    assert report["load"]["duration_seconds"] == 30
    assert report["target"]["url"] == stack.url("mcpo")
    held = result.verdict("connections held")["details"]
    assert held["min"] >= 100
    assert result.verdict("users active")["details"]["active"] == 100
    for kind in ("tool-call", "discovery", "health"):
        assert report["kinds"][kind]["requests"] > 0
    assert report["kinds"]["tool-call"]["p95_ms"] < 500
    assert report["kinds"]["health"]["p95_ms"] < 100
    assert "SLO gate (slo): PASSED - 100 users, 30 s measured" in result.output
    for name in ("report.json", "report.md", "locust.html", "timeline.png", "histograms.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "<html" in (tmp_path / "locust.html").read_text()[:2000].lower()
    for plot in ("timeline.png", "histograms.png"):
        data = (tmp_path / plot).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 1200 and height >= 900
