"""The `mcpstack` command line: the app, its --version, and every command in the order --help lists them.

One module per command group (catalog, stack, verify, deploy, loadtest; the images, docs, dashboards and bench
sub-commands); options.py and output.py hold what they share. A command imports the layers it needs when it
runs: `mcpstack --help` and `mcpstack validate` load neither Pulumi nor locust.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mcpstack import __version__
from mcpstack.cli import bench, catalog, deploy, images, loadtest, stack, verify
from mcpstack.cli.output import WIDE, console

app = typer.Typer(
    help="Deploy, verify and capacity-test an Open WebUI + MCP tools platform from one catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
COMMANDS = (
    catalog.validate,
    catalog.generate,
    stack.up,
    stack.down,
    stack.compose,
    stack.logs,
    stack.status,
    verify.smoke,
    stack.backup,
    stack.restore,
    verify.e2e,
    deploy.render,
    deploy.preflight,
    deploy.policy,
    loadtest.loadtest,
)
for command in COMMANDS:
    app.command()(command)
app.add_typer(images.images_app, name="images")
app.add_typer(catalog.docs_app, name="docs")
app.add_typer(catalog.dashboards_app, name="dashboards")
app.add_typer(bench.bench_app, name="bench")


def _version(value: bool) -> None:
    if value:
        console.print(f"mcpstack {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print mcpstack's version and exit")
    ] = False,
) -> None:
    if not console.is_terminal:
        console.width = WIDE  # rich would wrap and cut at 80 columns


def main() -> None:
    """The `mcpstack` entry point (pyproject.toml [project.scripts])."""
    app()
