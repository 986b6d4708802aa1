"""The commands that run the e2e suites: `smoke` against a local stack, `e2e` against a deployed one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from mcpstack import REPO_ROOT
from mcpstack.cli.options import ConfigDir, EnvOption, OutputOption, StackOption, config_dir, wants_json
from mcpstack.cli.output import EXIT_INVALID, fail, print_json


def smoke(
    env: EnvOption = "dev",
    stack: StackOption = None,
    output: OutputOption = "text",
    config: ConfigDir = None,
) -> None:
    """Run the e2e smoke suite against a running local stack and print the results."""
    as_json = wants_json(output)
    name = stack or f"mcpstack-{env}"
    command, environ = _e2e_command(config, "-m", "smoke", "--stack", name)
    if not as_json:
        raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False).returncode)
    with tempfile.TemporaryDirectory(prefix="mcpstack-smoke-") as work:
        results = Path(work) / "results.json"
        environ["MCPSTACK_RESULTS_JSON"] = str(results)  # e2e/results_table.py writes it; pytest talks on stderr
        code = subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False, stdout=sys.stderr).returncode
        checks = json.loads(results.read_text()) if results.is_file() else []
    print_json({"stack": name, "passed": code == 0, "exit_code": code, "checks": checks})
    raise typer.Exit(code)


def e2e(
    target: Annotated[Path, typer.Option(help="YAML file describing a deployed stack (see e2e/target.py)")],
    select: Annotated[str, typer.Option("-m", help="pytest marker expression")] = "smoke or chat",
    config: ConfigDir = None,
) -> None:
    """Run the e2e suites that need no local containers against a deployed stack (e.g. after `pulumi up`)."""
    if not target.is_file():
        raise fail(f"--target {target}: no such file", EXIT_INVALID)
    command, environ = _e2e_command(config, "-m", f"({select}) and not docker", "--target", str(target.resolve()))
    raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False).returncode)


def _e2e_command(config: Path | None, *selection: str) -> tuple[list[str], dict[str, str]]:
    """pytest over e2e/ with `selection`, the results table plugin, and the catalog the command reads."""
    command = [sys.executable, "-m", "pytest", str(REPO_ROOT / "e2e"), *selection, "-p", "e2e.results_table"]
    command += ["-q", "--no-header", "-p", "no:cacheprovider"]
    environ = {**os.environ, "MCPSTACK_CONFIG": str(config_dir(config))}  # the suite reads the same catalog
    return command, environ
