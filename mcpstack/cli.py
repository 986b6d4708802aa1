"""The `mcpstack` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mcpstack import REPO_ROOT
from mcpstack.catalog import Catalog, CatalogError, environments, load_catalog
from mcpstack.catalog.discovery import find_config_dir
from mcpstack.generate import GENERATORS, redacted

if TYPE_CHECKING:
    from mcpstack.capacity.knee_report import KneeReport

app = typer.Typer(
    help="Deploy, verify and capacity-test an Open WebUI + MCP tools platform from one catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
images_app = typer.Typer(help="Build the catalog's container images.", no_args_is_help=True)
app.add_typer(images_app, name="images")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one problem per line, never wrapped

ConfigDir = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="catalog directory (default: $MCPSTACK_CONFIG, else ./config when it holds catalog.yaml, "
        "else the mcpstack checkout's config/)",
    ),
]
EnvOption = Annotated[str, typer.Option("--env", "-e", help="environment overlay (config/environments/ENV.yaml)")]
StackOption = Annotated[str | None, typer.Option("--stack", help="stack name (default: mcpstack-ENV)")]
BaseOption = Annotated[
    str,
    typer.Option(
        "--base",
        help="base image: 'registry' (catalog build.base_image), 'offline' (bootstrapped from "
        "Debian packages) or 'auto' (registry, falling back to offline)",
    ),
]
RealOption = Annotated[
    list[str] | None, typer.Option("--real", help="run this service itself, not its local stand-in (repeatable)")
]
EXIT_INVALID = 2


def _config_dir(option: Path | None) -> Path:
    """The catalog directory this command reads (catalog/discovery.py), announced on stderr."""
    choice = find_config_dir(option)
    errors.print(str(choice), style="dim", markup=False, highlight=False)
    return choice.path


def _load(config: Path, env: str) -> Catalog:
    try:
        return load_catalog(config, env)
    except CatalogError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False)
        errors.print(f"[red]{len(exc.problems)} problem(s) in the catalog[/red]")
        raise typer.Exit(EXIT_INVALID) from None


def _local(catalog: Catalog, real: list[str] | None) -> Catalog:
    from mcpstack.local.view import UnknownService, local_view

    try:
        return local_view(catalog, real or ())
    except UnknownService as exc:
        raise _fail(str(exc), EXIT_INVALID) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def validate(
    env: Annotated[str | None, typer.Argument(help="environment to check (default: every environment)")] = None,
    config: ConfigDir = None,
) -> None:
    """Check the catalog and its environment overlays; exit 2 listing every problem."""
    config = _config_dir(config)
    names = [env] if env else environments(config)
    if not names:
        raise _fail(f"no environments in {config / 'environments'}", EXIT_INVALID)
    failed = 0
    for name in names:
        try:
            catalog = load_catalog(config, name)
        except CatalogError as exc:
            failed += len(exc.problems)
            for problem in exc.problems:
                errors.print(str(problem), markup=False, highlight=False)
            continue
        console.print(f"[green]ok[/green] {name}: {len(catalog.services)} services ({', '.join(catalog.services)})")
    if failed:
        errors.print(f"[red]{failed} problem(s) in the catalog[/red]")
        raise typer.Exit(EXIT_INVALID)


@app.command()
def generate(
    generator: Annotated[str, typer.Argument(help=f"one of: {', '.join(GENERATORS)}")],
    env: EnvOption = "dev",
    config: ConfigDir = None,
) -> None:
    """Print a config file generated from the catalog (secret values shown as <secret:NAME>)."""
    catalog = _load(_config_dir(config), env)
    if generator not in GENERATORS:
        raise _fail(f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})", EXIT_INVALID)
    users = [
        name
        for name, service in catalog.services.items()
        if any(f.generator == generator for f in service.files) or generator in service.generated_env.values()
    ]
    if not users:
        raise _fail(f"no service in {env} mounts {generator!r} or takes it as environment")
    sys.stdout.write(GENERATORS[generator].render(catalog, users[0], redacted))


@images_app.command("build")
def images_build(
    env: EnvOption = "dev",
    base: BaseOption = "auto",
    force: Annotated[bool, typer.Option(help="rebuild even when the inputs are unchanged")] = False,
    service: Annotated[list[str] | None, typer.Option(help="only the images of these services")] = None,
    every: Annotated[bool, typer.Option("--all", help="every buildable image, not only what `up` runs")] = False,
    real: RealOption = None,
    config: ConfigDir = None,
) -> None:
    """Build the images the local stack runs (skips images whose inputs are unchanged)."""
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.images import ImageBuilder, ImageBuildError

    config = _config_dir(config)
    catalog = _load(config, env) if every else _local(_load(config, env), real)
    try:
        builder = ImageBuilder(docker_client(), base=_base_mode(base), log=_info)
        outcomes = builder.ensure(catalog, force=force, only=set(service) if service else None)
    except (DockerUnavailable, ImageBuildError) as exc:
        raise _fail(str(exc)) from None
    table = Table("image", "result")
    for outcome in outcomes:
        table.add_row(outcome.ref, f"built in {outcome.seconds:.0f} s" if outcome.action == "built" else "current")
    console.print(table)


@app.command()
def up(
    env: EnvOption = "dev",
    stack: StackOption = None,
    build: Annotated[bool, typer.Option(help="build missing or outdated images first")] = True,
    base: BaseOption = "auto",
    timeout: Annotated[float, typer.Option(help="seconds to wait for every service to be healthy")] = 90.0,
    real: RealOption = None,
    config: ConfigDir = None,
) -> None:
    """Start the stack on the local Docker engine and wait until every service is healthy."""
    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.images import ImageBuildError
    from mcpstack.local.stack import LocalStack, StackError

    catalog = _load(_config_dir(config), env)
    try:
        _local(catalog, real)  # reject an unknown --real before anything starts
        local = LocalStack(catalog, name=stack, log=_info, real=real or ())
        for original, stand_in in local.substitutions.items():
            _info(f"{original} runs as {stand_in} here (local.substitutes; --real {original} for the real one)")
        statuses = local.up(build=build, base=_base_mode(base), timeout=timeout)
    except (DockerUnavailable, ImageBuildError, StackError) as exc:
        raise _fail(str(exc)) from None
    _print_status(local.name, statuses)


@app.command()
def down(
    env: EnvOption = "dev",
    stack: StackOption = None,
    volumes: Annotated[bool, typer.Option(help="also remove the stack's volumes (Prometheus data)")] = False,
    config: ConfigDir = None,
) -> None:
    """Remove the stack's containers and network (and volumes with --volumes)."""
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.stack import LocalStack

    name = stack or f"mcpstack-{env}"
    try:
        client = docker_client()
    except DockerUnavailable as exc:
        raise _fail(str(exc)) from None
    catalog = _load(_config_dir(config), env)
    removed = LocalStack(catalog, name=name, client=client, log=_info).down(volumes=volumes)
    console.print(f"removed {len(removed)} object(s) of {name}" if removed else f"nothing of {name} was running")


