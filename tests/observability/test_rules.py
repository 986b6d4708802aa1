"""Alert and recording rules, checked by promtool from the very Prometheus image the stacks run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.catalog import load_catalog
from mcpstack.observability.promql import dashboard_queries, rule_files, rule_queries

CATALOG = load_catalog(DEFAULT_CONFIG_DIR, "prod")
RULES = [DEFAULT_CONFIG_DIR / relative for relative in rule_files(CATALOG)]
ALERTS = [q.source.rpartition("alert ")[2] for q in rule_queries(CATALOG, DEFAULT_CONFIG_DIR) if ": alert " in q.source]
TESTS = DEFAULT_CONFIG_DIR / "alerts" / "tests"


def promtool(*args: str, mount: Path = DEFAULT_CONFIG_DIR, workdir: str = "/config") -> subprocess.CompletedProcess:
    image = CATALOG.services["prometheus"].image.ref
    return subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            f"{mount}:{mount_point(mount)}:ro",
            "-w",
            workdir,
            "--entrypoint",
            "promtool",
            image,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def mount_point(path: Path) -> str:
    return "/config" if path == DEFAULT_CONFIG_DIR else "/check"


def test_the_catalog_has_rules() -> None:
    assert RULES and all(path.is_file() for path in RULES)
    assert len(ALERTS) >= 9


@pytest.mark.docker
def test_promtool_accepts_the_rule_files(built_images: None) -> None:
    result = promtool("check", "rules", *[f"/config/{path.relative_to(DEFAULT_CONFIG_DIR)}" for path in RULES])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.docker
def test_promtool_unit_tests_pass(built_images: None) -> None:
    files = sorted(path.name for path in TESTS.glob("*.yaml"))
    result = promtool("test", "rules", *files, workdir="/config/alerts/tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


@pytest.mark.docker
def test_every_dashboard_query_is_valid_promql(built_images: None, tmp_path: Path) -> None:
    queries = dashboard_queries(CATALOG, DEFAULT_CONFIG_DIR)
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [
                    {"record": f"dashboard:query:{index}", "expr": query.concrete}
                    for index, query in enumerate(queries)
                ],
            }
        ]
    }
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules))
    tmp_path.chmod(0o755)
    result = promtool("check", "rules", "/check/queries.yaml", mount=tmp_path, workdir="/check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_every_alert_fires_in_one_unit_test_and_stays_quiet_in_another() -> None:
    cases: dict[str, list[bool]] = {}
    for path in TESTS.glob("*.yaml"):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.setdefault(case["alertname"], []).append(bool(case["exp_alerts"]))
    for alert in ALERTS:
        assert True in cases.get(alert, []), f"no unit test makes {alert} fire"
        assert False in cases.get(alert, []), f"no unit test keeps {alert} quiet"


def test_every_alert_has_a_runbook_section() -> None:
    runbooks = (REPO_ROOT / "docs" / "runbooks.md").read_text()
    headings = {re.sub(r"[^a-z0-9]", "", h.lower()) for h in re.findall(r"^## (.+)$", runbooks, re.MULTILINE)}
    for alert in ALERTS:
        assert alert.lower() in headings, f"docs/runbooks.md has no section for {alert}"
    for query in rule_queries(CATALOG, DEFAULT_CONFIG_DIR):
        if ": alert " in query.source:
            name = query.source.rpartition("alert ")[2]
            rule = next(
                r
                for f in RULES
                for g in yaml.safe_load(f.read_text())["groups"]
                for r in g["rules"]
                if r.get("alert") == name
            )
            assert rule["annotations"]["runbook"] == f"docs/runbooks.md#{name.lower()}"
