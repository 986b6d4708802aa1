"""Container specs are the catalog's deployed services (mcpstack.deployment) rendered for Docker; start order
follows dependencies; containers carry the one label scheme."""

from __future__ import annotations

import re

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.deployment import describe_services, labels
from mcpstack.local.containers import container_labels
from mcpstack.local.spec import container_spec, container_specs, start_order
from mcpstack.local.view import local_view
from tests.conftest import EditConfig

# A Kubernetes label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
KUBERNETES_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)


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


def test_the_gateway_container_holds_only_the_keys_its_environment_accepts() -> None:
    dev = container_specs(load_catalog(DEFAULT_CONFIG_DIR, "dev"))["mcpo"].secret_files
    prod = container_specs(load_catalog(DEFAULT_CONFIG_DIR, "prod"))["mcpo"].secret_files
    keys = {"/run/secrets/gateway-keys/e2e", "/run/secrets/gateway-keys/loadtest"}
    assert keys <= set(dev)
    assert not keys & set(prod)
    assert prod["/run/secrets/gateway-keys/open-webui"] == "gateway-key-open-webui"
    assert prod["/run/secrets/gateway-identity/signing-key"] == "user-identity-signing-key"


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


def test_the_docker_rendering_adds_only_host_ports_and_aliases_to_the_deployed_service() -> None:
    catalog = local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev"))
    deployed = describe_services(catalog)
    for name, spec in container_specs(catalog).items():
        assert spec == container_spec(
            deployed[name], published={k: v for k, v in spec.published.items() if v}, aliases=spec.aliases
        )
    sandbox = container_spec(deployed["sandbox"])
    assert (sandbox.tmpfs, sandbox.tmpfs_size, sandbox.volumes) == (("/tmp",), "256Mi", {})
    assert container_spec(deployed["open-webui"]).volumes == {"data": "/app/backend/data"}
    assert sandbox.published == {"http": None} and sandbox.aliases == ()


def test_containers_carry_the_label_scheme_that_kubernetes_objects_carry() -> None:
    spec = container_specs(load_catalog(DEFAULT_CONFIG_DIR, "dev"))["mcpo"]
    assert container_labels(spec, stack="s1", environment="dev", fingerprint="abc") == {
        "mcpstack.io/service": "mcpo",
        "mcpstack.io/environment": "dev",
        "mcpstack.io/stack": "s1",
        "mcpstack.io/spec-hash": "abc",
    }
    for key in labels.KEYS:
        assert key.startswith(labels.PREFIX) and KUBERNETES_LABEL_KEY.match(key), key
    assert not KUBERNETES_LABEL_KEY.match("org.mcpstack.service/")  # the pattern rejects a bad key
