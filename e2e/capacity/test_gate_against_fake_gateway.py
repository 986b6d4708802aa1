"""The gate fails when it should, end to end: the real `mcpstack loadtest --target URL` (locust in a subprocess)
against loadtests/fake_gateway.py, a stand-in answering the SLO scenario's requests like the gateway, made to miss
one thing at a time. 30 users, 10 s measured, a 1-3 s think time so that every kind of request is made in so short a
window (the gate fails a kind it has an objective for but no requests of): ~20 s each. No Docker; traffic to
127.0.0.1 only."""

from __future__ import annotations

from pathlib import Path

from e2e.capacity.loadtest_command import fake_gateway, loadtest

KEY = {"MCPSTACK_LOADTEST_KEY": "a-key-the-stand-in-accepts"}
SHORT = ("--users", "30", "--duration", "10s", "--think", "1-3")


def test_a_slow_endpoint_fails_the_gate(tmp_path: Path) -> None:
    """Every tool call answered 700 ms late: tool-call p95 < 500 ms is missed, and only that."""
    with fake_gateway("--delay-ms", "700") as url:
        result = loadtest(tmp_path, "--target", url, *SHORT, timeout=120, env=KEY)
    assert result.exit_code == 1, result.output
    report = result.report
    assert report["passed"] is False
    assert report["target"]["url"] == url
    tool_calls = result.verdict("tool-call (all)")
    assert tool_calls["passed"] is False
    assert tool_calls["details"]["p95_ms"] >= 700
    assert tool_calls["details"]["requests"] > 0
    missed = result.failed()
    assert "tool-call (all)" in missed
    tool_endpoints = {name for name in report["endpoints"] if "/" in name and not name.endswith("/openapi.json")}
    assert missed == {"tool-call (all)"} | tool_endpoints  # the tool calls, and nothing else
    assert "time/get_current_time" in missed
    assert result.verdict("health (all)")["passed"] is True
    assert result.verdict("connections held")["passed"] is True
    assert "FAIL" in result.output
    assert "SLO gate (slo): FAILED" in result.output


def test_connections_not_held_fail_the_gate(tmp_path: Path) -> None:
    """A target that closes connections idle for 1 s (a proxy with a short idle timeout): every user runs and makes
    its calls within the objectives, but the 30 users are never 30 concurrent connections."""
    with fake_gateway("--idle-timeout", "1") as url:
        result = loadtest(tmp_path, "--target", url, *SHORT, timeout=120, env=KEY)
    assert result.exit_code == 1, result.output
    assert result.failed() == {"connections held"}
    held = result.verdict("connections held")["details"]
    assert held["median"] < 30
    assert result.verdict("users running")["passed"] is True


def test_a_target_without_a_key_is_refused_before_any_load(tmp_path: Path) -> None:
    with fake_gateway() as url:
        result = loadtest(tmp_path, "--target", url, timeout=30, env={"MCPSTACK_LOADTEST_KEY": ""})
    assert result.exit_code == 1
    assert "set MCPSTACK_LOADTEST_KEY" in result.output
    assert not (tmp_path / "report.json").exists()


def test_a_stress_run_without_any_step_within_the_objectives_fails(tmp_path: Path) -> None:
    """Every tool call 700 ms late: the first step already misses the tool-call objective, so there is no knee, and
    the command says so with exit 1 (one 20 s step, then it stops)."""
    with fake_gateway("--delay-ms", "700") as url:
        result = loadtest(tmp_path, "--target", url, "--scenario", "stress", timeout=150, env=KEY)
    assert result.exit_code == 1, result.output
    assert "no step was within every objective" in result.output
    report = result.report
    assert report["knee"]["users"] is None
    assert len(report["steps"]) == 1 and report["steps"][0]["passed"] is False
