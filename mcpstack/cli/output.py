"""Where the command line writes: tables and results on stdout, progress and problems on stderr."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one problem per line, never wrapped
WIDE = 250  # columns when stdout is a pipe or a log: tables keep whole URLs and image names
EXIT_INVALID = 2  # a bad option value or an invalid catalog


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as an error; the exit to raise."""
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def info(message: str) -> None:
    """A progress line on stderr."""
    errors.print(f"[dim]{message}[/dim]", highlight=False)


def print_json(document: object) -> None:
    """`document` as the one JSON document of --output json, on stdout."""
    from mcpstack.capacity.report import plain

    sys.stdout.write(json.dumps(plain(document), indent=1, allow_nan=False, default=str) + "\n")
