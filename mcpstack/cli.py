"""The `mcpstack` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.catalog import Catalog, CatalogError, environments, load_catalog
from mcpstack.generate import GENERATORS, redacted

app = typer.Typer(
    help="Deploy, verify and capacity-test an Open WebUI + MCP tools platform from one catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
images_app = typer.Typer(help="Build the catalog's container images.", no_args_is_help=True)
app.add_typer(images_app, name="images")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one problem per line, never wrapped

ConfigDir = Annotated[Path, typer.Option("--config", help="catalog directory", envvar="MCPSTACK_CONFIG")]
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
    config: ConfigDir = DEFAULT_CONFIG_DIR,
) -> None:
    """Check the catalog and its environment overlays; exit 2 listing every problem."""
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
    config: ConfigDir = DEFAULT_CONFIG_DIR,
) -> None:
    """Print a config file generated from the catalog (secret values shown as <secret:NAME>)."""
    catalog = _load(config, env)
    if generator not in GENERATORS:
        raise _fail(f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})", EXIT_INVALID)
    users = [n for n, s in catalog.services.items() if any(f.generator == generator for f in s.files)]
    if not users:
        raise _fail(f"no service in {env} mounts {generator!r}")
    sys.stdout.write(GENERATORS[generator].render(catalog, users[0], redacted))


@images_app.command("build")
def images_build(
    env: EnvOption = "dev",
    base: BaseOption = "auto",
    force: Annotated[bool, typer.Option(help="rebuild even when the inputs are unchanged")] = False,
    service: Annotated[list[str] | None, typer.Option(help="only the images of these services")] = None,
    every: Annotated[bool, typer.Option("--all", help="every buildable image, not only what `up` runs")] = False,
    real: RealOption = None,
    config: ConfigDir = DEFAULT_CONFIG_DIR,
) -> None:
    """Build the images the local stack runs (skips images whose inputs are unchanged)."""
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.images import ImageBuilder, ImageBuildError

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
    config: ConfigDir = DEFAULT_CONFIG_DIR,
) -> None:
    """Start the stack on the local Docker engine and wait until every service is healthy."""
    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.images import ImageBuildError
    from mcpstack.local.stack import LocalStack, StackError

    catalog = _load(config, env)
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
) -> None:
    """Remove the stack's containers and network (and volumes with --volumes)."""
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.stack import LocalStack

    name = stack or f"mcpstack-{env}"
    try:
        client = docker_client()
    except DockerUnavailable as exc:
        raise _fail(str(exc)) from None
    catalog = _load(DEFAULT_CONFIG_DIR, env)
    removed = LocalStack(catalog, name=name, client=client, log=_info).down(volumes=volumes)
    console.print(f"removed {len(removed)} object(s) of {name}" if removed else f"nothing of {name} was running")


@app.command()
def status(stack: StackOption = None) -> None:
    """Show the services of running stacks, their health and URLs."""
    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.stack import LocalStack, StackError, running_stacks

    try:
        names = [stack] if stack else sorted(running_stacks())
        if not names:
            console.print("no mcpstack stack is running")
            return
        for name in names:
            _print_status(name, LocalStack.attach(name, log=_info).status())
    except (DockerUnavailable, StackError) as exc:
        raise _fail(str(exc)) from None


@app.command()
def smoke(
    env: EnvOption = "dev",
    stack: StackOption = None,
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
        "e2e.report",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
    ]
    raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=os.environ.copy(), check=False).returncode)


bench_app = typer.Typer(help="Benchmarks that write reports.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("gateway")
def bench_gateway(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "gateway-benchmark",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 8.0,
    rounds: Annotated[int, typer.Option(help="interleaved rounds (medians are reported)")] = 2,
) -> None:
    """Stock mcpo vs the gateway vs direct MCP calls, at 1 and 100 connections (needs wrk)."""
    from benchmarks.gateway import markdown, run_benchmark

    result = run_benchmark(report, seconds=seconds, rounds=rounds, log=_info)
    console.print(markdown(result))
    console.print(f"report: {report / 'report.json'}, {report / 'report.md'}")


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
