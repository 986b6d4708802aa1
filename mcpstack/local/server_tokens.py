"""The bearer token an MCP server of a local stack accepts: the catalog secret mounted at the file its
MCP_AUTH_TOKEN_FILE names (servers/common/upstream_auth.py). For the suites and benchmarks that call our servers
directly, as the gateway does; the gateway itself gets the same secret through its route's `headers`."""

from __future__ import annotations

from mcpstack.catalog.models import Catalog, GatewayRoute
from mcpstack.local.secrets import SecretStore

# servers/common/upstream_auth.py reads it (mcpstack does not import servers)
TOKEN_FILE_VARIABLE = "MCP_AUTH_TOKEN_FILE"  # noqa: S105 - the name of a variable, not a secret


class NoServerToken(LookupError):
    pass


def token_secret(catalog: Catalog, service: str) -> str:
    """The catalog secret `service` reads its accepted token from."""
    server = catalog.services[service]
    path = server.env.get(TOKEN_FILE_VARIABLE)
    if path is None:
        raise NoServerToken(f"services.{service} sets no {TOKEN_FILE_VARIABLE}: it checks no token")
    mounted = [ref.secret for ref in server.secrets if ref.file == str(path)]
    if not mounted:
        raise NoServerToken(f"services.{service}: no secret is mounted at its {TOKEN_FILE_VARIABLE} {path}")
    return mounted[0]


def server_token(catalog: Catalog, secrets: SecretStore, service: str) -> str:
    """The token value, e.g. server_token(stack.catalog, stack.secrets, "sandbox")."""
    return secrets.value(token_secret(catalog, service))


def route_headers(route: GatewayRoute, secrets: SecretStore) -> dict[str, str]:
    """The headers the gateway sends upstream on `route` (its catalog `headers`, secrets filled in)."""
    return {header: value.prefix + secrets.value(value.secret) for header, value in route.headers.items()}
