"""The gateway config (mcpo's servers plus mcpstack's gateway section) is derived from the catalog."""

from __future__ import annotations

import json
from pathlib import Path

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.generate import GENERATORS, redacted
from mcpstack.generate.gateway import mcpo_servers, stdio_packages
from tests.conftest import EditConfig


def test_every_route_becomes_an_mcpo_server_with_the_in_cluster_url() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    servers = json.loads(GENERATORS["gateway-config"].render(catalog, "mcpo", redacted))["mcpServers"]
    assert servers["time"] == {
        "type": "streamable-http",
        "url": "http://time:8003/mcp",
        "headers": {"Authorization": "Bearer <secret:mcp-server-token-time>"},
    }
    assert servers["sandbox"] == {
        "type": "streamable-http",
        "url": "http://sandbox:8001/mcp",
        "headers": {"Authorization": "Bearer <secret:mcp-server-token-sandbox>"},
    }
    assert set(servers) == set(catalog.services["mcpo"].gateway.routes)


def test_stdio_route_runs_the_package_from_its_own_venv() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    reference = mcpo_servers(catalog, "mcpo", redacted)["time-reference"]
    assert reference == {
        "command": "/opt/mcp-stdio/time-reference/bin/mcp-server-time",
        "args": ["--local-timezone", "UTC"],
    }
    assert stdio_packages(catalog.services["mcpo"]) == "time-reference=mcp-server-time==2026.10.19"


def test_route_transport_defaults_to_the_servers_first_transport(edit_config: EditConfig) -> None:
    config = edit_config("          service: time\n          transport: streamable-http\n", "          service: time\n")
    edit_config("        streamable-http: /mcp\n        sse: /sse", "        sse: /sse\n        streamable-http: /mcp")
    time_route = mcpo_servers(load_catalog(config, "dev"), "mcpo", redacted)["time"]
    assert (time_route["type"], time_route["url"]) == ("sse", "http://time:8003/sse")


def test_route_uses_the_port_named_by_the_server(edit_config: EditConfig) -> None:
    edit_config(
        "      - {name: http, port: 8003}", "      - {name: admin, port: 9000}\n      - {name: http, port: 8003}"
    )
    config = edit_config("        sse: /sse\n", "        sse: /sse\n      port: http\n")
    assert mcpo_servers(load_catalog(config, "dev"), "mcpo", redacted)["time"]["url"] == "http://time:8003/mcp"


def test_config_is_stable_for_unchanged_input(config_copy: Path) -> None:
    catalog = load_catalog(config_copy, "dev")
    assert GENERATORS["gateway-config"].render(catalog, "mcpo", redacted) == GENERATORS["gateway-config"].render(
        catalog, "mcpo", redacted
    )
    assert GENERATORS["gateway-config"].secret  # may carry upstream credentials: mounted from a Secret


def gateway_section(config: Path = DEFAULT_CONFIG_DIR) -> dict:
    return json.loads(GENERATORS["gateway-config"].render(load_catalog(config, "dev"), "mcpo", redacted))["gateway"]


def test_clients_refer_to_key_files_never_to_key_values() -> None:
    clients = gateway_section()["clients"]
    assert clients["e2e"] == {
        "key_file": "/run/secrets/gateway-keys/e2e",
        "tenant": "platform",
        "forwards_user_identity": False,
    }
    assert clients["open-webui"]["forwards_user_identity"] is True


def test_tenants_keep_their_order_and_routes_their_required_flag() -> None:
    section = gateway_section()
    assert [t["name"] for t in section["tenants"]] == ["platform", "staff", "tool-catalog", "guests"]
    assert section["routes"]["sandbox"]["required"] is False
    assert section["routes"]["time"]["required"] is True
    assert section["rate_limits"] == {
        "per_client_per_minute": 100,
        "global_per_minute": 1000,
        "forwarding_client_share": 0.8,
        "redis_url": None,
        "redis_password_file": None,
    }
    assert section["timeout_seconds"] == 30


