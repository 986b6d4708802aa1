"""Open WebUI's environment and tool server connections, and Grafana's datasource, from the catalog."""

from __future__ import annotations

import json

import yaml

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.generate import GENERATORS, derived_env, redacted
from mcpstack.local.view import local_view
from tests.conftest import EditConfig


def test_open_webui_talks_to_the_llm_service_the_catalog_names() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    env = derived_env(catalog, "open-webui")
    assert env["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert env["ENABLE_OLLAMA_API"] == "true" and env["ENABLE_OPENAI_API"] == "false"
    assert env["DEFAULT_MODELS"] == "llama3.2:3b"


def test_locally_the_llm_url_follows_the_stand_in() -> None:
    view = local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev"))
    assert derived_env(view, "open-webui")["OLLAMA_BASE_URL"] == "http://llm-standin:11434"


def test_an_openai_compatible_llm_gets_the_openai_settings(edit_config: EditConfig) -> None:
    config = edit_config(
        "    llm:\n      api: ollama\n      models: [llama3.2:3b]\n\n  llm-standin:",
        "    llm:\n      api: openai\n      models: [llama3.2:3b]\n\n  llm-standin:",
    )
    env = derived_env(load_catalog(config, "prod"), "open-webui")
    assert env["OPENAI_API_BASE_URLS"] == "http://ollama:11434/v1"
    assert env["ENABLE_OLLAMA_API"] == "false"


def test_one_tool_server_per_route_offered_to_people_with_the_open_webui_key() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    text = GENERATORS["tool-server-connections"].render(catalog, "open-webui", lambda name: f"value-of-{name}")
    connections = {c["info"]["id"]: c for c in json.loads(text)}
    routes = catalog.services["mcpo"].gateway.routes
    assert set(connections) == {name for name, route in routes.items() if route.offer_to_users}
    assert "time-reference" in routes and "time-reference" not in connections  # test-only: `offer_to_users: false`
    time_server = connections["time"]
    assert time_server["info"] == {
        "id": "time",
        "name": "time",
        "description": catalog.services["time"].description,
    }
    assert time_server["url"] == "http://mcpo:8080/time"
    assert time_server["path"] == "openapi.json"
    assert time_server["auth_type"] == "bearer"
    assert time_server["config"]["access_grants"] == [
        {"principal_type": "user", "principal_id": "*", "permission": "read"}
    ]
    assert time_server["key"] == "value-of-gateway-key-open-webui"
    assert GENERATORS["tool-server-connections"].secret  # carries a key: a Secret, never a ConfigMap
    assert "value-of" not in GENERATORS["tool-server-connections"].render(catalog, "open-webui", redacted)


def test_a_route_switched_to_mcp_becomes_an_mcp_connection_to_the_gateways_mcp_front(edit_config: EditConfig) -> None:
    config = edit_config(
        "          service: time\n          transport: streamable-http\n",
        "          service: time\n          transport: streamable-http\n          open_webui_connection: mcp\n",
    )
    catalog = load_catalog(config, "prod")
    text = GENERATORS["tool-server-connections"].render(catalog, "open-webui", lambda name: f"value-of-{name}")
    connections = {c["info"]["id"]: c for c in json.loads(text)}
    assert connections["time"]["type"] == "mcp"
    assert connections["time"]["url"] == "http://mcpo:8080/mcp/time"
    assert "path" not in connections["time"]
    assert connections["time"]["auth_type"] == "bearer"
    assert connections["time"]["key"] == "value-of-gateway-key-open-webui"
    assert connections["sandbox"]["type"] == "openapi"  # the switch is per route
    metadata = json.loads(derived_env(catalog, "open-webui")["DEFAULT_MODEL_METADATA"])
    assert metadata["toolIds"] == ["server:mcp:time", "server:sandbox", "server:github"]


def test_every_model_starts_with_the_offered_tool_servers_on_and_the_builtin_time_tools_off() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    metadata = json.loads(derived_env(catalog, "open-webui")["DEFAULT_MODEL_METADATA"])
    assert metadata == {
        "description": catalog.services["ollama"].description,
        "toolIds": ["server:time", "server:sandbox", "server:github"],
        "builtinTools": {"time": False},
    }


def test_locally_the_model_is_described_as_the_test_double() -> None:
    view = local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev"))
    metadata = json.loads(derived_env(view, "open-webui")["DEFAULT_MODEL_METADATA"])
    assert metadata["description"].startswith("TEST DOUBLE")


def test_open_webuis_route_list_overrides_what_routes_offer(edit_config: EditConfig) -> None:
    config = edit_config(
        "      gateway_client: open-webui\n",
        "      gateway_client: open-webui\n      routes: [time-reference, time]\n",
    )
    catalog = load_catalog(config, "prod")
    connections = json.loads(GENERATORS["tool-server-connections"].render(catalog, "open-webui", redacted))
    assert [c["info"]["id"] for c in connections] == ["time-reference", "time"]
    metadata = json.loads(derived_env(catalog, "open-webui")["DEFAULT_MODEL_METADATA"])
    assert metadata["toolIds"] == ["server:time-reference", "server:time"]


def test_grafana_reads_the_catalogs_prometheus() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    document = yaml.safe_load(GENERATORS["grafana-datasources"].render(catalog, "grafana", redacted))
    source = document["datasources"][0]
    assert source["url"] == "http://prometheus:9090"
    assert source["uid"] == "prometheus" and source["isDefault"] is True
    assert source["jsonData"]["timeInterval"] == "15s"


def test_a_virtual_server_offered_to_users_becomes_one_mcp_connection(edit_config: EditConfig) -> None:
    shipped = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    offered = [
        c["info"]["id"]
        for c in json.loads(GENERATORS["tool-server-connections"].render(shipped, "open-webui", redacted))
    ]
    assert "platform" not in offered  # not offered unless it says so: its tools are the routes' own
    config = edit_config(
        "          routes: [time, sandbox, github]\n",
        "          routes: [time, sandbox, github]\n          offer_to_users: true\n",
    )
    catalog = load_catalog(config, "prod")
    connections = {
        c["info"]["id"]: c
        for c in json.loads(GENERATORS["tool-server-connections"].render(catalog, "open-webui", redacted))
    }
    assert connections["platform"]["type"] == "mcp"
    assert connections["platform"]["url"] == "http://mcpo:8080/mcp/platform"
    assert connections["platform"]["info"]["description"].startswith("The platform's tools in one MCP server")
    metadata = json.loads(derived_env(catalog, "open-webui")["DEFAULT_MODEL_METADATA"])
    assert metadata["toolIds"][-1] == "server:mcp:platform"
