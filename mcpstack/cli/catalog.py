"""The catalog's commands: validate it, print what is generated from it, its references and its dashboards."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mcpstack import REPO_ROOT
from mcpstack.catalog import CatalogError, environments, load_catalog
from mcpstack.cli.options import ConfigDir, EnvOption, OutputOption, StackOption, config_dir, read_catalog, wants_json
from mcpstack.cli.output import EXIT_INVALID, console, errors, fail, info, print_json
from mcpstack.generate import GENERATORS, redacted

docs_app = typer.Typer(help="References generated from the catalog's models.", no_args_is_help=True)
dashboards_app = typer.Typer(help="The catalog's Grafana dashboards.", no_args_is_help=True)


def validate(
    env: Annotated[str | None, typer.Argument(help="environment to check (default: every environment)")] = None,
    output: OutputOption = "text",
    config: ConfigDir = None,
) -> None:
    """Check the catalog and its environment overlays; exit 2 listing every problem, each labelled with the
    environments it occurs in (a problem every environment shares is listed once)."""
    from mcpstack.catalog.by_environment import label_problems

    as_json = wants_json(output)
    config = config_dir(config)
    names = tuple([env] if env else environments(config))
    if not names:
        raise fail(f"no environments in {config / 'environments'}", EXIT_INVALID)
    found: dict[str, list] = {}
    services: dict[str, list[str]] = {}
    for name in names:
        try:
            services[name] = list(load_catalog(config, name).services)
            found[name] = []
        except CatalogError as exc:
            found[name] = exc.problems
    labelled = label_problems(found)
    if as_json:
        print_json(
            {
                "catalog": str(config),
                "environments": {n: {"ok": not found[n], "services": services.get(n, [])} for n in names},
                "problems": [p.to_json() for p in labelled],
            }
        )
    else:
        for item in labelled:
            errors.print(f"{item.label(names)}: {item.problem}", markup=False, highlight=False)
        for name in (n for n in names if n in services):
            console.print(f"[green]ok[/green] {name}: {len(services[name])} services ({', '.join(services[name])})")
    if labelled:
        errors.print(f"[red]{len(labelled)} problem(s) in the catalog[/red]")
        raise typer.Exit(EXIT_INVALID)


def generate(
    generator: Annotated[str, typer.Argument(help=f"one of: {', '.join(GENERATORS)}")],
    env: EnvOption = "dev",
    config: ConfigDir = None,
) -> None:
    """Print a config file generated from the catalog (secret values shown as <secret:NAME>)."""
    catalog = read_catalog(config_dir(config), env)
    if generator not in GENERATORS:
        raise fail(f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})", EXIT_INVALID)
    users = [
        name
        for name, service in catalog.services.items()
        if any(f.generator == generator for f in service.files) or generator in service.generated_env.values()
    ]
    if not users:
        raise fail(f"no service in {env} mounts {generator!r} or takes it as environment")
    sys.stdout.write(GENERATORS[generator].render(catalog, users[0], redacted))


@docs_app.command("catalog")
def docs_catalog(config: ConfigDir = None) -> None:
    """Print the catalog reference (docs/catalog-reference.md): every key, type, default, description, example."""
    from mcpstack.catalog.reference import catalog_reference

    sys.stdout.write(catalog_reference(config_dir(config)))


@docs_app.command("schema")
def docs_schema(
    overlay: Annotated[bool, typer.Option(help="the schema of an environment overlay (every key optional)")] = False,
) -> None:
    """Print the catalog's JSON Schema (config/catalog.schema.json; --overlay: config/environment.schema.json)."""
    from mcpstack.catalog.schema import catalog_schema, overlay_schema, schema_text

    sys.stdout.write(schema_text(overlay_schema() if overlay else catalog_schema()))


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
    from mcpstack.local.stack import LocalStack, StackError
    from mcpstack.observability.snapshot import SnapshotError, snapshot

    config = config_dir(config)
    path = config / "dashboards" / f"{dashboard}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (config / "dashboards").glob("*.json")))
        raise fail(f"no dashboard {dashboard!r} (known: {known})", EXIT_INVALID)
    if prometheus is None:
        try:
            prometheus = LocalStack.attach(stack or f"mcpstack-{env}", log=info).url("prometheus")
        except StackError as exc:
            raise fail(f"{exc}; give --prometheus URL for another stack") from None
    try:
        files = snapshot(prometheus, json.loads(path.read_text()), out, minutes)
    except SnapshotError as exc:
        raise fail(str(exc)) from None
    console.print(f"{len(files)} charts in {out} (all panels: {files[0]})")