@app.command()
def status(stack: StackOption = None, config: ConfigDir = None) -> None:
    """Show the services of running stacks, their health and URLs."""
    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.stack import LocalStack, StackError, running_stacks

    config = _config_dir(config)
    try:
        names = [stack] if stack else sorted(running_stacks())
        if not names:
            console.print("no mcpstack stack is running")
            return
        for name in names:
            _print_status(name, LocalStack.attach(name, config_dir=config, log=_info).status())
    except (DockerUnavailable, StackError) as exc:
        raise _fail(str(exc)) from None


@app.command()
def smoke(
    env: EnvOption = "dev",
    stack: StackOption = None,
    config: ConfigDir = None,
) -> None:
    """Run the e2e smoke suite against a running local stack and print the results."""
    name = stack or f"mcpstack-{env}"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO_ROOT / "e2e"),
        "-m",
        "smoke",
        "--stack",
        name,
        "-p",
        "e2e.results_table",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
    ]
    environ = {**os.environ, "MCPSTACK_CONFIG": str(_config_dir(config))}  # the suite reads the same catalog
    raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False).returncode)


dashboards_app = typer.Typer(help="The catalog's Grafana dashboards.", no_args_is_help=True)
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command("snapshot")
def dashboards_snapshot(
    env: EnvOption = "dev",
    stack: StackOption = None,
    prometheus: Annotated[str | None, typer.Option(help="Prometheus URL (default: the local stack's)")] = None,
    dashboard: Annotated[str, typer.Option(help="dashboard file under config/dashboards, without .json")] = "overview",
    minutes: Annotated[float, typer.Option(help="period to draw, ending now")] = 30,
    out: Annotated[Path, typer.Option(help="directory for the PNG files")] = REPO_ROOT / "reports" / "snapshots",
    config: ConfigDir = None,
) -> None:
    """Draw a dashboard's panels from the live Prometheus as PNG charts (no Grafana needed)."""
    import json

    from mcpstack.local.stack import LocalStack, StackError
    from mcpstack.observability.snapshot import SnapshotError, snapshot

    config = _config_dir(config)
    path = config / "dashboards" / f"{dashboard}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (config / "dashboards").glob("*.json")))
        raise _fail(f"no dashboard {dashboard!r} (known: {known})", EXIT_INVALID)
    if prometheus is None:
        try:
            prometheus = LocalStack.attach(stack or f"mcpstack-{env}", log=_info).url("prometheus")
        except StackError as exc:
            raise _fail(f"{exc}; give --prometheus URL for another stack") from None
    try:
        files = snapshot(prometheus, json.loads(path.read_text()), out, minutes)
    except SnapshotError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{len(files)} charts in {out} (all panels: {files[0]})")


