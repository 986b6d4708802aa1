"""The local stack's commands: start and remove it, write it as Compose, its logs and status, its data."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mcpstack.catalog import Catalog
from mcpstack.cli.options import (
    BaseOption,
    ConfigDir,
    EnvOption,
    OutputOption,
    RealOption,
    StackOption,
    base_mode,
    config_dir,
    local_catalog,
    read_catalog,
    wants_json,
)
from mcpstack.cli.output import console, errors, fail, info, print_json
from mcpstack.local.compose import write_compose
from mcpstack.local.docker_engine import DockerUnavailable, docker_client
from mcpstack.local.logs import NoSuchService, show_logs, stack_containers
from mcpstack.local.stack import LocalStack, StackError


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
    from mcpstack.local.grafana import ImageUnavailable, ensure_registry_images
    from mcpstack.local.images import ImageBuildError

    catalog = read_catalog(config_dir(config), env)
    try:
        view = local_catalog(catalog, real)  # reject an unknown --real before anything starts
        # a --real service whose image is not built here (Grafana): on the engine, or pulled, or a clear refusal
        for pulled in ensure_registry_images(docker_client(), view, [n for n in real or () if n in view.services]):
            info(f"pulled {pulled}")
        local = LocalStack(catalog, name=stack, log=info, real=real or (), long_lived=True)
        for original, stand_in in local.substitutions.items():
            info(f"{original} runs as {stand_in} here (local.substitutes; --real {original} for the real one)")
        statuses = local.up(build=build, base=base_mode(base), timeout=timeout)
    except (DockerUnavailable, ImageBuildError, StackError, ImageUnavailable) as exc:
        raise fail(str(exc)) from None
    _print_status(local.name, statuses)


def down(
    env: EnvOption = "dev",
    stack: StackOption = None,
    volumes: Annotated[
        bool, typer.Option(help="also delete the stack's volumes (Open WebUI's chats, Prometheus' data): listed, asked")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="delete the volumes without asking")] = False,
    config: ConfigDir = None,
) -> None:
    """Remove the stack's containers and network (and, with --volumes, its data: listed first, then asked)."""
    name = stack or f"mcpstack-{env}"
    try:
        client = docker_client()
    except DockerUnavailable as exc:
        raise fail(str(exc)) from None
    catalog = read_catalog(config_dir(config), env)
    if volumes:
        _confirm_volumes(client, name, catalog, yes)
    removed = LocalStack(catalog, name=name, client=client, log=info).down(volumes=volumes)
    console.print(f"removed {len(removed)} object(s) of {name}" if removed else f"nothing of {name} was running")


def compose(
    env: EnvOption = "dev",
    stack: StackOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="the Compose file to write")] = Path("compose.yaml"),
    real: RealOption = None,
    config: ConfigDir = None,
) -> None:
    """Write the stack `up` starts as a Compose file, to run with `docker compose -f compose.yaml up -d`."""
    catalog = read_catalog(config_dir(config), env)
    local_catalog(catalog, real)  # reject an unknown --real
    local = LocalStack(catalog, name=stack, log=info, real=real or (), long_lived=True)
    console.print(f"wrote {write_compose(local, out)} (stack {local.name}; secrets stay in {local.state_dir})")


def logs(
    service: Annotated[str | None, typer.Argument(help="one service (default: every service, prefixed)")] = None,
    env: EnvOption = "dev",
    stack: StackOption = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    tail: Annotated[int | None, typer.Option("--tail", help="only the last N lines of each service")] = None,
) -> None:
    """Show the logs of the stack's services, like `docker compose logs`."""
    try:
        containers = stack_containers(docker_client(), stack or f"mcpstack-{env}", service)
        show_logs(containers, lambda line: print(line, flush=True), follow=follow, tail=tail)
    except (DockerUnavailable, NoSuchService) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        pass


