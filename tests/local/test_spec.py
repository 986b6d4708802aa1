"""Container specs come from the catalog alone; start order follows dependencies."""

from __future__ import annotations

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.local.spec import container_specs, start_order
from mcpstack.local.view import local_view
from tests.conftest import EditConfig


def test_spec_carries_the_catalog_service_unchanged() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    mcpo = container_specs(catalog)["mcpo"]
    service = catalog.services["mcpo"]
    assert mcpo.image == service.image.ref
    assert list(mcpo.command) == service.command
    assert mcpo.ports == {"http": 8080}
    assert mcpo.secret_files["/run/secrets/gateway-keys/open-webui"] == "gateway-key-open-webui"
    assert mcpo.generated_files == {"/etc/mcpstack/gateway.json": "gateway-config"}
    assert mcpo.user == "10001:10001"
    assert mcpo.read_only is True
    assert mcpo.memory_limit == "512Mi"
    assert mcpo.health == ("/health", "http")
    assert mcpo.ready == ("/ready", "http")


def test_gateway_routes_are_dependencies() -> None:
    specs = container_specs(local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev")))
    assert specs["mcpo"].depends_on == {"time", "sandbox", "github-local"}  # github runs as github-local here
    assert specs["open-webui"].depends_on == {"mcpo", "llm-standin"}
    assert specs["prometheus"].depends_on == frozenset()


def test_fixed_host_ports_come_from_publish_and_are_free_otherwise() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    assert container_specs(catalog)["time"].published == {"http": 8003}
    assert container_specs(catalog, fixed_host_ports=False)["time"].published == {"http": None}


def test_unpublished_ports_still_get_a_free_host_port(edit_config: EditConfig) -> None:
    config = edit_config("    time: 8003\n", "", "environments/dev.yaml")
    assert container_specs(local_view(load_catalog(config, "dev")))["time"].published == {"http": None}


def test_publish_can_name_a_specific_port(edit_config: EditConfig) -> None:
    edit_config(
        "      - {name: http, port: 8003}", "      - {name: http, port: 8003}\n      - {name: admin, port: 9003}"
    )
    config = edit_config("    time: 8003\n", "    time.admin: 19003\n", "environments/dev.yaml")
    assert container_specs(local_view(load_catalog(config, "dev")))["time"].published == {"http": None, "admin": 19003}


def test_start_order_puts_dependencies_first() -> None:
    levels = start_order(container_specs(local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev"))))
    assert levels == [
        ["github-api-standin", "llm-standin", "prometheus", "sandbox", "time"],
        ["github-local"],
        ["mcpo"],
        ["open-webui"],
    ]


def test_explicit_depends_on_adds_a_level(edit_config: EditConfig) -> None:
    config = edit_config("    kind: prometheus\n", "    kind: prometheus\n    depends_on: [mcpo]\n")
    levels = start_order(container_specs(local_view(load_catalog(config, "dev"))))
    assert levels == [
        ["github-api-standin", "llm-standin", "sandbox", "time"],
        ["github-local"],
        ["mcpo"],
        ["open-webui", "prometheus"],
    ]
