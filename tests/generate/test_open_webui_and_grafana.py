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


def test_one_tool_server_per_gateway_route_with_the_open_webui_key() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    text = GENERATORS["tool-server-connections"].render(catalog, "open-webui", lambda name: f"value-of-{name}")
    connections = {c["info"]["id"]: c for c in json.loads(text)}
    assert set(connections) == set(catalog.services["mcpo"].gateway.routes)
    time_server = connections["time"]
    assert time_server["url"] == "http://mcpo:8080/time"
    assert time_server["path"] == "openapi.json"
    assert time_server["auth_type"] == "bearer"
    assert time_server["config"]["access_grants"] == [
        {"principal_type": "user", "principal_id": "*", "permission": "read"}
    ]
    assert time_server["key"] == "value-of-gateway-key-open-webui"
    assert GENERATORS["tool-server-connections"].secret  # carries a key: a Secret, never a ConfigMap
    assert "value-of" not in GENERATORS["tool-server-connections"].render(catalog, "open-webui", redacted)


def test_grafana_reads_the_catalogs_prometheus() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    document = yaml.safe_load(GENERATORS["grafana-datasources"].render(catalog, "grafana", redacted))
    source = document["datasources"][0]
    assert source["url"] == "http://prometheus:9090"
    assert source["uid"] == "prometheus" and source["isDefault"] is True
    assert source["jsonData"]["timeInterval"] == "15s"
