"""Catalog fields the Pulumi stacks read: `kubernetes` (egress, exposure), `open_webui.redis`,
`prometheus.rule_files`, and the invariants of a multi-replica Open WebUI."""

from __future__ import annotations

from pathlib import Path

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.catalog.graph import dependency_graph
from tests.catalog.test_loader import only_problem, problems
from tests.conftest import EditConfig


def test_the_real_catalog_sets_what_the_stacks_need() -> None:
    prod = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    assert prod.kubernetes.internet_egress == ["ollama", "github"]
    assert prod.kubernetes.exposed == ["open-webui"]
    webui = prod.services["open-webui"]
    assert webui.replicas == 3 and webui.open_webui.redis == "redis"
    assert "redis" in dependency_graph(prod)["open-webui"]
    assert load_catalog(DEFAULT_CONFIG_DIR, "dev").services["open-webui"].open_webui.redis is None


def test_kubernetes_names_must_be_services(edit_config: EditConfig) -> None:
    config = edit_config("  internet_egress: [ollama, github]", "  internet_egress: [ollama, gihtub]")
    problem = only_problem(config)
    assert problem.path == "kubernetes.internet_egress[1]"
    assert "unknown service 'gihtub'" in problem.message


def test_open_webui_redis_must_be_a_redis_service(edit_config: EditConfig) -> None:
    config = edit_config("      redis: redis\n", "      redis: ollama\n", "environments/prod.yaml")
    problem = only_problem(config, "prod")
    assert problem.path == "services.open-webui.open_webui.redis"
    assert "is a llm, not a redis" in problem.message


def test_several_open_webui_replicas_need_redis_a_database_and_a_shared_key(edit_config: EditConfig) -> None:
    config = edit_config("    open_webui:\n      redis: redis\n", "", "environments/prod.yaml")
    config = edit_config("      - {secret: database-url, env: DATABASE_URL}\n", "", "environments/prod.yaml")
    found = {(p.path, p.message) for p in problems(config, "prod")}
    assert found == {
        ("services.open-webui.open_webui", "3 replicas need open_webui.redis (shared websocket manager)"),
        ("services.open-webui.secrets", "3 replicas need DATABASE_URL (PostgreSQL) from a secret"),
    }


def test_rule_files_are_yaml_paths_inside_the_config_directory(config_copy: Path) -> None:
    catalog = config_copy / "catalog.yaml"
    lines = catalog.read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.startswith("      rule_files:")]
    for bad, message in (("../alerts.yaml", "relative to config/"), ("alerts/slo.json", "invalid format")):
        lines[index] = f"      rule_files: [{bad}]\n"
        catalog.write_text("".join(lines))
        problem = only_problem(config_copy)
        assert problem.path == "services.prometheus.prometheus.rule_files[0]"
        assert message in problem.message