def test_tenant_credentials_get_an_upstream_of_their_own(edit_config: EditConfig) -> None:
    config = edit_config(
        "      tools: {time: [get_current_time, convert_time]}",
        "      tools: {time: [get_current_time, convert_time]}\n"
        "      credentials: {time: {X-Tenant-Token: gateway-key-loadtest}}",
    )
    catalog = load_catalog(config, "dev")
    servers = mcpo_servers(catalog, "mcpo", lambda name: f"value-of-{name}")
    server_token = {"Authorization": "Bearer value-of-mcp-server-token-time"}  # the route's own header stays
    assert servers["time--guests"] == {
        "type": "streamable-http",
        "url": "http://time:8003/mcp",
        "headers": {**server_token, "X-Tenant-Token": "value-of-gateway-key-loadtest"},
    }
    assert servers["time"]["headers"] == server_token  # other tenants never share the guests' credential
    assert gateway_section(config)["routes"]["time"]["tenant_upstreams"] == {"guests": "time--guests"}


def test_prod_limits_live_in_the_redis_service_and_dev_limits_in_process() -> None:
    prod = json.loads(GENERATORS["gateway-config"].render(load_catalog(DEFAULT_CONFIG_DIR, "prod"), "mcpo", redacted))
    assert prod["gateway"]["rate_limits"]["redis_url"] == "redis://redis:6379/0"
    assert gateway_section()["rate_limits"]["redis_url"] is None


def test_the_redis_password_reaches_the_gateway_as_its_mounted_file_never_in_the_config() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    text = GENERATORS["gateway-config"].render(catalog, "mcpo", lambda name: f"value-of-{name}")
    password = catalog.services["redis"].redis.password
    mounted = {ref.secret: ref.file for ref in catalog.services["mcpo"].secrets}
    assert json.loads(text)["gateway"]["rate_limits"]["redis_password_file"] == mounted[password]
    assert f"value-of-{password}" not in text


def test_edge_limits_and_status_details_come_from_the_catalog() -> None:
    section = gateway_section()
    assert section["limits"] == {
        "max_body_bytes": 262144,
        "max_json_depth": 32,
        "header_timeout_seconds": 10,
        "body_timeout_seconds": 10,
        "max_concurrent_requests_per_client": 32,
        "concurrency_wait_seconds": 2,
        "max_event_streams_per_caller": 8,
        "max_event_streams": 1024,
    }
    assert section["tool_list_refresh_seconds"] == 30
    assert section["public_details"] == {"ready": False, "metrics": True}


def test_signed_users_are_verified_with_the_key_open_webui_signs_with() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    section = gateway_section()
    assert section["user_identity_secret_file"] == "/run/secrets/gateway-identity/signing-key"
    assert section["identity_headers"]["jwt"] == "X-OpenWebUI-User-Jwt"
    webui = {ref.env: ref.secret for ref in catalog.services["open-webui"].secrets}
    assert webui["FORWARD_USER_INFO_HEADER_JWT_SECRET"] == catalog.services["mcpo"].gateway.user_identity_secret
    prod = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    assert "FORWARD_USER_INFO_HEADER_JWT_SECRET" in {ref.env for ref in prod.services["open-webui"].secrets}


def test_test_keys_are_accepted_only_where_the_catalog_asks(edit_config: EditConfig) -> None:
    assert set(gateway_section()["clients"]) == {"open-webui", "e2e", "loadtest"}
    prod = json.loads(GENERATORS["gateway-config"].render(load_catalog(DEFAULT_CONFIG_DIR, "prod"), "mcpo", redacted))
    assert set(prod["gateway"]["clients"]) == {"open-webui"}
    loadtest = "forwards_user_identity: true, environments: [dev]}"
    config = edit_config(loadtest, loadtest.replace("[dev]", "[dev, prod]"))  # an overlay asking for the key
    asked = json.loads(GENERATORS["gateway-config"].render(load_catalog(config, "prod"), "mcpo", redacted))
    assert set(asked["gateway"]["clients"]) == {"open-webui", "loadtest"}


def test_virtual_servers_reach_the_gateway_with_their_routes() -> None:
    assert gateway_section()["virtual_servers"] == {"platform": {"routes": ["time", "sandbox", "github"]}}