@app.command()
def e2e(
    target: Annotated[Path, typer.Option(help="YAML file describing a deployed stack (see e2e/target.py)")],
    select: Annotated[str, typer.Option("-m", help="pytest marker expression")] = "smoke or chat",
    config: ConfigDir = None,
) -> None:
    """Run the e2e suites that need no local containers against a deployed stack (e.g. after `pulumi up`)."""
    if not target.is_file():
        raise _fail(f"--target {target}: no such file", EXIT_INVALID)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO_ROOT / "e2e"),
        "-m",
        f"({select}) and not docker",
        "--target",
        str(target.resolve()),
        "-p",
        "e2e.results_table",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
    ]
    environ = {**os.environ, "MCPSTACK_CONFIG": str(_config_dir(config))}  # the suite reads the same catalog
    raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False).returncode)


StackArgument = Annotated[str, typer.Argument(help="Pulumi stack: dev or prod (stacks/Pulumi.STACK.yaml)")]


def _render_stack(stack: str, config: Path):
    """The Pulumi program of stacks/ under Pulumi's mocks (no CLI, no cluster)."""
    import pulumi

    from infra.render import RenderError, render_stack

    try:
        return render_stack(stack, overrides={"configDir": str(config.resolve())})
    except (RenderError, ValueError, pulumi.RunError) as exc:  # unknown stack, bad settings, invalid catalog
        raise _fail(str(exc), EXIT_INVALID) from None


@app.command()
def render(
    stack: StackArgument,
    out: Annotated[Path, typer.Option("--out", help="directory for manifests/, helm/ and index.yaml")],
    config: ConfigDir = None,
) -> None:
    """Write every Kubernetes object the Pulumi stack would create (Helm releases: chart and values), offline."""
    from infra.render import kinds, write

    rendered = _render_stack(stack, _config_dir(config))
    write(rendered, out)
    table = Table(
        "kind", "count", title=f"stack {stack} ({rendered.settings.deployment}, catalog {rendered.catalog.environment})"
    )
    for kind, count in kinds(rendered):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(f"{len(rendered.objects())} objects, {len(rendered.releases())} Helm releases -> {out}")


@app.command()
def policy(stack: StackArgument, config: ConfigDir = None) -> None:
    """Check what the Pulumi stack would create: Kubernetes schema, hardening, production invariants; exit 1 on any."""
    from mcpstack.policy import RULES, check

    rendered = _render_stack(stack, _config_dir(config))
    violations = check(rendered)
    for violation in violations:
        errors.print(str(violation), markup=False, highlight=False)
    checked = f"{len(rendered.objects())} objects, {len(rendered.releases())} Helm releases, {len(RULES)} rules"
    if violations:
        errors.print(f"[red]{len(violations)} violation(s)[/red] ({checked})")
        raise typer.Exit(1)
    console.print(f"[green]ok[/green] {stack}: {checked}")


