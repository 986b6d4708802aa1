"""Monitoring checked against real data: after a short burst of varied traffic on the local stack, every
metric the dashboards and alert rules use is exported, and every dashboard query returns data."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from e2e.target import Target
from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.observability.promql import (
    BUILT_IN_METRICS,
    dashboard_queries,
    metric_names,
    panels,
    recorded_names,
    rule_queries,
)
from mcpstack.observability.snapshot import panel_series, snapshot

pytestmark = pytest.mark.docker
SCRAPES_TO_WAIT = 3


def key(target: Target, client: str) -> str:
    assert target.local is not None, "needs the local stack"
    return target.local.secrets.value(target.gateway.gateway.clients[client].secret)


@pytest.fixture(scope="module")
def traffic(target: Target) -> None:
    """Calls that exercise every panel: successes, tool errors, sandbox limits and denials, a rate-limit
    burst, a tenancy refusal, discovery (cache miss then hits), forwarded users."""
    url = target.gateway_url
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {target.gateway_key}"}) as e2e:
        for _ in range(3):
            e2e.get("/time/openapi.json")
            e2e.post("/time/get_current_time", json={"timezone": "UTC"})
            e2e.post("/time-reference/get_current_time", json={"timezone": "UTC"})
        e2e.post("/time/get_current_time", json={"timezone": "Nowhere/Land"})
        e2e.post("/sandbox/execute_python", json={"code": "print(1)"})
        e2e.post("/sandbox/execute_python", json={"code": "import time; time.sleep(3)", "timeout_seconds": 1})
        e2e.post("/sandbox/execute_python", json={"code": "print(1)", "packages": ["reqeusts"]})
        e2e.post("/github/list_issues", json={"owner": "octo-org", "repo": "mcpstack"})
    owui = {
        "Authorization": f"Bearer {key(target, 'open-webui')}",
        "X-OpenWebUI-User-Id": "obs-guest",
        "X-OpenWebUI-User-Email": "obs@guest.example.com",
    }
    httpx.post(f"{url}/sandbox/execute_python", json={"code": "print(1)"}, headers=owui, timeout=30)
    # One user of a forwarding key: its own bucket (per_client_per_minute) inside the key's share.
    loadtest = {"Authorization": f"Bearer {key(target, 'loadtest')}", "X-OpenWebUI-User-Id": "obs-burst"}
    per_client = target.gateway.gateway.rate_limits.per_client_per_minute
    with httpx.Client(base_url=url, timeout=30, headers=loadtest) as noisy:
        statuses = [noisy.get("/health").status_code for _ in range(1)]
        statuses += [
            noisy.post("/time/get_current_time", json={"timezone": "UTC"}).status_code for _ in range(per_client + 5)
        ]
    assert 429 in statuses, "the burst must reach the per-client limit"
    interval = float(target.catalog.services["prometheus"].prometheus.scrape_interval.rstrip("s"))
    time.sleep(interval * SCRAPES_TO_WAIT)


def exported_metric_names(prometheus: httpx.Client) -> set[str]:
    return set(prometheus.get("/api/v1/label/__name__/values").json()["data"])


def test_every_metric_the_dashboards_and_rules_use_is_exported(traffic: None, prometheus: httpx.Client) -> None:
    exported = exported_metric_names(prometheus)
    recorded = recorded_names(_catalog(), DEFAULT_CONFIG_DIR)
    queries = dashboard_queries(_catalog(), DEFAULT_CONFIG_DIR) + rule_queries(_catalog(), DEFAULT_CONFIG_DIR)
    missing = {}
    for query in queries:
        for name in metric_names(query.expr) - BUILT_IN_METRICS - recorded:
            if name not in exported:
                missing.setdefault(name, query.source)
    assert not missing, f"used but exported by no service: {missing}"


def test_every_dashboard_query_returns_data(traffic: None, prometheus: httpx.Client) -> None:
    empty = []
    for query in dashboard_queries(_catalog(), DEFAULT_CONFIG_DIR):
        response = prometheus.get("/api/v1/query", params={"query": query.concrete})
        assert response.status_code == 200, f"{query.source}: {response.text}"
        if not response.json()["data"]["result"]:
            empty.append(query.source)
    assert not empty, f"queries without data: {empty}"


def test_prometheus_loaded_the_rules_and_evaluates_them(traffic: None, prometheus: httpx.Client) -> None:
    groups = prometheus.get("/api/v1/rules").json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == len(rule_queries(_catalog(), DEFAULT_CONFIG_DIR))
    assert all(rule["health"] == "ok" for rule in rules), [r for r in rules if r["health"] != "ok"]


def _catalog():
    return load_catalog(DEFAULT_CONFIG_DIR, "dev")


def test_snapshot_draws_every_overview_panel_with_real_traffic(traffic: None, target: Target, tmp_path) -> None:
    dashboard = json.loads((DEFAULT_CONFIG_DIR / "dashboards" / "overview.json").read_text())
    files = snapshot(target.prometheus_url, dashboard, tmp_path, minutes=10)
    assert len(files) == len(panels(dashboard)) + 1
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000 for path in files)
    calls = next(p for p in panels(dashboard) if p["title"] == "Tool calls per minute")
    end = time.time()
    series = panel_series(target.prometheus_url, calls, end - 600, end, 15)
    assert any(value > 0 for item in series for value in item.values), "the chart must show the traffic"
