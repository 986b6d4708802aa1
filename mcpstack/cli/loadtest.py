"""`mcpstack loadtest`: the capacity test through the gateway, one scenario per run (docs/capacity.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mcpstack import REPO_ROOT
from mcpstack.cli.options import ConfigDir, EnvOption, OutputOption, StackOption, config_dir, read_catalog, wants_json
from mcpstack.cli.output import EXIT_INVALID, console, errors, fail, info, print_json
from mcpstack.local.docker_engine import DockerUnavailable
from mcpstack.local.stack import LocalStack, StackError

if TYPE_CHECKING:
    from mcpstack.capacity.knee_report import KneeReport

LOADTEST_SCENARIOS = ("slo", "rate-limit", "stress", "webui-users")
WEBUI_USERS_DEFAULT = 10  # real Open WebUI accounts of a webui-users run (at most 50)


def loadtest(
    target: Annotated[
        str | None, typer.Option(help="gateway URL of a deployed stack; its key from --key-env (default: local stack)")
    ] = None,
    stack: StackOption = None,
    env: EnvOption = "dev",
    scenario: Annotated[
        str, typer.Option(help="slo, rate-limit, stress (knee finding) or webui-users (Open WebUI accounts chatting)")
    ] = "slo",
    users: Annotated[int | None, typer.Option(help="concurrent users (default: the catalog's slos.load.users)")] = None,
    duration: Annotated[
        str | None, typer.Option(help="measured time after the ramp-up, e.g. 60s (default: slos.load.duration)")
    ] = None,
    spawn_rate: Annotated[float | None, typer.Option(help="users started per second (default: slos)")] = None,
    think: Annotated[
        str | None, typer.Option(help="think time range in seconds, e.g. 8-16 (default: slos.load.think_time_seconds)")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="report directory (default: reports/loadtest/SCENARIO)")] = None,
    key_env: Annotated[str, typer.Option(help="variable holding the API key for --target")] = "MCPSTACK_LOADTEST_KEY",
    output: OutputOption = "text",
    config: ConfigDir = None,
) -> None:
    """Capacity test through the gateway with locust (docs/capacity.md); exit 1 when an SLO is missed.

    slo and rate-limit run against the running local stack (--stack, default mcpstack-ENV) or --target URL.
    stress without --stack/--target starts its own stack with the rate limits lifted, and removes it.
    """
    from mcpstack.capacity.gate import gate
    from mcpstack.capacity.gate_load import seconds, think_range
    from mcpstack.capacity.knee import knee_on_fresh_stack, run_knee
    from mcpstack.capacity.locust_run import LoadTestError, local_target, preflight, remote_target
    from mcpstack.capacity.tables import print_summary

    as_json = wants_json(output)
    if scenario not in LOADTEST_SCENARIOS:
        raise fail(f"--scenario must be one of {', '.join(LOADTEST_SCENARIOS)}, not {scenario!r}", EXIT_INVALID)
    if target and stack:
        raise fail("give --target or --stack, not both", EXIT_INVALID)
    try:
        duration_seconds = seconds(duration) if duration else None
        think_seconds = think_range(think) if think else None
    except ValueError as exc:
        raise fail(str(exc), EXIT_INVALID) from None
    report_dir = report or REPO_ROOT / "reports" / "loadtest" / scenario
    if scenario == "webui-users":
        if target:
            raise fail("webui-users runs against a local stack (it creates Open WebUI accounts as its admin)")
        name = stack or f"mcpstack-{env}"
        _webui_users(name, config_dir(config), report_dir, users, duration_seconds, as_json)
    # The table is the point: in a log (CI, make up) it is not wrapped into an 80-column terminal's width.
    wide = console if console.is_terminal else Console(width=max(console.width, 170))
    try:
        if scenario == "stress" and not (target or stack):
            info("stress: starting a stack with the rate limits lifted (docs/capacity.md#finding-the-knee)")
            _finish_stress(knee_on_fresh_stack(report_dir, log=info), report_dir, wide, as_json)
            return
        if target:
            chosen = remote_target(target, read_catalog(config_dir(config), env), key_env)
        else:
            chosen = local_target(
                LocalStack.attach(stack or f"mcpstack-{env}", config_dir=config_dir(config), log=info)
            )
        preflight(chosen)
        if scenario == "stress":
            _finish_stress(run_knee(chosen, report_dir, log=info), report_dir, wide, as_json)
            return
        result = gate(
            chosen,
            report_dir,
            scenario=scenario,
            users=users,
            duration=duration_seconds,
            spawn_rate=spawn_rate,
            think=think_seconds,
            log=info,
        )
    except (DockerUnavailable, StackError, LoadTestError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(result.to_json())
        raise typer.Exit(0 if result.passed else 1)
    print_summary(result, wide)
    files = result.files
    wide.print(
        f"report: {report_dir / files['report']}, {report_dir / files['locust_html']}; plots: "
        f"{report_dir / files['timeline']}, {report_dir / files['histograms']}",
        highlight=False,
    )
    if not result.passed:
        raise typer.Exit(1)


def _webui_users(
    stack: str, config: Path, report_dir: Path, users: int | None, seconds: float | None, as_json: bool
) -> None:
    """Real Open WebUI accounts chatting with tools (mcpstack.capacity.webui_load); exit 1 when a turn failed."""
    from mcpstack.capacity.locust_run import LoadTestError
    from mcpstack.capacity.webui_load import MAX_USERS, run_webui_load, table

    count = users or WEBUI_USERS_DEFAULT
    if not 1 <= count <= MAX_USERS:
        raise fail(f"--users: give 1 to {MAX_USERS} for webui-users (one Open WebUI account each)", EXIT_INVALID)
    try:
        attached = LocalStack.attach(stack, config_dir=config, log=info)
        load = run_webui_load(attached, report_dir, users=count, seconds=seconds or 60.0, log=info)
    except (DockerUnavailable, StackError, LoadTestError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(load.to_json())
    else:
        sys.stdout.write(table(load) + "\n")
        console.print(f"gateway requests by client/tenant: {load.gateway.client_requests}", highlight=False)
    (errors if as_json else console).print(f"report: {report_dir / 'report.json'}", highlight=False)
    raise typer.Exit(1 if load.failures else 0)


def _finish_stress(result: KneeReport, report_dir: Path, wide: Console, as_json: bool = False) -> None:
    """Print the knee; exit 1 when not even the first step was within the objectives (there is no knee)."""
    from mcpstack.capacity.tables import print_knee

    if as_json:
        print_json(result.to_json())
    else:
        print_knee(result, wide)
    (errors if as_json else wide).print(
        f"report: {report_dir / 'report.json'}; plot: {report_dir / 'knee.png'}", highlight=False
    )
    if result.knee.users is None:
        raise typer.Exit(1)
