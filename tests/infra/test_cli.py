"""`mcpstack render` and `mcpstack policy`: files written, exit codes, one line per violation."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from mcpstack.cli import app
from tests.conftest import EditConfig

runner = CliRunner()


def test_render_dev_writes_every_object(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", "dev", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    index = yaml.safe_load((tmp_path / "index.yaml").read_text())
    assert index["deployment"] == "compose" and index["helm_releases"] == 0
    assert len(index["files"]) == index["objects"] > 30
    for entry in index["files"]:
        document = yaml.safe_load((tmp_path / entry["file"]).read_text())
        assert document["kind"] and document["metadata"]["name"]
    time = yaml.safe_load((tmp_path / "manifests/mcpstack-dev/Deployment-time.yaml").read_text())
    assert time["spec"]["template"]["spec"]["containers"][0]["image"] == "mcpstack/time:0.1.0"
    assert "mcpstack/time:0.1.0" in index["images"]["built"]
    assert "ollama/ollama:0.32.15" in index["images"]["pulled"]
    secret = next(e for e in index["files"] if e["file"].endswith("Secret-mcpo-secrets.yaml"))
    assert secret["secret_fields"] == ["stringData"] and secret["auto_named"] is True


def test_render_prod_writes_chart_references_and_complete_values(tmp_path: Path) -> None:
    (tmp_path / "helm").mkdir(parents=True)
    (tmp_path / "helm" / "stale.yaml").write_text("left over")
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["render", "prod", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "helm.v3.Release" in result.stdout
    webui = yaml.safe_load((tmp_path / "helm/mcpstack-open-webui.yaml").read_text())
    assert webui["chart"] == "open-webui" and webui["version"] == "16.0.0"
    assert webui["repository"] == "https://helm.openwebui.com/"
    assert webui["values"]["replicaCount"] == 3
    assert not (tmp_path / "helm" / "stale.yaml").exists()  # an earlier render's files are replaced
    assert (tmp_path / "notes.txt").read_text() == "mine"  # nothing else is touched


def test_policy_passes_on_both_stacks() -> None:
    for stack in ("dev", "prod"):
        result = runner.invoke(app, ["policy", stack])
        assert result.exit_code == 0, result.output
        assert f"ok {stack}:" in result.stdout


def test_policy_exits_1_naming_rule_object_and_field(edit_config: EditConfig) -> None:
    config = edit_config('      limits: {cpu: "2", memory: 512Mi}', '      limits: {cpu: "2", memory: 1Gi}')
    result = runner.invoke(app, ["policy", "dev", "--config", str(config)])
    assert result.exit_code == 1
    assert (
        "HARD-MEMORY-CEILING Deployment mcpstack-dev/mcpo: spec.template.spec.containers[0].resources.limits.memory: "
        "1Gi > 512Mi" in result.stderr
    )
    assert "1 violation(s)" in result.stderr


def test_an_invalid_catalog_or_stack_exits_2(edit_config: EditConfig) -> None:
    config = edit_config('tag: "2.42.0"', "tag: latest")
    result = runner.invoke(app, ["policy", "dev", "--config", str(config)])
    assert result.exit_code == 2
    assert "services.prometheus.image.tag" in result.stderr
    result = runner.invoke(app, ["render", "staging", "--out", "/nonexistent"])
    assert result.exit_code == 2
    assert "no stack 'staging'" in result.stderr
