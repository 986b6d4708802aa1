"""The command line: exit codes and messages users and CI rely on."""

from __future__ import annotations

import contextlib
import json
import os
from importlib.metadata import version

import docker
import pytest
import yaml
from typer.testing import CliRunner

from mcpstack.cli import app
from mcpstack.generate import GENERATORS
from mcpstack.local import stack as stack_module
from mcpstack.local.containers import LABEL_STACK, volume_name
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
        'Authorization: {secret: mcp-server-token-time, prefix: "Bearer "}',
        "X-Key: gateway-key-e2e",
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


LONG_URL = "http://127.0.0.1:49153/a/very/long/path/that/would/not/fit/in/eighty/columns/of/a/terminal/at/all"
LONG_IMAGE = "registry.example.com/some/deeply/nested/organisation/mcpstack/open-webui:0.12.4-with-a-long-suffix"


@pytest.fixture
def running_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """`status` sees one stack whose service has a long URL and image name (no Docker needed)."""

    class Attached:
        def status(self) -> list[stack_module.ServiceStatus]:
            return [stack_module.ServiceStatus("open-webui", LONG_IMAGE, "running", "healthy", {"http": LONG_URL})]

    monkeypatch.setattr(stack_module, "running_stacks", lambda: {"mcpstack-dev": "dev"})
    monkeypatch.setattr(stack_module.LocalStack, "attach", classmethod(lambda cls, name, **_: Attached()))


@pytest.mark.usefixtures("running_stack")
def test_status_in_a_pipe_shows_whole_urls_and_images() -> None:
    result = runner.invoke(app, ["status"])  # CliRunner's stdout is no terminal, like `mcpstack status | cat`
    assert result.exit_code == 0, result.output
    assert LONG_URL in result.stdout
    assert LONG_IMAGE in result.stdout
    assert "…" not in result.stdout


@pytest.mark.usefixtures("running_stack")
def test_status_output_json_parses_and_has_the_fields() -> None:
    result = runner.invoke(app, ["status", "--output", "json"])
    assert result.exit_code == 0, result.output
    (service,) = json.loads(result.stdout)["stacks"]["mcpstack-dev"]
    assert service == {
        "service": "open-webui",
        "image": LONG_IMAGE,
        "state": "running",
        "health": "healthy",
        "urls": {"http": LONG_URL},
    }


def test_validate_output_json_parses_and_labels_problems(edit_config: EditConfig) -> None:
    config = edit_config('tag: "2.42.0"', "tag: latest")
    result = runner.invoke(app, ["validate", "--output", "json", "--config", str(config)])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["environments"] == {"dev": {"ok": False, "services": []}, "prod": {"ok": False, "services": []}}
    (problem,) = document["problems"]  # catalog.yaml's problem is shared: listed once
    assert problem["environments"] == ["dev", "prod"]
    assert problem["key"] == "services.prometheus.image.tag"
    assert problem["file"].endswith("catalog.yaml") and problem["line"] > 0


def test_validate_output_json_on_the_real_catalog() -> None:
    result = runner.invoke(app, ["validate", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["environments"]["prod"]["ok"] is True


def test_unknown_output_format_exits_2() -> None:
    result = runner.invoke(app, ["validate", "--output", "yaml"])
    assert result.exit_code == 2
    assert "--output must be text or json" in result.stderr


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mcpstack {version('mcpstack')}"


def test_docs_catalog_prints_the_reference() -> None:
    result = runner.invoke(app, ["docs", "catalog"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Catalog reference")


@pytest.mark.docker
def test_down_volumes_lists_them_and_deletes_nothing_without_yes() -> None:
    client = docker.from_env()
    stack = f"mcpstack-clitest-{os.getpid()}"
    names = [volume_name(stack, "open-webui", "data"), volume_name(stack, "prometheus", "data")]
    for name in names:
        client.volumes.create(name, labels={LABEL_STACK: stack})
    try:
        refused = runner.invoke(app, ["down", "--stack", stack, "--volumes"])
        assert refused.exit_code != 0
        assert "give --yes" in refused.stderr
        assert f"{names[0]}  (Open WebUI's users, chats" in refused.stderr
        assert names[1] in refused.stderr
        assert sorted(v.name for v in client.volumes.list(filters={"label": f"{LABEL_STACK}={stack}"})) == names
        agreed = runner.invoke(app, ["down", "--stack", stack, "--volumes", "--yes"])
        assert agreed.exit_code == 0, agreed.output
        assert client.volumes.list(filters={"label": f"{LABEL_STACK}={stack}"}) == []
    finally:
        for name in names:
            with contextlib.suppress(docker.errors.NotFound):
                client.volumes.get(name).remove(force=True)


@pytest.mark.docker
def test_real_grafana_without_its_image_names_the_image_and_the_registry(edit_config: EditConfig) -> None:
    config = edit_config('tag: "13.2.0"', 'tag: "0.0.0-absent"')  # an image no engine has: it must be pulled
    result = runner.invoke(
        app, ["up", "--real", "grafana", "--no-build", "--stack", "mcpstack-grafanatest", "--config", str(config)]
    )
    assert result.exit_code == 1
    assert "--real grafana needs the image grafana/grafana:0.0.0-absent" in result.stderr
    assert "no registry answered" in result.stderr


def test_offline_checks_name_unpushed_images_and_pulumi_style_render_refuses_them(tmp_path, monkeypatch) -> None:
    """`mcpstack policy prod` on a fresh clone (nothing pushed) still checks the stack, naming what is not pushed;
    with --require-pushed (what `pulumi up` does) the same render fails and names every image."""
    monkeypatch.setenv("MCPSTACK_IMAGE_DIGESTS", str(tmp_path / "none.json"))
    offline = runner.invoke(app, ["policy", "prod"])
    assert offline.exit_code == 0, offline.output
    assert "not pushed yet, rendered with a placeholder digest" in offline.stderr
    assert "mcpstack/sandbox" in offline.stderr
    strict = runner.invoke(app, ["policy", "prod", "--require-pushed"])
    assert strict.exit_code == 2
    assert "images not pushed to" in strict.stderr
    assert "mcpstack/sandbox:" in strict.stderr
