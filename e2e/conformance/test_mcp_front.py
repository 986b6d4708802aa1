"""The official conformance suite's tools-only server scenarios against the gateway's MCP front — a route's endpoint
(/mcp/time) and a virtual server's (/mcp/gathered: time-reference and probe) — as
e2e/conformance/test_conformance.py runs them against our servers; the suite's client sends no credentials, so a
loopback proxy adds the e2e key (keyed_proxy.py) and passes Host and Origin through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.conformance.conftest import run_scenario
from e2e.conformance.keyed_proxy import keyed_proxy
from e2e.conformance.test_conformance import SCENARIOS
from e2e.gateway.test_mcp_front import small_stack
from mcpstack.local.variants import variant_stack

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def front_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with variant_stack(tmp_path_factory.mktemp("conf-front") / "config", small_stack, "mcpstack-conf-front") as stack:
        key = stack.secrets.value(stack.catalog.services["mcpo"].gateway.clients["e2e"].secret)
        with keyed_proxy(stack.url("mcpo"), key) as url:
            yield url


@pytest.mark.parametrize("endpoint", ["/mcp/time", "/mcp/gathered"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario_against_the_mcp_front(
    front_url: str, conformance_tool: Path, tmp_path: Path, scenario: str, endpoint: str
) -> None:
    checks = run_scenario(conformance_tool, front_url + endpoint, scenario, tmp_path)
    failed = [check for check in checks if check["status"] not in ("SUCCESS", "INFO", "WARNING")]
    assert checks and not failed, [
        {key: check.get(key) for key in ("id", "status", "errorMessage", "details")} for check in failed
    ]
