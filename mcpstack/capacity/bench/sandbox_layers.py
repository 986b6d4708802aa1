"""What each isolation layer of the sandbox costs: latency of a trivial run (`print(1)`), one at a
time and 8 at a time, per set of layers, in the real sandbox container.

Every layer set runs in its own container of the sandbox image, started exactly as the catalog runs
it (user, read-only root, capabilities, seccomp profile, pids, CPU and memory limits) except for
SANDBOX_LAYERS, no required layers, and a pool of 8 so that 8 concurrent runs really run at once.
One set at a time, nothing else running in the benchmark. Calls are MCP tools/call over streamable
HTTP on 127.0.0.1 (the call latency a client sees), with a bearer token the container reads from its token file as
it reads the gateway's in the stack (MCP_AUTH_TOKEN_FILE); the runs' own durations (`duration_ms`, measured by
the server around the sandboxed process) are reported too.

Goal (issue 4): p50 <= 100 ms for a trivial run with every available layer on.

    python -m mcpstack.capacity.bench.sandbox_layers [REPORT_DIR]
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.capacity.bench.goals import Goal, goals_table
from mcpstack.capacity.machine import Machine, machine, now
from mcpstack.capacity.report import write_report
from mcpstack.catalog import load_catalog
from mcpstack.local.containers import LABEL_STACK, ServiceContainer, run_options
from mcpstack.local.docker_engine import docker_client
from mcpstack.local.images import ImageBuilder
from mcpstack.local.server_tokens import TOKEN_FILE_VARIABLE
from mcpstack.local.spec import ContainerSpec, container_specs
from mcpstack.local.view import local_view

GOAL_P50_MS = 100.0
CONCURRENCY = 8
CODE = "print(1)"
ALWAYS = "process_group,scrubbed_env"
LAYER_SETS: list[tuple[str, str]] = [
    ("process group + scrubbed env (baseline)", ALWAYS),
    ("+ rlimits", f"{ALWAYS},rlimits"),
    ("+ rlimits + seccomp (no namespaces)", f"{ALWAYS},rlimits,seccomp"),
    (
        "namespaces only (user, mount, net, pid, ipc)",
        f"{ALWAYS},user_namespace,mount_namespace,network_namespace,pid_namespace,ipc_namespace",
    ),
    ("all available layers (as deployed)", "all"),
]


@dataclass(frozen=True)
class CallFigures:
    """Latency of the calls as the client saw them and of the runs as the server timed them, and the rate."""

    calls: int
    p50_ms: float
    p95_ms: float
    run_p50_ms: float
    run_p95_ms: float
    runs_per_second: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CallFigures:
        return cls(**doc)


@dataclass(frozen=True)
class Samples:
    calls_ms: list[float]  # client-side tools/call latency
    runs_ms: list[float]  # the server's duration_ms of each run
    seconds: float  # wall-clock time of the whole measurement
    layers: list[str]

    def summary(self) -> CallFigures:
        return CallFigures(
            calls=len(self.calls_ms),
            p50_ms=percentile(self.calls_ms, 50),
            p95_ms=percentile(self.calls_ms, 95),
            run_p50_ms=percentile(self.runs_ms, 50),
            run_p95_ms=percentile(self.runs_ms, 95),
            runs_per_second=round(len(self.calls_ms) / self.seconds, 1),
        )


@dataclass(frozen=True)
class LayerSetRow:
    """One set of isolation layers: as requested, as the runs really had them, one at a time and 8 at once."""

    set: str
    requested: str
    layers: list[str]
    sequential: CallFigures
    concurrent: CallFigures

    def to_json(self) -> dict[str, Any]:
        return {
            "set": self.set,
            "requested": self.requested,
            "layers": self.layers,
            "sequential": self.sequential.to_json(),
            "concurrent": self.concurrent.to_json(),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LayerSetRow:
        return cls(
            doc["set"],
            doc["requested"],
            list(doc["layers"]),
            CallFigures.from_json(doc["sequential"]),
            CallFigures.from_json(doc["concurrent"]),
        )


@dataclass(frozen=True)
class SandboxBenchmark:
    date: str
    machine: Machine
    code: str
    sequential_calls: int
    calls_per_worker: int
    concurrency: int
    results: list[LayerSetRow]
    verdicts: list[Goal]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "machine": self.machine.to_json(),
            "code": self.code,
            "sequential_calls": self.sequential_calls,
            "calls_per_worker": self.calls_per_worker,
            "concurrency": self.concurrency,
            "results": [r.to_json() for r in self.results],
            "verdicts": [v.to_json() for v in self.verdicts],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SandboxBenchmark:
        return cls(
            doc["date"],
            Machine.from_json(doc["machine"]),
            doc["code"],
            doc["sequential_calls"],
            doc["calls_per_worker"],
            doc["concurrency"],
            [LayerSetRow.from_json(r) for r in doc["results"]],
            [Goal.from_json(v) for v in doc["verdicts"]],
        )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 2)


async def one_call(client: Client) -> tuple[float, float, list[str]]:
    started = time.perf_counter()
    result = await client.call_tool("execute_python", {"code": CODE})
    elapsed = (time.perf_counter() - started) * 1000
    body = result.structured_content or {}
    if result.is_error or body.get("stdout") != "1\n":
        raise RuntimeError(f"unexpected result: {result}")
    return elapsed, float(body["duration_ms"]), list(body["isolation"])


async def measure(url: str, token: str, *, workers: int, calls_per_worker: int, warmup: int) -> Samples:
    calls, runs, layers = [], [], []

    async def worker() -> None:
        nonlocal layers
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            for _ in range(warmup):
                await one_call(client)
            for _ in range(calls_per_worker):
                call_ms, run_ms, layers = await one_call(client)
                calls.append(call_ms)
                runs.append(run_ms)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Samples(calls, runs, time.perf_counter() - started, layers)


def sandbox_spec() -> tuple[ContainerSpec, Any]:
    catalog = local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev"))
    return container_specs(catalog, fixed_host_ports=False)["sandbox"], catalog


def token_mount(spec: ContainerSpec, directory: Path) -> tuple[str, dict[str, Path]]:
    """A fresh token for the benchmark's containers, and the mount putting it where they read it."""
    token = secrets.token_urlsafe(32)
    path = directory / "mcp-auth-token"
    path.write_text(token)
    os.chmod(path, 0o444)  # the container's user reads it; a throwaway token of a loopback-only container
    return token, {str(spec.env[TOKEN_FILE_VARIABLE]): path}


