"""The catalog's allowed names (MCP_ALLOWED_HOSTS) let through every caller the catalog itself sends to our MCP
servers: the gateway's upstream URL of each route, in every environment (no Docker needed)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from e2e.conformance.conftest import SERVERS
from mcpstack.catalog import load_catalog
from mcpstack.catalog.discovery import find_config_dir
from mcpstack.catalog.models import GatewayService
from mcpstack.generate.gateway import upstream_url
from servers.common.rebinding import transport_security
from servers.common.tests.test_rebinding import accepts

ENVIRONMENTS = sorted(path.stem for path in (find_config_dir().path / "environments").glob("*.yaml"))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_gateway_route_to_our_servers_names_an_allowed_host(environment: str) -> None:
    catalog = load_catalog(find_config_dir().path, environment)
    checked = []
    for gateway in (s for s in catalog.services.values() if isinstance(s, GatewayService)):
        for route in gateway.gateway.routes.values():
            if route.service not in SERVERS:
                continue
            _, url = upstream_url(catalog, route)
            env = {key: str(value) for key, value in catalog.services[route.service].env.items()}
            assert accepts(transport_security(env), urlsplit(url).netloc), (route.service, url, env)
            checked.append(route.service)
    assert set(checked) == set(SERVERS)
