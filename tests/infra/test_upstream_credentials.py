"""Only the gateway may call our MCP servers, in the dev and prod stacks too (issue 14, finding 4): each server's
token is a Secret of its own, mounted into the server as the file MCP_AUTH_TOKEN_FILE names (never an env variable:
those show in `kubectl describe` and `docker inspect`), and sent by the gateway as its route's Authorization
header from its generated config, itself a Secret; the value appears in no ConfigMap, env value or chart value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.render import Rendered
from mcpstack.generate import redacted
from tests.infra.conftest import container, env, obj, objects, secret_data

SERVERS = {"time": "mcp-server-token-time", "sandbox": "mcp-server-token-sandbox"}
TOKEN_FILE = "/run/secrets/mcp-auth/token"


@pytest.fixture(params=["dev", "prod"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize(("server", "secret"), sorted(SERVERS.items()))
def test_each_server_mounts_its_own_token_secret_as_the_file_it_reads(
    rendered: Rendered, server: str, secret: str
) -> None:
    assert secret_data(rendered, f"{server}-secrets") == {secret: redacted(secret)}
    main = container(rendered, server)
    assert env(main["env"])["MCP_AUTH_TOKEN_FILE"]["value"] == TOKEN_FILE
    assert "MCP_AUTH" not in env(main["env"])  # never switched off in a deployed stack
    mount = next(m for m in main["volumeMounts"] if m["mountPath"] == TOKEN_FILE)
    assert mount["subPath"] == secret and mount["readOnly"] is True
    pod = obj(rendered, "Deployment", server)["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == f"{server}-secrets"
    assert volume["secret"]["defaultMode"] == 0o440  # owner root, group fsGroup: the server's user only


@pytest.mark.parametrize(("server", "secret"), sorted(SERVERS.items()))
def test_the_gateway_sends_that_token_on_the_servers_route_from_a_secret(
    rendered: Rendered, server: str, secret: str
) -> None:
    config = json.loads(secret_data(rendered, "mcpo-generated")["gateway-config"])
    assert config["mcpServers"][server]["headers"] == {"Authorization": f"Bearer {redacted(secret)}"}
    assert f"{server}:" in config["mcpServers"][server]["url"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_no_token_appears_outside_a_secret(rendered: Rendered) -> None:
    placeholders = [redacted(secret) for secret in SERVERS.values()]
    for resource in rendered.resources:
        if not resource.custom or resource.body is None or resource.is_provider:
            continue
        if resource.is_kubernetes_object and resource.body["kind"] == "Secret":
            continue
        leaked = [text for text in _strings(resource.body) if any(p in text for p in placeholders)]
        assert not leaked, f"{resource.type} {resource.name} carries a server token"
    assert objects(rendered, "ConfigMap"), "the render has ConfigMaps to check"


def test_every_route_to_our_servers_carries_the_token_of_its_server(rendered: Rendered) -> None:
    """The catalog's pairing, per environment: the header secret of every route is the one its server mounts."""
    routes = rendered.catalog.services["mcpo"].gateway.routes  # type: ignore[union-attr]
    for name, route in routes.items():
        if route.service in SERVERS:
            assert route.headers["Authorization"].secret == SERVERS[route.service], name
            assert route.headers["Authorization"].prefix == "Bearer ", name
