"""Tool-call latency and throughput, same machine, same run, through:

(a) stock mcpo 0.0.20 (its own CLI, in the gateway image) to our time server (streamable HTTP) and to
    the reference mcp-server-time (stdio);
(b) mcpstack's gateway, as shipped, to the same two servers; and tuning variants of it
    (asyncio + h11 instead of uvloop + httptools; two worker processes);
(c) the time server directly (JSON-RPC tools/call over streamable HTTP, stateless, JSON response);

at 1 and 100 concurrent connections, measured by wrk on 127.0.0.1. Rounds are interleaved so machine
noise spreads over every target; medians are reported. Goals (issue 5): the gateway adds at most 10%
to stock mcpo's p95 on the same path, and gateway -> our server reaches at least 2x the throughput of
stock mcpo -> reference stdio server at 100 connections.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx

from mcpstack.capacity.bench import wrk
from mcpstack.capacity.bench.goals import Goal, goals_table
from mcpstack.capacity.machine import Machine, machine, now
from mcpstack.capacity.report import write_report
from mcpstack.capacity.stack_variants import lift_rate_limits
from mcpstack.local.containers import LABEL_STACK, container_name
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import variant_stack

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - inside a container; published on 127.0.0.1 only
GOAL_P95_OVERHEAD = 1.10
GOAL_THROUGHPUT_RATIO = 2.0
TOOL_ARGS = {"timezone": "UTC"}
JSONRPC_CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_current_time", "arguments": TOOL_ARGS},
}


@dataclass(frozen=True)
class Endpoint:
    """One measured path: who serves it (`name`), what it calls upstream, and the request wrk sends."""

    name: str
    upstream: str
    url: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class GatewayRow:
    """One path at one connection count: medians over the rounds, and every round's measurement."""

    target: str
    upstream: str
    connections: int
    rounds: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    samples: list[wrk.Measurement]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "upstream": self.upstream,
            "connections": self.connections,
            "rounds": self.rounds,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
            "requests": self.requests,
            "samples": [m.to_json() for m in self.samples],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GatewayRow:
        return cls(**{**doc, "samples": [wrk.Measurement.from_json(m) for m in doc["samples"]]})


@dataclass(frozen=True)
class GatewayBenchmark:
    date: str
    machine: Machine
    seconds: float
    rounds: int
    results: list[GatewayRow]
    verdicts: list[Goal]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "machine": self.machine.to_json(),
            "seconds": self.seconds,
            "rounds": self.rounds,
            "results": [r.to_json() for r in self.results],
            "verdicts": [v.to_json() for v in self.verdicts],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GatewayBenchmark:
        return cls(
            doc["date"],
            Machine.from_json(doc["machine"]),
            doc["seconds"],
            doc["rounds"],
            [GatewayRow.from_json(r) for r in doc["results"]],
            [Goal.from_json(v) for v in doc["verdicts"]],
        )


@contextmanager
def bench_stack(workdir: Path) -> Iterator[tuple[LocalStack, dict[str, str]]]:
    """The stack plus extra containers (stock mcpo, gateway variants) on its network: name -> base URL."""
    with variant_stack(workdir / "config", lift_rate_limits, "mcpstack-bench") as stack:
        client = docker.from_env()
        gateway = client.containers.get(container_name(stack.name, "mcpo"))
        key = stack.secrets.value(stack.catalog.services["mcpo"].gateway.clients["loadtest"].secret)
        stock_config = workdir / "stock-mcpo.json"
        stock_config.write_text(
            json.dumps(
                {
                    "mcpServers": {
                        "time": {"type": "streamable-http", "url": "http://time:8003/mcp"},
                        "time-reference": {
                            "command": "/opt/mcp-stdio/time-reference/bin/mcp-server-time",
                            "args": ["--local-timezone", "UTC"],
                        },
                    }
                }
            )
        )
        stock_config.chmod(0o644)
        workdir.chmod(0o755)
        gateway_command = gateway.attrs["Config"]["Entrypoint"]
        extras = {
            "stock mcpo": (
                [
                    "mcpo",
                    "--host",
                    ALL_INTERFACES,
                    "--port",
                    "8080",
                    "--config",
                    "/bench/stock-mcpo.json",
                    "--api-key",
                    key,
                ],
                [f"{workdir}:/bench:ro"],
            ),
            "gateway (asyncio, h11)": ([*gateway_command, "--loop", "asyncio", "--http", "h11"], None),
            "gateway (2 workers)": ([*gateway_command, "--workers", "2"], None),
        }
        urls = {"gateway": stack.url("mcpo"), "direct": stack.url("time")}
        started = []
        try:
            for name, (command, binds) in extras.items():
                container = client.containers.run(
                    gateway.image.id,
                    entrypoint=command,
                    detach=True,
                    name=f"{stack.name}-bench-{uuid.uuid4().hex[:4]}",
                    network=stack.network,
                    user="10001:10001",
                    read_only=True,
                    tmpfs={"/tmp": ""},  # noqa: S108 - a private tmpfs
                    cap_drop=["ALL"],
                    security_opt=["no-new-privileges:true"],
                    labels={LABEL_STACK: stack.name},
                    volumes=binds if binds is not None else gateway.attrs["HostConfig"]["Binds"],
                    ports={"8080/tcp": ("127.0.0.1", None)},
                )
                started.append(container)
                container.reload()
                urls[name] = (
                    f"http://127.0.0.1:{container.attrs['NetworkSettings']['Ports']['8080/tcp'][0]['HostPort']}"
                )
            for name, url in urls.items():
                if name != "direct":
                    _wait_serving(url, key)
            yield stack, {**urls, "key": key}
        finally:
            for container in started:
                container.remove(force=True)


