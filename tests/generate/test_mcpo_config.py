"""mcpo's config is derived from the gateway's routes in the catalog."""

from __future__ import annotations

import json
from pathlib import Path

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.generate import GENERATORS
from mcpstack.generate.mcpo import mcpo_servers, stdio_packages
from tests.conftest import EditConfig


def test_every_route_becomes_an_mcpo_server_with_the_in_cluster_url() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    servers = json.loads(GENERATORS["mcpo-config"].render(catalog, "mcpo"))["mcpServers"]
    assert servers["time"] == {"type": "streamable-http", "url": "http://time:8003/mcp"}
    assert servers["sandbox"] == {"type": "streamable-http", "url": "http://sandbox:8001/mcp"}
    assert set(servers) == set(catalog.services["mcpo"].gateway.routes)


def test_stdio_route_runs_the_package_from_its_own_venv() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    reference = mcpo_servers(catalog, "mcpo")["time-reference"]
    assert reference == {
        "command": "/opt/mcp-stdio/time-reference/bin/mcp-server-time",
        "args": ["--local-timezone", "UTC"],
    }
    assert stdio_packages(catalog.services["mcpo"]) == "time-reference=mcp-server-time==2026.10.19"


def test_route_transport_defaults_to_the_servers_first_transport(edit_config: EditConfig) -> None:
    config = edit_config("time: {service: time, transport: streamable-http}", "time: {service: time}")
    edit_config("        streamable-http: /mcp\n        sse: /sse", "        sse: /sse\n        streamable-http: /mcp")
    assert mcpo_servers(load_catalog(config, "dev"), "mcpo")["time"] == {"type": "sse", "url": "http://time:8003/sse"}


def test_route_uses_the_port_named_by_the_server(edit_config: EditConfig) -> None:
    edit_config(
        "      - {name: http, port: 8003}", "      - {name: admin, port: 9000}\n      - {name: http, port: 8003}"
    )
    config = edit_config("        sse: /sse\n", "        sse: /sse\n      port: http\n")
    assert mcpo_servers(load_catalog(config, "dev"), "mcpo")["time"]["url"] == "http://time:8003/mcp"


def test_config_is_stable_for_unchanged_input(config_copy: Path) -> None:
    catalog = load_catalog(config_copy, "dev")
    assert GENERATORS["mcpo-config"].render(catalog, "mcpo") == GENERATORS["mcpo-config"].render(catalog, "mcpo")
    assert GENERATORS["mcpo-config"].secret  # may carry upstream credentials: mounted from a Secret
