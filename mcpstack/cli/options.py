"""The options several commands share, and the checks that turn their values into what a command uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpstack.catalog import Catalog, CatalogError, load_catalog
from mcpstack.catalog.discovery import find_config_dir
from mcpstack.cli.output import EXIT_INVALID, errors, fail

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
OutputOption = Annotated[str, typer.Option("--output", help="text (tables) or json (one JSON document on stdout)")]


def wants_json(value: str) -> bool:
    """True for --output json."""
    if value not in ("text", "json"):
        raise fail(f"--output must be text or json, not {value!r}", EXIT_INVALID)
    return value == "json"


def base_mode(value: str):
    """The checked --base value."""
    if value not in ("auto", "registry", "offline"):
        raise fail(f"--base must be auto, registry or offline, not {value!r}", EXIT_INVALID)
    return value


def config_dir(option: Path | None) -> Path:
    """The catalog directory this command reads (catalog/discovery.py), announced on stderr."""
    choice = find_config_dir(option)
    errors.print(str(choice), style="dim", markup=False, highlight=False)
    return choice.path


def read_catalog(config: Path, env: str) -> Catalog:
    """The catalog of `env`; exit 2 listing every problem when it is invalid."""
    try:
        return load_catalog(config, env)
    except CatalogError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False)
        errors.print(f"[red]{len(exc.problems)} problem(s) in the catalog[/red]")
        raise typer.Exit(EXIT_INVALID) from None


def local_catalog(catalog: Catalog, real: list[str] | None) -> Catalog:
    """The catalog as the local stack runs it (stand-ins, except for the --real services)."""
    from mcpstack.local.view import UnknownService, local_view

    try:
        return local_view(catalog, real or ())
    except UnknownService as exc:
        raise fail(str(exc), EXIT_INVALID) from None
