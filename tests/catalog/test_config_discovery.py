"""Which catalog a command reads: --config, else MCPSTACK_CONFIG, else the current folder's config/, else the
checkout's; and every command says which one it read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog.discovery import ENV_VAR, ConfigChoice, find_config_dir
from mcpstack.cli import app
from tests.conftest import EditConfig

runner = CliRunner()
BROKEN = ('tag: "2.42.0"', "tag: latest")  # services.prometheus.image.tag: not pinned


def catalog_dir(parent: Path) -> Path:
    shutil.copytree(DEFAULT_CONFIG_DIR, parent / "config")
    return parent / "config"


def test_precedence_is_option_then_variable_then_current_folder_then_checkout(tmp_path: Path) -> None:
    here = catalog_dir(tmp_path).resolve()
    env = {ENV_VAR: "/srv/catalog"}
    assert find_config_dir(Path("mine"), env, tmp_path) == ConfigChoice(here.parent / "mine", "--config")
    assert find_config_dir(None, env, tmp_path) == ConfigChoice(Path("/srv/catalog"), ENV_VAR)
    assert find_config_dir(None, {ENV_VAR: ""}, tmp_path) == ConfigChoice(here, "./config")
    assert str(find_config_dir(None, {}, tmp_path)) == f"catalog: {here} (from ./config)"


def test_a_config_folder_without_a_catalog_is_not_a_catalog(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    choice = find_config_dir(None, {}, tmp_path)
    assert choice.path == DEFAULT_CONFIG_DIR.resolve()
    assert choice.source == "the mcpstack checkout"


def test_validate_inside_another_copy_checks_that_copys_catalog(
    edit_config: EditConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = edit_config(*BROKEN)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(config.parent)
    result = runner.invoke(app, ["validate", "dev"])
    assert result.exit_code == 2, result.output
    assert f"catalog: {config} (from ./config)" in result.stderr
    assert any(
        line.startswith("dev: config/catalog.yaml:") and "services.prometheus.image.tag" in line
        for line in result.stderr.splitlines()
    ), result.stderr


def test_the_variable_is_honoured_and_the_option_wins_over_it(
    edit_config: EditConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = edit_config(*BROKEN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no config/ here
    monkeypatch.setenv(ENV_VAR, str(broken))
    result = runner.invoke(app, ["validate", "dev"])
    assert result.exit_code == 2
    assert f"catalog: {broken} (from {ENV_VAR})" in result.stderr
    result = runner.invoke(app, ["validate", "dev", "--config", str(DEFAULT_CONFIG_DIR)])
    assert result.exit_code == 0, result.output
    assert f"catalog: {DEFAULT_CONFIG_DIR.resolve()} (from --config)" in result.stderr


def test_without_a_config_folder_the_checkouts_catalog_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert f"catalog: {DEFAULT_CONFIG_DIR.resolve()} (from the mcpstack checkout)" in result.stderr


def test_generate_reads_and_names_the_current_folders_catalog(
    edit_config: EditConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = edit_config("      timeout_seconds: 30\n", "      timeout_seconds: 7\n")
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(config.parent)
    result = runner.invoke(app, ["generate", "gateway-config"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gateway"]["timeout_seconds"] == 7
    assert result.stderr.splitlines() == [f"catalog: {config} (from ./config)"]