def start_sandbox(
    spec: ContainerSpec, layers: str, network: str, stack: str, mounts: dict[str, Path]
) -> ServiceContainer:
    env = {
        **spec.env,
        "SANDBOX_LAYERS": layers,
        "SANDBOX_REQUIRED_LAYERS": "",
        "SANDBOX_MAX_CONCURRENT_RUNS": str(CONCURRENCY),
        "SANDBOX_MAX_QUEUED_RUNS": str(CONCURRENCY * 4),
    }
    bench_spec = replace(spec, env=env, published={"http": None})
    options = run_options(
        bench_spec, stack=stack, environment="bench", network=network, mounts=mounts, env=env, fingerprint="benchmark"
    )
    container = ServiceContainer(bench_spec, options)
    container.start()
    return container


def wait_healthy(url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url + "/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not become healthy within {timeout:g} s")


def verdicts(rows: list[LayerSetRow]) -> list[Goal]:
    full = next(r for r in rows if r.set == LAYER_SETS[-1][0])
    p50 = full.sequential.p50_ms
    return [
        Goal(
            goal=f"trivial run, every available layer on, one at a time: p50 <= {GOAL_P50_MS:g} ms",
            measured=f"{p50} ms (call over MCP); the run itself {full.sequential.run_p50_ms} ms",
            passed=p50 <= GOAL_P50_MS,
        )
    ]


