"""The objectives in the catalog (`slos`): per kind with per-endpoint overrides, per environment, and checked
against the gateway they are measured through."""

from __future__ import annotations

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import CatalogError, load_catalog
from mcpstack.catalog.models import Objective, Slos
from tests.conftest import EditConfig


def test_the_issue_objectives_are_in_the_catalog() -> None:
    slos = load_catalog(DEFAULT_CONFIG_DIR, "dev").slos
    assert slos.load.users == 100
    assert slos.success_rate == 0.995
    assert slos.objectives["tool-call"].p95_ms == 500
    assert slos.objectives["health"].p95_ms == 100


def test_an_endpoint_override_is_merged_onto_its_kind() -> None:
    slos = Slos(
        objectives={"tool-call": Objective(p95_ms=500), "health": Objective(p95_ms=100)},
        endpoints={"sandbox/execute_python": Objective(p99_ms=1000), "time/get_current_time": Objective(p95_ms=250)},
    )
    assert slos.objective("sandbox/execute_python") == Objective(p95_ms=500, p99_ms=1000, success_rate=0.995)
    assert slos.objective("time/get_current_time") == Objective(p95_ms=250, success_rate=0.995)
    assert slos.objective("time/convert_time") == Objective(p95_ms=500, success_rate=0.995)
    assert slos.objective("health") == Objective(p95_ms=100, success_rate=0.995)
    assert slos.objective("time/openapi.json") == Objective(success_rate=0.995)  # no discovery objective here


def test_environments_override_the_catalog() -> None:
    dev, prod = (load_catalog(DEFAULT_CONFIG_DIR, env).slos for env in ("dev", "prod"))
    assert dev.load.duration == "60s"
    assert prod.load.duration == "5m"
    assert prod.objectives == dev.objectives
    assert prod.endpoints == dev.endpoints


def test_an_override_of_an_unknown_route_is_refused(edit_config: EditConfig) -> None:
    config = edit_config("    time/get_current_time: {p95_ms: 250}", "    times/get_current_time: {p95_ms: 250}")
    with pytest.raises(CatalogError) as caught:
        load_catalog(config, "dev")
    assert "slos.endpoints['times/get_current_time']: unknown gateway route 'times'" in str(caught.value)


def test_a_think_time_that_breaks_the_rate_limits_is_refused(edit_config: EditConfig) -> None:
    """100 users pausing 0.1 s would be refused by the gateway's limits: the test would measure the limits."""
    config = edit_config("think_time_seconds: {min: 8, max: 16}", "think_time_seconds: {min: 0.1, max: 16}")
    with pytest.raises(CatalogError) as caught:
        load_catalog(config, "dev")
    message = str(caught.value)
    assert "slos.load.think_time_seconds.min" in message
    assert "per-user limit of 100/min" in message


def test_a_think_time_range_must_be_ordered(edit_config: EditConfig) -> None:
    config = edit_config("think_time_seconds: {min: 8, max: 16}", "think_time_seconds: {min: 16, max: 8}")
    with pytest.raises(CatalogError, match="max \\(8\\) is below min \\(16\\)"):
        load_catalog(config, "dev")
