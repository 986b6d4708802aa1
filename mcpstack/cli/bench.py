"""`mcpstack bench`: benchmarks that write reports (the gateway's overhead, the load generator's ceiling)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mcpstack import REPO_ROOT
from mcpstack.cli.options import OutputOption, wants_json
from mcpstack.cli.output import console, fail, info, print_json

bench_app = typer.Typer(help="Benchmarks that write reports.", no_args_is_help=True)


@bench_app.command("gateway")
def bench_gateway(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "gateway-benchmark",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 8.0,
    rounds: Annotated[int, typer.Option(help="interleaved rounds (medians are reported)")] = 2,
    output: OutputOption = "text",
) -> None:
    """Direct MCP calls vs the gateway (MCP front, OpenAPI) vs stock mcpo, at 1 and 100 connections, with CPU per
    call (needs wrk); exit 1 when a goal is missed."""
    from mcpstack.capacity.bench.gateway_overhead import markdown, run_benchmark

    as_json = wants_json(output)
    result = run_benchmark(report, seconds=seconds, rounds=rounds, log=info)
    if as_json:
        print_json(result.to_json())
    else:
        sys.stdout.write(markdown(result).rstrip("\n") + "\n")  # markdown as written: never re-wrapped
        console.print(f"report: {report / 'report.json'}, {report / 'report.md'}", soft_wrap=True, highlight=False)
    if not result.passed:
        raise typer.Exit(1)


@bench_app.command("loadgen")
def bench_loadgen(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "loadtest-harness",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 15.0,
    output: OutputOption = "text",
) -> None:
    """The load generator's ceiling: req/s one locust process drives against a trivial local endpoint."""
    as_json = wants_json(output)
    from mcpstack.capacity.ceiling import measure_ceiling
    from mcpstack.capacity.locust_run import LoadTestError

    try:
        result = measure_ceiling(report, seconds=seconds, log=info)
    except LoadTestError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(result.to_json())
        return
    table = Table(
        "users", "req/s", "p50 ms", "p95 ms", "locust CPU %", "server CPU %", title="one locust process, closed loop"
    )
    for run in result.runs:
        table.add_row(
            str(run.users),
            f"{run.rps:.0f}",
            f"{run.p50_ms:.1f}",
            f"{run.p95_ms:.1f}",
            f"{run.cpu:.0f}",
            f"{run.server_cpu:.0f}",
        )
    console.print(table)
    console.print(f"ceiling {result.ceiling.rps:.0f} req/s; report: {report / 'report.json'}")
