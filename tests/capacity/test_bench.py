"""The benchmarks' goals and reports from their measurements (no containers here: the rows are given)."""

from __future__ import annotations

import json
from pathlib import Path

from mcpstack.capacity.bench import gateway_overhead, sandbox_layers
from mcpstack.capacity.bench.gateway_overhead import GatewayBenchmark, GatewayRow
from mcpstack.capacity.bench.sandbox_layers import CallFigures, LayerSetRow, SandboxBenchmark
from mcpstack.capacity.bench.wrk import Measurement
from mcpstack.capacity.machine import Machine
from mcpstack.capacity.report import write_report

MACHINE = Machine(cpus=2, memory_gib=23.5, kernel="6.8", python="3.11.2", system="Linux", docker="27.5.1")


def row(target: str, upstream: str, connections: int, rps: float, p95: float) -> GatewayRow:
    sample = Measurement(requests=int(rps * 8), non_2xx=0, socket_errors=0, seconds=8.0, p50_ms=p95 / 2,
                         p95_ms=p95, p99_ms=p95 * 1.2, max_ms=p95 * 2)  # fmt: skip
    return GatewayRow(target, upstream, connections, 1, rps, p95 / 2, p95, p95 * 1.2, 0, sample.requests, [sample])


OURS, STDIO = "time (streamable HTTP)", "reference time (stdio)"


def gateway_rows(our_p95_at_100: float) -> list[GatewayRow]:
    return [
        row("gateway", OURS, 1, 900, 2.0),
        row("stock mcpo", OURS, 1, 850, 2.0),
        row("gateway", OURS, 100, 1800, our_p95_at_100),
        row("stock mcpo", OURS, 100, 1500, 80.0),
        row("stock mcpo", STDIO, 100, 600, 200.0),
    ]


def test_the_gateway_goals() -> None:
    met = gateway_overhead.verdicts(gateway_rows(85.0))
    assert [g.passed for g in met] == [True, True, True]
    assert met[1].goal.startswith("gateway p95 <= 1.10 x stock mcpo p95, same path, c=100")
    assert met[2].measured == "1800 vs 600 req/s (3.00 x)"
    missed = gateway_overhead.verdicts(gateway_rows(90.0))  # 90 / 80 = 1.125 x stock mcpo
    assert [g.passed for g in missed] == [True, False, True]


def test_the_gateway_report(tmp_path: Path) -> None:
    rows = gateway_rows(85.0)
    report = GatewayBenchmark("2026-11-23T10:00:00+00:00", MACHINE, 8.0, 1, rows, gateway_overhead.verdicts(rows))
    text = gateway_overhead.markdown(report)
    assert "Docker 27.5.1" in text
    assert "| gateway | time (streamable HTTP) | 100 | 1800 | 42.5 | 85.0 | 102.0 | 0 |" in text
    assert text.count("| yes |") == 3
    written = json.loads(write_report(report, tmp_path, text).read_text())
    assert written["results"][0]["samples"][0]["rps"] == 900.0  # each round's rate, as before
    assert GatewayBenchmark.from_json(written) == report
    assert (tmp_path / "report.md").read_text() == text


def figures(p50: float) -> CallFigures:
    return CallFigures(calls=100, p50_ms=p50, p95_ms=p50 * 2, run_p50_ms=p50 / 2, run_p95_ms=p50, runs_per_second=50)


def test_the_sandbox_goal_and_report(tmp_path: Path) -> None:
    rows = [
        LayerSetRow(name, layers, ["process_group"], figures(20.0), figures(40.0))
        for name, layers in sandbox_layers.LAYER_SETS
    ]
    (goal,) = sandbox_layers.verdicts(rows)
    assert goal.passed
    slow = [*rows[:-1], LayerSetRow(rows[-1].set, "all", ["all"], figures(120.0), figures(200.0))]
    assert not sandbox_layers.verdicts(slow)[0].passed
    report = SandboxBenchmark("2026-11-23T10:00:00+00:00", MACHINE, "print(1)", 100, 25, 8, rows, [goal])
    text = sandbox_layers.markdown(report)
    assert "| all available layers (as deployed) | 20.0 / 40.0 | 10.0 / 20.0 |" in text
    written = json.loads(write_report(report, tmp_path, text).read_text())
    assert SandboxBenchmark.from_json(written) == report
