"""The benchmarks' goals and reports from their measurements (no containers here: the rows are given)."""

from __future__ import annotations

import json
from pathlib import Path

from mcpstack.capacity.bench import gateway_goals, gateway_results, sandbox_layers
from mcpstack.capacity.bench.cpu import CallCpu, CpuMeter, per_call
from mcpstack.capacity.bench.gateway_paths import (
    DIRECT,
    GATEWAY,
    MCP,
    ONE_WORKER,
    OPENAPI,
    OURS,
    STDIO,
    STOCK,
    endpoints,
)
from mcpstack.capacity.bench.gateway_results import GatewayBenchmark, GatewayRow
from mcpstack.capacity.bench.sandbox_layers import CallFigures, LayerSetRow, SandboxBenchmark
from mcpstack.capacity.bench.wrk import Measurement
from mcpstack.capacity.machine import Conditions, Machine
from mcpstack.capacity.report import write_report

MACHINE = Machine(cpus=2, memory_gib=23.5, kernel="6.8", python="3.11.2", system="Linux", docker="27.5.1")
CONDITIONS = Conditions([1.2, 2.0, 3.0], [1.9, 2.1, 3.0])
CPU = CallCpu(2.5, 1.1)  # ms per call: gateway, server


def row(target: str, api: str, connections: int, rps: float, p95: float, upstream: str = OURS,
        errors: int = 0, cpu: CallCpu = CPU) -> GatewayRow:  # fmt: skip
    sample = Measurement(requests=int(rps * 8), non_2xx=errors, socket_errors=0, seconds=8.0, p50_ms=p95 / 2,
                         p95_ms=p95, p99_ms=p95 * 1.2, max_ms=p95 * 2)  # fmt: skip
    return GatewayRow(target, api, upstream, connections, 1, rps, p95 / 2, p95, p95 * 1.2, errors, sample.requests,
                      cpu, [sample], [cpu])  # fmt: skip


def gateway_rows(native_rps: float = 500, native_p95: float = 300.0, openapi_p95: float = 400.0) -> list[GatewayRow]:
    """direct 800 req/s; stock mcpo 200 req/s at p95 450 ms (c=100), 2.0 ms (c=1)."""
    return [
        row(DIRECT, MCP, 1, 1000, 1.0, cpu=CallCpu(None, 1.0)),
        row(GATEWAY, MCP, 1, 500, 2.0),
        row(GATEWAY, OPENAPI, 1, 400, 2.0),
        row(STOCK, OPENAPI, 1, 300, 2.0),
        row(DIRECT, MCP, 100, 800, 150.0, cpu=CallCpu(None, 1.0)),
        row(GATEWAY, MCP, 100, native_rps, native_p95),
        row(GATEWAY, OPENAPI, 100, 300, openapi_p95),
        row(STOCK, OPENAPI, 100, 200, 450.0),
        row(GATEWAY, OPENAPI, 100, 700, 150.0, upstream=STDIO, cpu=CallCpu(3.0, None)),
    ]


def test_the_gateway_goals_all_met() -> None:
    met = gateway_goals.verdicts(gateway_rows())
    assert [g.passed for g in met] == [True] * 6
    assert [g.goal for g in met] == [
        "native MCP path >= 0.6 x direct throughput, c=100",
        "native MCP path p95 < 500 ms, c=100",
        "OpenAPI path p95 < 500 ms, c=100",
        "OpenAPI path >= 1.1 x stock mcpo throughput, c=100",
        "OpenAPI path p95 <= 1.10 x stock mcpo p95, c=1",
        "OpenAPI path p95 <= 1.10 x stock mcpo p95, c=100",
    ]
    assert met[0].measured == "500 vs 800 req/s (0.62 x)"
    assert met[3].measured == "300 vs 200 req/s (1.50 x)"


def test_each_gateway_goal_can_be_missed() -> None:
    slow_native = gateway_goals.verdicts(gateway_rows(native_rps=470))  # 470 / 800 = 0.59 x direct
    assert [g.passed for g in slow_native] == [False, True, True, True, True, True]
    late_native = gateway_goals.verdicts(gateway_rows(native_p95=500.0))  # not below 500 ms
    assert [g.passed for g in late_native] == [True, False, True, True, True, True]
    late_openapi = gateway_goals.verdicts(gateway_rows(openapi_p95=500.0))  # and 1.11 x stock mcpo's p95
    assert [g.passed for g in late_openapi] == [True, True, False, True, True, False]
    rows = [r if (r.target, r.api, r.connections) != (STOCK, OPENAPI, 100) else row(STOCK, OPENAPI, 100, 280, 450.0)
            for r in gateway_rows()]  # fmt: skip
    assert [g.passed for g in gateway_goals.verdicts(rows)] == [True, True, True, False, True, True]  # 1.07 x


