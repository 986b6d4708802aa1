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


def test_a_load_beyond_the_forwarding_keys_share_is_refused(edit_config: EditConfig) -> None:
    """120 users pausing 8 s make up to 900 calls/min: inside the global 1000/min, but over the 800/min share of
    the loadtest key (0.8 x 1000) that all its users' buckets sit in - the gateway would refuse the excess."""
    config = edit_config("    users: 100 ", "    users: 120 ")
    with pytest.raises(CatalogError) as caught:
        load_catalog(config, "dev")
    message = str(caught.value)
    assert "slos.load.users" in message
    assert "over client 'loadtest''s share of 800/min" in message
    assert "global limit" not in message
    load_catalog(edit_config("    users: 120 ", "    users: 106 "), "dev")  # 795 calls/min: inside the share


def test_a_forwarding_load_client_without_a_tenant_is_refused(edit_config: EditConfig) -> None:
    """Its virtual users send ids of their own, which choose no tenant: without the client's, every call is a 403."""
    config = edit_config(
        "loadtest: {secret: gateway-key-loadtest, tenant: platform, forwards_user_identity: true",
        "loadtest: {secret: gateway-key-loadtest, forwards_user_identity: true",
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(config, "dev")
    assert "slos.load.client" in str(caught.value)
    assert "client 'loadtest' forwards user identity but has no tenant for its virtual users" in str(caught.value)
