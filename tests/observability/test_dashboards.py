"""Lint of the dashboards in config/dashboards: what Grafana and operators rely on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.generate.grafana import DATASOURCE_UID
from mcpstack.observability.promql import dashboard_queries, load_dashboards, metric_names, panels

CATALOG = load_catalog(DEFAULT_CONFIG_DIR, "prod")
DASHBOARDS = load_dashboards(CATALOG, DEFAULT_CONFIG_DIR)
DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}


def test_every_dashboard_file_is_in_the_catalog_and_the_catalog_lists_only_files_that_exist() -> None:
    on_disk = {f"dashboards/{p.name}" for p in (DEFAULT_CONFIG_DIR / "dashboards").glob("*.json")}
    assert set(DASHBOARDS) == on_disk
    assert len(on_disk) >= 4


def test_dashboard_uids_are_unique_and_stable() -> None:
    uids = [d["uid"] for d in DASHBOARDS.values()]
    assert len(uids) == len(set(uids))
    assert all(re.fullmatch(r"mcpstack-[a-z-]+", uid) for uid in uids)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_ids_are_unique_and_every_panel_reads_the_provisioned_datasource(name: str) -> None:
    dashboard_panels = panels(DASHBOARDS[name])
    ids = [p["id"] for p in dashboard_panels]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
    for panel in dashboard_panels:
        assert panel.get("title"), f"{name}: panel {panel['id']} has no title"
        assert panel["datasource"] == DATASOURCE, f"{name}: panel {panel['id']} datasource"
        assert panel["targets"], f"{name}: panel {panel['id']} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE


@pytest.mark.parametrize("query", dashboard_queries(CATALOG, DEFAULT_CONFIG_DIR), ids=lambda q: q.source)
def test_no_query_is_tied_to_one_host(query) -> None:
    assert not re.search(r'\b(instance|pod|node|container)\s*=~?\s*"', query.expr), query.expr
    assert not re.search(r"\b[\w.-]+:\d{2,5}\b", query.expr), f"host:port in {query.expr}"


def test_the_overview_answers_the_design_documents_questions() -> None:
    titles = " | ".join(p["title"].lower() for p in panels(DASHBOARDS["dashboards/overview.json"]))
    for subject in (
        "slo",
        "tool calls per minute",
        "success rate",
        "p50 / p95 / p99",
        "active users",
        "upstream",
        "service health",
        "active alerts",
        "memory",
        "cpu",
    ):
        assert subject in titles, f"overview has no panel about {subject!r}"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (route) (rate(gateway_requests_total{route!="-",tool!~"a|b"}[5m]))', {"gateway_requests_total"}),
        ("histogram_quantile(0.95, sum by (le) (rate(x_bucket[$__rate_interval])))", {"x_bucket"}),
        ('count(ALERTS{alertstate="firing"}) or vector(0)', {"ALERTS"}),
        (
            "process_resident_memory_bytes / mcpstack_container_memory_limit_bytes > 0.9",
            {"process_resident_memory_bytes", "mcpstack_container_memory_limit_bytes"},
        ),
        ("mcpstack:tool_call_errors:ratio_rate1h > (14.4 * 0.005)", {"mcpstack:tool_call_errors:ratio_rate1h"}),
    ],
)
def test_metric_names_of_a_query(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_dashboards_are_pretty_printed_json(tmp_path: Path) -> None:
    for relative in DASHBOARDS:
        text = (DEFAULT_CONFIG_DIR / relative).read_text()
        assert text == json.dumps(json.loads(text), indent=2) + "\n", f"{relative} is not formatted"


def test_the_active_alerts_panel_leaves_out_the_always_firing_watchdog() -> None:
    panel = next(p for p in panels(DASHBOARDS["dashboards/overview.json"]) if p["title"] == "Active alerts")
    exprs = [t["expr"] for t in panel["targets"]]
    assert exprs and all("ALERTS{" in e and 'alertname!="Watchdog"' in e for e in exprs), exprs