def markdown(report: SandboxBenchmark) -> str:
    m = report.machine
    lines = [
        f"# Sandbox benchmark ({report.date})",
        "",
        f"Machine: {m.cpus} CPUs, {m.memory_gib} GiB, kernel {m.kernel}, Docker {m.docker}. "
        f"`{CODE}` through MCP streamable HTTP on 127.0.0.1 against the sandbox container (catalog settings: "
        f"1 CPU, 512 MiB); {report.sequential_calls} calls one at a time, then {CONCURRENCY} clients x "
        f"{report.calls_per_worker} calls at once. `call` is the latency the client sees; `run` is the "
        "server's duration_ms of the sandboxed process alone.",
        "",
        "| layers | sequential call p50 / p95 ms | run p50 / p95 ms | 8 concurrent call p50 / p95 ms | "
        "run p50 / p95 ms | runs/s (8 concurrent) |",
        "|---|---|---|---|---|---|",
    ]
    for row in report.results:
        seq, conc = row.sequential, row.concurrent
        lines.append(
            f"| {row.set} | {seq.p50_ms} / {seq.p95_ms} | {seq.run_p50_ms} / {seq.run_p95_ms} | "
            f"{conc.p50_ms} / {conc.p95_ms} | {conc.run_p50_ms} / {conc.run_p95_ms} | "
            f"{conc.runs_per_second} |"
        )
    lines += ["", "Layers each set really had (from the runs' `isolation`):", ""]
    lines += [f"- {row.set}: {', '.join(row.layers)}" for row in report.results]
    lines += ["", *goals_table(report.verdicts)]
    return "\n".join(lines) + "\n"


def run_benchmark(
    report_dir: Path,
    *,
    sequential_calls: int = 100,
    calls_per_worker: int = 25,
    warmup: int = 5,
    log: Callable[[str], None] = print,
) -> SandboxBenchmark:
    report_dir.mkdir(parents=True, exist_ok=True)
    spec, catalog = sandbox_spec()
    client = docker_client()
    ImageBuilder(client, log=log).ensure(catalog, only={"sandbox"})
    stack = f"mcpstack-bench-sandbox-{uuid.uuid4().hex[:6]}"
    network = client.networks.create(f"{stack}-net", driver="bridge", labels={LABEL_STACK: stack})
    rows = []
    workdir = tempfile.TemporaryDirectory(prefix="mcpstack-bench-sandbox-")
    token, mounts = token_mount(spec, Path(workdir.name))
    try:
        for name, layers in LAYER_SETS:
            with ExitStack() as cleanup:
                container = start_sandbox(spec, layers, network.name, stack, mounts)
                cleanup.callback(lambda c=container: c.get_wrapped_container().remove(force=True))
                base = f"http://127.0.0.1:{container.get_exposed_port(spec.ports['http'])}"
                wait_healthy(base)
                url = base + "/mcp"
                sequential = asyncio.run(
                    measure(url, token, workers=1, calls_per_worker=sequential_calls, warmup=warmup)
                )
                concurrent = asyncio.run(
                    measure(url, token, workers=CONCURRENCY, calls_per_worker=calls_per_worker, warmup=1)
                )
                row = LayerSetRow(name, layers, sequential.layers, sequential.summary(), concurrent.summary())
                rows.append(row)
                log(
                    f"{name:<48} sequential p50 {row.sequential.p50_ms:6.1f} ms p95 "
                    f"{row.sequential.p95_ms:6.1f} ms | 8 concurrent p50 {row.concurrent.p50_ms:6.1f} ms "
                    f"p95 {row.concurrent.p95_ms:6.1f} ms, {row.concurrent.runs_per_second} runs/s"
                )
    finally:
        network.remove()
        workdir.cleanup()
    report = SandboxBenchmark(
        date=now(),
        machine=machine(with_docker=True),
        code=CODE,
        sequential_calls=sequential_calls,
        calls_per_worker=calls_per_worker,
        concurrency=CONCURRENCY,
        results=rows,
        verdicts=verdicts(rows),
    )
    write_report(report, report_dir, markdown(report))
    return report


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    report_dir = Path(args[0]) if args else REPO_ROOT / "reports" / "sandbox-benchmark"
    report = run_benchmark(report_dir)
    print(markdown(report))


if __name__ == "__main__":
    main()
