"""`mcpstack bench gateway`: tool-call throughput, latency and CPU per call, same machine, same run, through

(a) the time server directly (JSON-RPC tools/call over streamable HTTP, stateless, JSON response);
(b) mcpstack's gateway as shipped (the catalog's `workers`): its MCP front (/mcp/time, the same JSON-RPC request
    with the bearer key; stateless, so no initialize before a call) and its OpenAPI path, to our time server, and
    its OpenAPI path to the reference mcp-server-time (stdio); the same gateway with one worker;
(c) stock mcpo 0.0.20 (its own CLI, in the gateway image) to our time server;

at 1 and 100 closed-loop connections, measured by wrk on 127.0.0.1 (gateway_paths.py). Rounds are interleaved so
machine noise spreads over every target; medians are reported. CPU per call: the containers' cgroup CPU time over
each measurement (cpu.py). Goals: gateway_goals.py.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from mcpstack.capacity.bench import wrk
from mcpstack.capacity.bench.cpu import CallCpu, CpuMeter, per_call
from mcpstack.capacity.bench.gateway_goals import verdicts
from mcpstack.capacity.bench.gateway_paths import Endpoint, endpoints, wait_answering
from mcpstack.capacity.bench.gateway_results import GatewayBenchmark, GatewayRow, markdown
from mcpstack.capacity.bench.gateway_stack import bench_stack
from mcpstack.capacity.machine import Conditions, load_average, machine, now
from mcpstack.capacity.report import write_report

__all__ = ["markdown", "measure", "run_benchmark"]
WARM_UP_SECONDS = 2


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def _row(target: Endpoint, conns: int, results: list[tuple[wrk.Measurement, CallCpu]]) -> GatewayRow:
    runs, cpus = [m for m, _ in results], [c for _, c in results]
    return GatewayRow(
        target=target.name,
        api=target.api,
        upstream=target.upstream,
        connections=conns,
        rounds=len(runs),
        rps=round(statistics.median(r.rps for r in runs), 1),
        p50_ms=round(statistics.median(r.p50_ms for r in runs), 2),
        p95_ms=round(statistics.median(r.p95_ms for r in runs), 2),
        p99_ms=round(statistics.median(r.p99_ms for r in runs), 2),
        errors=sum(r.non_2xx + r.socket_errors for r in runs),
        requests=sum(r.requests for r in runs),
        cpu=CallCpu(_median([c.gateway_ms for c in cpus]), _median([c.server_ms for c in cpus])),
        samples=runs,
        cpu_samples=cpus,
    )


def measure(
    targets: list[Endpoint],
    connections: list[int],
    seconds: float,
    rounds: int,
    meter: CpuMeter,
    log: Callable[[str], None],
) -> list[GatewayRow]:
    samples: dict[tuple[int, int], list[tuple[wrk.Measurement, CallCpu]]] = {}
    for round_number in range(1, rounds + 1):
        for conns in connections:
            for index, target in enumerate(targets):
                wrk.run(target.url, target.body, target.headers, conns, WARM_UP_SECONDS)  # not recorded
                before = meter.read([target.gateway, target.server])
                result = wrk.run(target.url, target.body, target.headers, conns, seconds)
                after = meter.read([target.gateway, target.server])
                cpu = CallCpu(
                    per_call(before, after, target.gateway, result.requests),
                    per_call(before, after, target.server, result.requests),
                )
                samples.setdefault((conns, index), []).append((result, cpu))
                log(
                    f"round {round_number} c={conns:<3} {target.name:<18} {target.api:<7} {target.upstream:<22} "
                    f"{result.rps:7.1f} req/s p95 {result.p95_ms:7.1f} ms errors "
                    f"{result.non_2xx + result.socket_errors} CPU ms/call {cpu.gateway_ms} / {cpu.server_ms}"
                )
    return [_row(targets[index], conns, results) for (conns, index), results in sorted(samples.items())]


def run_benchmark(
    report_dir: Path,
    *,
    seconds: float = 8,
    rounds: int = 2,
    connections: tuple[int, ...] = (1, 100),
    log: Callable[[str], None] = print,
) -> GatewayBenchmark:
    report_dir.mkdir(parents=True, exist_ok=True)
    here = machine(with_docker=True)
    load_before = load_average()
    with ExitStack() as scope:
        workdir = Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="mcpstack-bench-")))
        stack = scope.enter_context(bench_stack(workdir, here.cpus))
        targets = endpoints(stack.urls, stack.key, stack.server_token)
        for target in targets:
            wait_answering(target)
        rows = measure(targets, list(connections), seconds, rounds, CpuMeter(stack.containers), log)
    conditions = Conditions(load_before, load_average())
    report = GatewayBenchmark(now(), here, conditions, stack.gateway_workers, seconds, rounds, rows, verdicts(rows))
    write_report(report, report_dir, markdown(report))
    return report
