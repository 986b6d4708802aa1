"""Stacks where Open WebUI reaches the tools over MCP, through the gateway's MCP front, each running every journey
of this package: `routes`, the time and sandbox routes switched to `open_webui_connection: mcp` (MCP connections
to /mcp/ROUTE instead of OpenAPI tool servers); `virtual-server`, Open WebUI offered only the catalog's virtual
server `platform` (one MCP connection to /mcp/platform, tools named ROUTE_TOOL). The fixtures the journeys use
are defined again here, so they belong to these stacks and not to the session's default one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.browser.conftest import add_person
from e2e.browser.tabs import Person
from e2e.chat.openwebui import OpenWebUI
from e2e.target import Target
from mcpstack.catalog import load_catalog
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import write_variant

MCP_ROUTES = ("time", "sandbox")
VIRTUAL_SERVER = "platform"


def mcp_connections(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    for route in MCP_ROUTES:
        catalog["services"]["mcpo"]["gateway"]["routes"][route]["open_webui_connection"] = "mcp"


def the_virtual_server_only(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    catalog["services"]["open-webui"]["open_webui"]["routes"] = [VIRTUAL_SERVER]


VARIANTS = {"routes": mcp_connections, "virtual-server": the_virtual_server_only}
TOOL_IDS = {"routes": {f"server:mcp:{route}" for route in MCP_ROUTES}, "virtual-server": {"server:mcp:platform"}}


@pytest.fixture(scope="package", params=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, variant: str) -> Iterator[LocalStack]:
    config = write_variant(tmp_path_factory.mktemp(f"browser-mcp-{variant}") / "config", VARIANTS[variant])
    local = LocalStack(
        load_catalog(config, "dev"), name=f"mcpstack-e2e-mcp-{uuid.uuid4().hex[:6]}", fixed_host_ports=False
    )
    try:
        local.up(timeout=400)  # Open WebUI's first start (migrations) on a busy 2-core machine
        yield local
    finally:
        local.down(volumes=True)
        local.purge_state()


@pytest.fixture(scope="package")
def target(stack: LocalStack) -> Target:
    return Target.from_stack(stack)


@pytest.fixture(scope="package")
def webui(target: Target) -> Iterator[OpenWebUI]:
    assert target.open_webui is not None
    session = OpenWebUI.sign_in(target.open_webui.url, target.open_webui.email, target.open_webui.password)
    yield session
    session.close()


@pytest.fixture(scope="package")
def admin(target: Target) -> Person:
    assert target.open_webui is not None
    return Person(target.open_webui.email, target.open_webui.password)


@pytest.fixture(scope="package")
def member(webui: OpenWebUI) -> Person:
    return add_person(webui, f"member-{uuid.uuid4().hex[:6]}@example.com", "Member")


@pytest.fixture(scope="package")
def guest(webui: OpenWebUI) -> Person:
    return add_person(webui, f"guest-{uuid.uuid4().hex[:6]}@guest.example.com", "Guest")
