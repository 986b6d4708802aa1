"""Which catalog directory a command reads: the one it was given, else the current folder's, else the checkout's.

Precedence: `--config DIR` > `MCPSTACK_CONFIG` > `./config` (when it holds catalog.yaml) > the `config/` of the
mcpstack checkout that is installed. So `mcpstack validate` run inside another copy of the repository checks
that copy's catalog, and every command says which one it read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog.loader import CATALOG_FILE

ENV_VAR = "MCPSTACK_CONFIG"


@dataclass(frozen=True)
class ConfigChoice:
    """A catalog directory and why it was chosen."""

    path: Path
    source: str  # "--config", "MCPSTACK_CONFIG", "./config" or "the mcpstack checkout"

    def __str__(self) -> str:
        return f"catalog: {self.path} (from {self.source})"


def find_config_dir(
    explicit: Path | None = None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ConfigChoice:
    """The catalog directory to read (an absolute path), by the precedence above."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    if explicit is not None:
        return ConfigChoice((cwd / explicit).resolve(), "--config")
    if environ.get(ENV_VAR):
        return ConfigChoice((cwd / environ[ENV_VAR]).resolve(), ENV_VAR)
    if (cwd / "config" / CATALOG_FILE).is_file():
        return ConfigChoice((cwd / "config").resolve(), "./config")
    return ConfigChoice(DEFAULT_CONFIG_DIR.resolve(), "the mcpstack checkout")