def test_a_gateway_goal_on_a_path_with_errors_is_not_met() -> None:
    rows = [r if (r.target, r.api, r.connections) != (GATEWAY, MCP, 100) else row(GATEWAY, MCP, 100, 700, 100.0,
            errors=3) for r in gateway_rows()]  # fmt: skip
    goals = gateway_goals.verdicts(rows)
    assert [g.passed for g in goals[:2]] == [False, False]
    assert goals[1].measured == "100.0 ms; 3 errors"


def report_of(rows: list[GatewayRow]) -> GatewayBenchmark:
    return GatewayBenchmark("2026-11-23T10:00:00+00:00", MACHINE, CONDITIONS, 2, 8.0, 1, rows,
                            gateway_goals.verdicts(rows))  # fmt: skip


def test_the_gateway_report(tmp_path: Path) -> None:
    report = report_of(gateway_rows())
    assert report.passed
    text = gateway_results.markdown(report)
    assert "Docker 27.5.1; load average before the run [1.2, 2.0, 3.0]" in text
    assert "runs 2 worker process(es)" in text
    assert "| gateway | MCP | time (streamable HTTP) | 100 | 500 | 150.0 | 300.0 | 360.0 | 0 | 2.50 | 1.10 |" in text
    assert "| direct | MCP | time (streamable HTTP) | 100 | 800 | 75.0 | 150.0 | 180.0 | 0 | - | 1.00 |" in text
    assert (
        "| gateway | OpenAPI | reference time (stdio) | 100 | 700 | 75.0 | 150.0 | 180.0 | 0 | 3.00 | in gateway |"
        in text
    )
    assert text.count("| yes |") == 6
    written = json.loads(write_report(report, tmp_path, text).read_text())
    assert written["passed"] is True
    assert written["results"][0]["samples"][0]["rps"] == 1000.0  # each round's rate
    assert written["results"][0]["cpu_ms_per_call"] == {"gateway_ms": None, "server_ms": 1.0}
    assert written["conditions"] == {"load_average_before": [1.2, 2.0, 3.0], "load_average_after": [1.9, 2.1, 3.0]}
    assert GatewayBenchmark.from_json(written) == report
    assert (tmp_path / "report.md").read_text() == text


def test_a_missed_goal_fails_the_report() -> None:
    report = report_of(gateway_rows(native_p95=800.0))
    assert not report.passed
    assert "| native MCP path p95 < 500 ms, c=100 | 800.0 ms | NO |" in gateway_results.markdown(report)


class FakeContainer:
    """A container whose CPU time advances by `step` ns at every snapshot."""

    def __init__(self, step: int) -> None:
        self.used, self.step = 0, step

    def stats(self, **kwargs: object) -> dict[str, object]:
        assert kwargs == {"stream": False, "one_shot": True}  # one snapshot, not a two-sample wait
        self.used += self.step
        return {"cpu_stats": {"cpu_usage": {"total_usage": self.used}}}


def test_cpu_per_call_from_two_readings() -> None:
    meter = CpuMeter({"gateway": FakeContainer(3_000_000_000), "time": FakeContainer(1_000_000_000)})
    before, after = meter.read(["gateway", "time"]), meter.read(["gateway", "time", None])
    assert per_call(before, after, "gateway", 1000) == 3.0  # 3 s of CPU over 1000 calls
    assert per_call(before, after, "time", 1000) == 1.0
    assert per_call(before, after, None, 1000) is None  # no such container on the path
    assert per_call(before, after, "time", 0) is None  # no call completed


def test_the_native_path_posts_a_tools_call_with_the_key() -> None:
    urls = {DIRECT: "http://d", GATEWAY: "http://g", STOCK: "http://s", ONE_WORKER: "http://w"}
    found = endpoints(urls, "k3y", "time-t0ken")
    native = next(e for e in found if (e.name, e.api) == (GATEWAY, MCP))
    assert native.url == "http://g/mcp/time"
    assert json.loads(native.body)["method"] == "tools/call"
    assert native.headers["Authorization"] == "Bearer k3y"
    assert native.headers["Accept"] == "application/json, text/event-stream"
    assert native.headers["MCP-Protocol-Version"] == "2025-06-18"
    assert (native.gateway, native.server) == (GATEWAY, "time")
    direct = next(e for e in found if e.name == DIRECT)
    assert direct.headers["Authorization"] == "Bearer time-t0ken"  # as the gateway: the server answers no one else
    assert direct.body == native.body
    stdio = next(e for e in found if e.upstream == STDIO)
    assert (stdio.url, stdio.server) == ("http://g/time-reference/get_current_time", None)


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