def status(stack: StackOption = None, output: OutputOption = "text", config: ConfigDir = None) -> None:
    """Show the services of running stacks, their health and URLs."""
    from mcpstack.local.stack import running_stacks

    config = config_dir(config)
    try:
        as_json = wants_json(output)
        names = [stack] if stack else sorted(running_stacks())
        if not names and not as_json:
            console.print("no mcpstack stack is running")
            return
        stacks = {name: LocalStack.attach(name, config_dir=config, log=info).status() for name in names}
        if as_json:
            print_json({"stacks": {n: [dataclasses.asdict(item) for item in items] for n, items in stacks.items()}})
            return
        for name, items in stacks.items():
            _print_status(name, items)
    except (DockerUnavailable, StackError) as exc:
        raise fail(str(exc)) from None


def backup(
    env: EnvOption = "dev",
    stack: StackOption = None,
    out: Annotated[Path | None, typer.Option(help="archive to write (default: open-webui-STACK-TIME.tar.gz)")] = None,
    config: ConfigDir = None,
) -> None:
    """Copy Open WebUI's data (users, chats, settings; SQLite, copied consistently) of a local stack to a file."""
    from mcpstack.local.backup import BackupError, WebUIData
    from mcpstack.local.backup import backup as write_backup

    name = stack or f"mcpstack-{env}"
    catalog = read_catalog(config_dir(config), env)
    target = out or Path(f"open-webui-{name}-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
    try:
        written = write_backup(docker_client(), WebUIData.of(catalog, name), target)
    except (DockerUnavailable, BackupError) as exc:
        raise fail(str(exc)) from None
    console.print(f"backed up Open WebUI's data of {name} to {written} ({written.stat().st_size} bytes)")


def restore(
    archive: Annotated[Path, typer.Argument(help="a file `mcpstack backup` wrote")],
    env: EnvOption = "dev",
    stack: StackOption = None,
    config: ConfigDir = None,
) -> None:
    """Replace Open WebUI's data of a local stack with a backup (Open WebUI is stopped meanwhile)."""
    from mcpstack.local.backup import BackupError, WebUIData
    from mcpstack.local.backup import restore as read_backup

    name = stack or f"mcpstack-{env}"
    catalog = read_catalog(config_dir(config), env)
    try:
        restarted = read_backup(docker_client(), WebUIData.of(catalog, name), archive)
    except (DockerUnavailable, BackupError) as exc:
        raise fail(str(exc)) from None
    after = "Open WebUI restarted" if restarted else "Open WebUI was not running: `mcpstack up` starts it"
    console.print(f"restored Open WebUI's data of {name} from {archive}; {after}")


def _confirm_volumes(client, stack: str, catalog: Catalog, yes: bool) -> None:
    """List the volumes `down --volumes` deletes; go on only with --yes or a yes at the terminal."""
    from mcpstack.local.volumes import stack_volumes

    doomed = stack_volumes(client, stack, catalog)
    if not doomed:
        return
    errors.print(f"--volumes deletes {len(doomed)} volume(s) of {stack}:", highlight=False)
    for volume in doomed:
        errors.print(f"  {volume.name}  ({volume.holds})", markup=False, highlight=False)
    if yes:
        return
    if not sys.stdin.isatty():
        raise fail("not deleting without confirmation: give --yes (nothing was removed)")
    if not typer.confirm("Delete them?", default=False, err=True):
        raise fail("nothing was removed")


def _print_status(name: str, statuses: list) -> None:
    """One stack's services as a table: state, health, URLs and image, folded rather than cut."""
    table = Table("service", "state", "health", title=f"stack {name}")
    table.add_column("URL", overflow="fold")  # folded, never cut, when wider than the terminal
    table.add_column("image", overflow="fold")
    for item in statuses:
        colour = "green" if item.health in ("healthy", "running") else "red"
        table.add_row(
            item.service, item.state, f"[{colour}]{item.health}[/{colour}]", " ".join(item.urls.values()), item.image
        )
    console.print(table)
