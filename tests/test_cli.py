"""The command line: exit codes and messages users and CI rely on."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from mcpstack.cli import app
from mcpstack.generate import GENERATORS
from tests.conftest import EditConfig

runner = CliRunner()


def test_validate_passes_on_the_real_catalog() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "ok dev" in result.stdout
    assert "ok prod" in result.stdout


def test_validate_exits_2_with_one_line_per_problem(edit_config: EditConfig) -> None:
    edit_config("      - {name: http, port: 8001}", "      - {name: http, port: eighty}")
    config = edit_config('tag: "2.42.0"', "tag: latest")
    result = runner.invoke(app, ["validate", "dev", "--config", str(config)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "catalog.yaml:" in line]
    assert len(lines) == 2
    assert any("services.sandbox.ports[0].port" in line for line in lines)
    assert any("services.prometheus.image.tag" in line for line in lines)
    assert "2 problem(s)" in result.stderr


def test_validate_unknown_environment_exits_2(config_copy) -> None:
    result = runner.invoke(app, ["validate", "staging", "--config", str(config_copy)])
    assert result.exit_code == 2
    assert "unknown environment 'staging'" in result.stderr


def test_generate_prints_the_mounted_file() -> None:
    result = runner.invoke(app, ["generate", "gateway-config"])
    assert result.exit_code == 0
    assert "time" in json.loads(result.stdout)["mcpServers"]


def test_generate_never_prints_secret_values(edit_config: EditConfig, monkeypatch) -> None:
    config = edit_config(
        "        time: {service: time, transport: streamable-http}",
        "        time: {service: time, transport: streamable-http, headers: {X-Key: gateway-key-e2e}}",
    )
    monkeypatch.setenv("MCPSTACK_SECRET_GATEWAY_KEY_E2E", "super-secret-value-123")
    result = runner.invoke(app, ["generate", "gateway-config", "--config", str(config)])
    assert result.exit_code == 0
    assert "super-secret-value-123" not in result.stdout
    assert json.loads(result.stdout)["mcpServers"]["time"]["headers"] == {"X-Key": "<secret:gateway-key-e2e>"}


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_every_generate_target_works_in_every_environment(generator: str, env: str) -> None:
    """What README and --help list must work: files a service mounts and values it takes as environment."""
    result = runner.invoke(app, ["generate", generator, "--env", env])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip(), f"{generator} ({env}) printed nothing"
    if generator in ("gateway-config", "tool-server-connections"):
        json.loads(result.stdout)
    else:
        assert isinstance(yaml.safe_load(result.stdout), dict)


def test_generate_unknown_generator_exits_2() -> None:
    result = runner.invoke(app, ["generate", "grafana-dashboards"])
    assert result.exit_code == 2
    assert "unknown generator" in result.stderr
