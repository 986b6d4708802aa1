"""Which tenant a request belongs to, which tools it may see and call, and which upstream serves it.

Identity: a client trusted to forward user identity (Open WebUI with ENABLE_FORWARD_USER_INFO_HEADERS)
sends the end user's id, e-mail and role in headers; the first tenant whose match rules fit the user
wins. A request without forwarded identity belongs to its client's tenant. Anyone else gets the
default tenant, and with no default tenant is denied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servers.gateway.settings import GatewaySettings, TenantSettings


@dataclass(frozen=True)
class Caller:
    client: str
    tenant: str | None
    user_id: str | None = None
    email: str | None = None
    role: str | None = None

    @property
    def rate_limit_key(self) -> str:
        # per end user when the client forwards users, else per client (key name)
        return f"{self.client}:{self.user_id}" if self.user_id else self.client


def _matches(tenant: TenantSettings, email: str | None, role: str | None) -> bool:
    rules = tenant.match
    email = (email or "").lower()
    domain = email.rpartition("@")[2] if "@" in email else ""
    return bool(
        (email and email in {e.lower() for e in rules.emails})
        or (domain and domain in {d.lower() for d in rules.email_domains})
        or (role and role in rules.roles)
    )


class TenantPolicy:
    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings

    def identify(self, client: str, headers: Mapping[str, str]) -> Caller:
        config = self._settings.clients[client]
        names = self._settings.identity_headers
        user_id = headers.get(names.user_id.lower()) if config.forwards_user_identity else None
        email = headers.get(names.email.lower()) if config.forwards_user_identity else None
        role = headers.get(names.role.lower()) if config.forwards_user_identity else None
        if not (user_id or email):
            return Caller(client, config.tenant)
        tenant = next(
            (t.name for t in self._settings.tenants if _matches(t, email, role)), self._settings.default_tenant
        )
        return Caller(client, tenant, user_id or email, email, role)

    def allowed_tools(self, caller: Caller, route: str) -> set[str] | None:
        """None: every tool of the route; empty set: the route is not allowed at all."""
        tenant = self._settings.tenant(caller.tenant)
        if tenant is None or route not in tenant.tools:
            return set()
        tools = tenant.tools[route]
        return None if tools == "*" else set(tools)

    def may_call(self, caller: Caller, route: str, tool: str) -> bool:
        tenant = self._settings.tenant(caller.tenant)
        if tenant is None or not tenant.calls:
            return False
        allowed = self.allowed_tools(caller, route)
        return allowed is None or tool in allowed

    def upstream(self, caller: Caller, route: str) -> str:
        """The mcpo server that serves `route` for this caller (tenant credentials get their own)."""
        settings = self._settings.routes.get(route)
        if settings and caller.tenant in settings.tenant_upstreams:
            return settings.tenant_upstreams[caller.tenant]
        return route


def filter_openapi(spec: dict[str, Any], allowed: set[str] | None, route: str) -> dict[str, Any]:
    """The route's OpenAPI spec with only the allowed tools, served as if from /ROUTE."""
    filtered = dict(spec)
    if allowed is not None:
        filtered["paths"] = {p: ops for p, ops in spec.get("paths", {}).items() if p.strip("/") in allowed}
    filtered["servers"] = [{"url": f"/{route}"}]
    return filtered