def _wait_serving(url: str, key: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (
                httpx.post(
                    f"{url}/time-reference/get_current_time",
                    json=TOOL_ARGS,
                    timeout=5,
                    headers={"Authorization": f"Bearer {key}"},
                ).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not serve tool calls within {timeout} s")


def endpoints(urls: dict[str, str]) -> list[Endpoint]:
    auth = {"Authorization": f"Bearer {urls['key']}", "Content-Type": "application/json"}
    tool_body = json.dumps(TOOL_ARGS)
    found = [
        Endpoint(
            "direct",
            "time (streamable HTTP)",
            urls["direct"] + "/mcp",
            json.dumps(JSONRPC_CALL),
            {
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-06-18",
            },
        )
    ]
    for name in ("stock mcpo", "gateway"):
        found.append(Endpoint(name, "time (streamable HTTP)", urls[name] + "/time/get_current_time", tool_body, auth))
        found.append(
            Endpoint(name, "reference time (stdio)", urls[name] + "/time-reference/get_current_time", tool_body, auth)
        )
    for name in ("gateway (asyncio, h11)", "gateway (2 workers)"):
        found.append(Endpoint(name, "time (streamable HTTP)", urls[name] + "/time/get_current_time", tool_body, auth))
    return found


def measure(
    all_targets: list[Endpoint], connections: list[int], seconds: float, rounds: int, log: Callable[[str], None]
) -> list[GatewayRow]:
    samples: dict[tuple[str, str, int], list[wrk.Measurement]] = {}
    for round_number in range(1, rounds + 1):
        for conns in connections:
            for target in all_targets:
                wrk.run(target.url, target.body, target.headers, conns, 2)  # warm-up, not recorded
                result = wrk.run(target.url, target.body, target.headers, conns, seconds)
                samples.setdefault((target.name, target.upstream, conns), []).append(result)
                log(
                    f"round {round_number} c={conns:<3} {target.name:<24} {target.upstream:<24} "
                    f"{result.rps:7.1f} req/s p95 {result.p95_ms:7.1f} ms "
                    f"errors {result.non_2xx + result.socket_errors}"
                )
    rows = []
    for (name, upstream, conns), results in samples.items():
        rows.append(
            GatewayRow(
                target=name,
                upstream=upstream,
                connections=conns,
                rounds=len(results),
                rps=round(statistics.median(r.rps for r in results), 1),
                p50_ms=round(statistics.median(r.p50_ms for r in results), 2),
                p95_ms=round(statistics.median(r.p95_ms for r in results), 2),
                p99_ms=round(statistics.median(r.p99_ms for r in results), 2),
                errors=sum(r.non_2xx + r.socket_errors for r in results),
                requests=sum(r.requests for r in results),
                samples=results,
            )
        )
    return rows


def verdicts(rows: list[GatewayRow]) -> list[Goal]:
    def row(target: str, upstream: str, conns: int) -> GatewayRow:
        return next(r for r in rows if (r.target, r.upstream, r.connections) == (target, upstream, conns))

    found = []
    for conns in sorted({r.connections for r in rows}):
        ours, stock = (
            row("gateway", "time (streamable HTTP)", conns),
            row("stock mcpo", "time (streamable HTTP)", conns),
        )
        ratio = ours.p95_ms / stock.p95_ms
        found.append(
            Goal(
                goal=f"gateway p95 <= {GOAL_P95_OVERHEAD:.2f} x stock mcpo p95, same path, c={conns}",
                measured=f"{ours.p95_ms} ms vs {stock.p95_ms} ms ({ratio:.2f} x)",
                passed=ratio <= GOAL_P95_OVERHEAD,
            )
        )
    top = max(r.connections for r in rows)
    ours = row("gateway", "time (streamable HTTP)", top)
    baseline = row("stock mcpo", "reference time (stdio)", top)
    ratio = ours.rps / baseline.rps
    found.append(
        Goal(
            goal=f"gateway -> our server >= {GOAL_THROUGHPUT_RATIO:.0f} x stock mcpo -> reference stdio "
            f"throughput, c={top}",
            measured=f"{ours.rps} vs {baseline.rps} req/s ({ratio:.2f} x)",
            passed=ratio >= GOAL_THROUGHPUT_RATIO,
        )
    )
    return found


def markdown(report: GatewayBenchmark) -> str:
    m = report.machine
    lines = [
        f"# Gateway benchmark ({report.date})",
        "",
        f"Machine: {m.cpus} CPUs, {m.memory_gib} GiB, kernel {m.kernel}, Docker {m.docker}. wrk on the same machine, "
        f"{report.seconds:g} s per measurement, {report.rounds} interleaved rounds, medians.",
        "",
        "| target | upstream | connections | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(report.results, key=lambda r: (r.connections, r.upstream, r.target)):
        lines.append(
            f"| {r.target} | {r.upstream} | {r.connections} | {r.rps} | {r.p50_ms} | "
            f"{r.p95_ms} | {r.p99_ms} | {r.errors} |"
        )
    lines += ["", *goals_table(report.verdicts)]
    return "\n".join(lines) + "\n"


def run_benchmark(
    report_dir: Path,
    *,
    seconds: float = 8,
    rounds: int = 2,
    connections: tuple[int, ...] = (1, 100),
    log: Callable[[str], None] = print,
) -> GatewayBenchmark:
    report_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack_scope:
        workdir = Path(stack_scope.enter_context(tempfile.TemporaryDirectory(prefix="mcpstack-bench-")))
        _, urls = stack_scope.enter_context(bench_stack(workdir))
        rows = measure(endpoints(urls), list(connections), seconds, rounds, log)
    report = GatewayBenchmark(now(), machine(with_docker=True), seconds, rounds, rows, verdicts(rows))
    write_report(report, report_dir, markdown(report))
    return report
