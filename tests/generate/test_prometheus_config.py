"""Prometheus' scrape config covers exactly the services that declare a metrics path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.generate import GENERATORS, redacted
from mcpstack.generate.rules import RULES_PATH
from tests.conftest import EditConfig


def render(config: Path = DEFAULT_CONFIG_DIR, env: str = "dev") -> dict:
    return yaml.safe_load(GENERATORS["prometheus-config"].render(load_catalog(config, env), "prometheus", redacted))


def jobs(config: dict) -> dict[str, dict]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_one_job_per_service_with_a_metrics_path() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    with_metrics = {name for name, s in catalog.services.items() if s.metrics}
    assert set(jobs(render())) == with_metrics
    assert "mcpo" in with_metrics  # the gateway's middleware adds /metrics to mcpo


def test_job_targets_the_service_name_port_and_path() -> None:
    time_job = jobs(render())["time"]
    assert time_job["metrics_path"] == "/metrics"
    assert time_job["static_configs"] == [{"targets": ["time:8003"], "labels": {"service": "time"}}]


def test_a_service_losing_its_metrics_path_loses_its_job(edit_config: EditConfig) -> None:
    config = edit_config(
        "    ready: {path: /ready, port: http}\n    metrics: {path: /metrics, port: http}\n",
        "    ready: {path: /ready, port: http}\n    metrics_unavailable: the test's reason\n",
    )
    assert "mcpo" not in jobs(render(config))
    assert "time" in jobs(render(config))


def test_the_config_lists_every_unscraped_service_with_the_catalogs_reason() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    text = GENERATORS["prometheus-config"].render(catalog, "prometheus", redacted)
    comments = {
        line.split(":", 1)[0].strip("# "): line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("#   ")
    }
    unscraped = {n for n, s in catalog.services.items() if s.metrics is None and s.metrics_unavailable}
    assert set(comments) == unscraped >= {"open-webui", "ollama", "github", "redis"}
    assert comments["ollama"] == catalog.services["ollama"].metrics_unavailable
    assert set(jobs(yaml.safe_load(text))).isdisjoint(unscraped)
    assert "redis-exporter" in jobs(yaml.safe_load(text))  # Redis is covered through its exporter


def test_intervals_and_environment_label_come_from_the_catalog() -> None:
    dev, prod = render(env="dev"), render(env="prod")
    assert dev["global"]["scrape_interval"] == "5s"
    assert prod["global"]["scrape_interval"] == "15s"
    assert prod["global"]["external_labels"] == {"environment": "prod"}


@pytest.mark.docker
def test_promtool_accepts_the_generated_config_and_rules(tmp_path: Path, built_images: None) -> None:
    """Checked by promtool from the very Prometheus image the stack runs, with the rules mounted where the
    config says."""
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    files = {
        "prometheus.yml": GENERATORS["prometheus-config"].render(catalog, "prometheus", redacted),
        "rules.yaml": GENERATORS["prometheus-rules"].render(catalog, "prometheus", redacted),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o644)
    tmp_path.chmod(0o755)
    result = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            f"{tmp_path / 'prometheus.yml'}:/check/prometheus.yml:ro",
            "-v",
            f"{tmp_path / 'rules.yaml'}:{RULES_PATH}:ro",
            "--entrypoint",
            "promtool",
            catalog.services["prometheus"].image.ref,
            "check",
            "config",
            "/check/prometheus.yml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout + result.stderr


def test_rules_come_from_the_catalogs_own_config_directory(config_copy: Path) -> None:
    (config_copy / "alerts" / "mcpstack.rules.yaml").write_text("groups:\n  - name: only-in-the-copy\n    rules: []\n")
    rules = yaml.safe_load(
        GENERATORS["prometheus-rules"].render(load_catalog(config_copy, "dev"), "prometheus", redacted)
    )
    assert [g["name"] for g in rules["groups"]] == ["only-in-the-copy"]
