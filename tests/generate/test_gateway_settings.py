"""Every gateway config mcpstack generates parses into the gateway's own settings model.

The gateway runs in its own image and imports nothing of the tooling, so servers/gateway/settings.py
describes the `gateway` section a second time. These tests hold the two descriptions together: the
generated file of every environment is read by the gateway's own loader, nothing is dropped or
defaulted on the way (the parsed settings dump back to the generated section), and a key the gateway
does not know is refused rather than ignored.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import environments, load_catalog
from mcpstack.catalog.models import Catalog, GatewayService
from mcpstack.generate import GENERATORS, redacted
from servers.gateway.settings import GatewaySettings, load_config

ENVIRONMENTS = environments(DEFAULT_CONFIG_DIR)
GATEWAYS = [
    (environment, name)
    for environment in ENVIRONMENTS
    for name, service in load_catalog(DEFAULT_CONFIG_DIR, environment).services.items()
    if isinstance(service, GatewayService)
]


def generated(catalog: Catalog, gateway: str) -> dict[str, Any]:
    """The gateway config file as the stacks and the local runtime write it (secrets redacted)."""
    return json.loads(GENERATORS["gateway-config"].render(catalog, gateway, redacted))


def read_by_the_gateway(document: dict[str, Any], directory: Path) -> tuple[dict[str, Any], GatewaySettings]:
    """The config file written as the stacks mount it and read by the gateway's own loader."""
    path = directory / "config.json"
    path.write_text(json.dumps(document))
    return load_config(path)


def test_every_environment_has_a_gateway() -> None:
    assert {"dev", "prod"} <= set(ENVIRONMENTS)
    assert {environment for environment, _ in GATEWAYS} == set(ENVIRONMENTS)


@pytest.mark.parametrize(("environment", "gateway"), GATEWAYS, ids=[f"{e}-{g}" for e, g in GATEWAYS])
def test_generated_config_parses_into_the_gateway_settings(environment: str, gateway: str, tmp_path: Path) -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, environment)
    document = generated(catalog, gateway)

    servers, settings = read_by_the_gateway(document, tmp_path)

    assert settings.model_dump(mode="json") == document["gateway"]  # every key known, none defaulted
    spec = catalog.services[gateway]
    assert isinstance(spec, GatewayService)
    assert set(settings.routes) == set(spec.gateway.routes)
    assert {name: client.tenant for name, client in settings.clients.items()} == {
        name: client.tenant
        for name, client in spec.gateway.clients.items()
        if client.environments is None or environment in client.environments  # test keys: where asked only
    }
    assert [tenant.name for tenant in settings.tenants] == list(catalog.tenancy.tenants)
    assert settings.default_tenant == catalog.tenancy.default_tenant
    assert settings.identity_headers.model_dump() == spec.gateway.identity_headers.model_dump()
    upstreams = {u for route in settings.routes.values() for u in route.tenant_upstreams.values()}
    assert upstreams <= set(servers)  # every tenant upstream is a server mcpo runs


def _unknown_key_at(section: dict[str, Any], where: str) -> dict[str, Any]:
    """The section with an extra key `unknown_setting` in the mapping at `where` ("" = the top)."""
    broken = copy.deepcopy(section)
    target = broken
    for part in filter(None, where.split(".")):
        target = target[int(part)] if isinstance(target, list) else target[part]
    target["unknown_setting"] = True
    return broken


@pytest.mark.parametrize("where", ["", "routes.time", "clients.e2e", "tenants.0", "tenants.0.match", "rate_limits"])
def test_a_generated_key_the_gateway_does_not_know_is_refused(where: str, tmp_path: Path) -> None:
    document = generated(load_catalog(DEFAULT_CONFIG_DIR, "dev"), "mcpo")
    read_by_the_gateway(document, tmp_path)  # the unbroken file parses

    with pytest.raises(ValidationError) as refused:
        read_by_the_gateway({**document, "gateway": _unknown_key_at(document["gateway"], where)}, tmp_path)

    located = [".".join(map(str, error["loc"])) for error in refused.value.errors()]
    assert located == [f"{where}.unknown_setting".lstrip(".")]


def test_the_gateway_settings_are_frozen() -> None:
    settings = GatewaySettings.model_validate(generated(load_catalog(DEFAULT_CONFIG_DIR, "dev"), "mcpo")["gateway"])
    with pytest.raises(ValidationError):
        settings.public_docs = True  # type: ignore[misc]