bench_app = typer.Typer(help="Benchmarks that write reports.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("gateway")
def bench_gateway(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "gateway-benchmark",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 8.0,
    rounds: Annotated[int, typer.Option(help="interleaved rounds (medians are reported)")] = 2,
) -> None:
    """Stock mcpo vs the gateway vs direct MCP calls, at 1 and 100 connections (needs wrk)."""
    from mcpstack.capacity.bench.gateway_overhead import markdown, run_benchmark

    result = run_benchmark(report, seconds=seconds, rounds=rounds, log=_info)
    console.print(markdown(result))
    console.print(f"report: {report / 'report.json'}, {report / 'report.md'}")


@bench_app.command("loadgen")
def bench_loadgen(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "loadtest-harness",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 15.0,
) -> None:
    """The load generator's ceiling: req/s one locust process drives against a trivial local endpoint."""
    from mcpstack.capacity.ceiling import measure_ceiling
    from mcpstack.capacity.locust_run import LoadTestError

    try:
        result = measure_ceiling(report, seconds=seconds, log=_info)
    except LoadTestError as exc:
        raise _fail(str(exc)) from None
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


LOADTEST_SCENARIOS = ("slo", "rate-limit", "stress")


@app.command()
def loadtest(
    target: Annotated[
        str | None, typer.Option(help="gateway URL of a deployed stack; its key from --key-env (default: local stack)")
    ] = None,
    stack: StackOption = None,
    env: EnvOption = "dev",
    scenario: Annotated[str, typer.Option(help="slo, rate-limit or stress (knee finding)")] = "slo",
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
    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.stack import LocalStack, StackError

    if scenario not in LOADTEST_SCENARIOS:
        raise _fail(f"--scenario must be one of {', '.join(LOADTEST_SCENARIOS)}, not {scenario!r}", EXIT_INVALID)
    if target and stack:
        raise _fail("give --target or --stack, not both", EXIT_INVALID)
    try:
        duration_seconds = seconds(duration) if duration else None
        think_seconds = think_range(think) if think else None
    except ValueError as exc:
        raise _fail(str(exc), EXIT_INVALID) from None
    report_dir = report or REPO_ROOT / "reports" / "loadtest" / scenario
    # The table is the point: in a log (CI, make up) it is not wrapped into an 80-column terminal's width.
    wide = console if console.is_terminal else Console(width=max(console.width, 170))
    try:
        if scenario == "stress" and not (target or stack):
            _info("stress: starting a stack with the rate limits lifted (docs/capacity.md#finding-the-knee)")
            _finish_stress(knee_on_fresh_stack(report_dir, log=_info), report_dir, wide)
            return
        if target:
            chosen = remote_target(target, _load(_config_dir(config), env), key_env)
        else:
            chosen = local_target(
                LocalStack.attach(stack or f"mcpstack-{env}", config_dir=_config_dir(config), log=_info)
            )
        preflight(chosen)
        if scenario == "stress":
            _finish_stress(run_knee(chosen, report_dir, log=_info), report_dir, wide)
            return
        result = gate(
            chosen,
            report_dir,
            scenario=scenario,
            users=users,
            duration=duration_seconds,
            spawn_rate=spawn_rate,
            think=think_seconds,
            log=_info,
        )
    except (DockerUnavailable, StackError, LoadTestError) as exc:
        raise _fail(str(exc)) from None
    print_summary(result, wide)
    files = result.files
    wide.print(
        f"report: {report_dir / files['report']}, {report_dir / files['locust_html']}; plots: "
        f"{report_dir / files['timeline']}, {report_dir / files['histograms']}",
        highlight=False,
    )
    if not result.passed:
        raise typer.Exit(1)


def _finish_stress(result: KneeReport, report_dir: Path, wide: Console) -> None:
    """Print the knee; exit 1 when not even the first step was within the objectives (there is no knee)."""
    from mcpstack.capacity.tables import print_knee

    print_knee(result, wide)
    wide.print(f"report: {report_dir / 'report.json'}; plot: {report_dir / 'knee.png'}", highlight=False)
    if result.knee.users is None:
        raise typer.Exit(1)


def _print_status(name: str, statuses: list) -> None:
    table = Table("service", "state", "health", "URL", "image", title=f"stack {name}")
    for item in statuses:
        colour = "green" if item.health in ("healthy", "running") else "red"
        table.add_row(
            item.service, item.state, f"[{colour}]{item.health}[/{colour}]", " ".join(item.urls.values()), item.image
        )
    console.print(table)


def _base_mode(value: str):
    if value not in ("auto", "registry", "offline"):
        raise _fail(f"--base must be auto, registry or offline, not {value!r}", EXIT_INVALID)
    return value


def _info(message: str) -> None:
    errors.print(f"[dim]{message}[/dim]", highlight=False)


def main() -> None:
    app()
