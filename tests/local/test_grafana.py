"""Grafana in the local stack: `--real grafana` keeps it, and it is provisioned with the catalog's datasource
and every dashboard the catalog lists (the files `up` mounts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import Catalog, load_catalog
from mcpstack.catalog.models import GrafanaService
from mcpstack.local.grafana import DASHBOARD_DIR, PROVIDER_FILE, provisioning_files
from mcpstack.local.stack import LocalStack
from mcpstack.local.view import local_view


@pytest.fixture
def dev() -> Catalog:
    return load_catalog(DEFAULT_CONFIG_DIR, "dev")


def test_grafana_is_skipped_unless_asked_for(dev: Catalog) -> None:
    assert "grafana" not in local_view(dev).services
    assert "grafana" in local_view(dev, real=["grafana"]).services


def test_provisioning_has_the_provider_and_every_catalog_dashboard(dev: Catalog) -> None:
    grafana = dev.services["grafana"]
    assert isinstance(grafana, GrafanaService)
    files = provisioning_files(dev, "grafana")
    provider = yaml.safe_load(files[PROVIDER_FILE])["providers"][0]
    assert provider["options"]["path"] == DASHBOARD_DIR
    dashboards = {path: json.loads(text) for path, text in files.items() if path.startswith(DASHBOARD_DIR)}
    assert len(dashboards) == len(grafana.grafana.dashboards) > 0
    for dashboard in grafana.grafana.dashboards:
        on_disk = json.loads((DEFAULT_CONFIG_DIR / dashboard).read_text())
        assert dashboards[f"{DASHBOARD_DIR}/{Path(dashboard).name}"]["uid"] == on_disk["uid"]
    assert provisioning_files(dev, "prometheus") == {}


def test_up_mounts_datasource_provider_and_dashboards(dev: Catalog, tmp_path: Path) -> None:
    stack = LocalStack(dev, name="grafana-spec", real=["grafana"], state_root=tmp_path, client=object())
    mounts = stack.prepare(stack.specs["grafana"]).mounts
    assert "/etc/grafana/provisioning/datasources/mcpstack.yaml" in mounts
    datasource = yaml.safe_load(mounts["/etc/grafana/provisioning/datasources/mcpstack.yaml"].read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert PROVIDER_FILE in mounts
    assert sum(path.startswith(DASHBOARD_DIR) for path in mounts) == len(dev.services["grafana"].grafana.dashboards)
