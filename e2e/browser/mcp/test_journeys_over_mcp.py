"""Journeys 2-4 (e2e/browser/test_tools.py), unchanged, with Open WebUI calling the time and sandbox tools over MCP
through the gateway's MCP front — per route, and through the virtual server `platform` (conftest.py runs each
journey on both stacks); and the guest's journey (test_tenancy.py) as it goes over MCP.

Over MCP, Open WebUI lists a server's tools as the signed-in person (their identity travels with tools/list), so
the gateway filters the list by the person's tenant: a guest is never offered the sandbox at all (over OpenAPI
it is offered the tool, from the tool-catalog spec, and refused when calling it)."""

from __future__ import annotations

import json

import httpx
import pytest

from e2e.browser.chat_page import ChatPage
from e2e.browser.journeys import ask, shows_number
from e2e.browser.mcp.conftest import MCP_ROUTES, TOOL_IDS
from e2e.browser.tabs import Person
from e2e.browser.test_tenancy import FIBONACCI_12, sandbox_runs
from e2e.browser.test_tools import (
    test_a_code_block_and_the_time_in_tokyo,
    test_a_tool_error_reads_as_a_sentence,
    test_the_seed_sentence_shows_fibonacci_and_the_time,
)
from e2e.target import Target
from mcpstack.generate import derived_env

pytestmark = pytest.mark.docker
__all__ = [
    "test_a_code_block_and_the_time_in_tokyo",
    "test_a_tool_error_reads_as_a_sentence",
    "test_the_seed_sentence_shows_fibonacci_and_the_time",
]


def test_open_webui_is_given_mcp_connections(target: Target, variant: str) -> None:
    assert target.local is not None
    metadata = json.loads(derived_env(target.local.catalog, "open-webui")["DEFAULT_MODEL_METADATA"])
    assert TOOL_IDS[variant] <= set(metadata["toolIds"])
    if variant == "virtual-server":  # the only tool server: every tool call of the journeys goes through it
        assert metadata["toolIds"] == ["server:mcp:platform"]


def test_a_guest_is_not_offered_the_sandbox_and_nothing_runs(tab: ChatPage, guest: Person, target: Target) -> None:
    before = sandbox_runs(target)
    tab.sign_in(guest.email, guest.password)
    answer = ask(tab, FIBONACCI_12)
    assert not shows_number(answer.prose, "144"), f"the guest got the run's output: {answer.prose!r}"
    assert "execute_python" not in answer.tool_calls, f"a Python tool was called for a guest: {answer.tool_calls!r}"
    assert sandbox_runs(target) == before, "the sandbox ran code for a guest"


def test_the_journeys_tools_went_through_the_gateways_mcp_front(target: Target, variant: str) -> None:
    """After the journeys (this module's last test): the gateway counted Open WebUI's MCP listings where this
    variant sends them (/mcp/platform, or each route's endpoint) and the tool calls under their routes."""
    metrics = httpx.get(
        f"{target.gateway_url}/metrics", headers={"Authorization": f"Bearer {target.gateway_key}"}, timeout=10
    ).text
    listed_at = ["platform"] if variant == "virtual-server" else list(MCP_ROUTES)
    for where in listed_at:
        assert f'gateway_mcp_requests_total{{method="tools/list",route="{where}",status="ok",tool="-"}}' in metrics
    for route, tool in (("sandbox", "execute_python"), ("time", "get_current_time")):
        assert f'gateway_mcp_requests_total{{method="tools/call",route="{route}",status="ok",tool="{tool}"}}' in metrics
    if variant == "virtual-server":
        assert 'method="tools/list",route="time"' not in metrics  # no connection to the route's own endpoint
