"""Which tenant a request belongs to, which tools it may see and call, and which upstream serves it.

Identity: a request belongs to its client's tenant (the API key's) unless it carries an end user whose identity
Open WebUI signed (identity.py), from a client that forwards users; then the first tenant whose rules fit the
user wins (exact e-mail, exact domain of a well-formed address, role, exact Open WebUI group name), else the
default tenant, else it is denied. Groups are not in the signed identity: they are asked of Open WebUI for the
verified user id (user_directory.py), and only when the decision reaches a tenant whose other rules do not fit and
that matches groups - a request decided before that never waits for Open WebUI.
Plain X-OpenWebUI-User-* headers never choose a tenant or a role: from a client that forwards users, a plain
user id only gives that user a rate-limit bucket of its own inside the client's share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servers.gateway.identity import UserIdentityVerifier, VerifiedUser, email_domain
from servers.gateway.settings import GatewaySettings, TenantSettings
from servers.gateway.user_directory import UserDirectory

MAX_USER_ID_LENGTH = 256


@dataclass(frozen=True)
class Caller:
    client: str
    tenant: str | None
    user_id: str | None = None
    email: str | None = None
    role: str | None = None
    verified: bool = False  # the user came signed by Open WebUI (else: none, or a plain id for rate limits only)


def _matches(tenant: TenantSettings, email: str | None, role: str | None) -> bool:
    rules = tenant.match
    domain = email_domain(email)
    address = email.lower() if email and domain else None
    return bool(
        (address and address in {e.lower() for e in rules.emails})
        or (domain and domain in {d.lower() for d in rules.email_domains})
        or (role and role in rules.roles)
    )


class TenantPolicy:
    def __init__(
        self,
        settings: GatewaySettings,
        verifier: UserIdentityVerifier | None = None,
        directory: UserDirectory | None = None,
    ) -> None:
        if directory is None and any(t.match.groups for t in settings.tenants):
            raise ValueError("a tenant rule matches groups, but no user_directory is configured to look them up")
        self._settings = settings
        self._verifier = verifier or UserIdentityVerifier(None)
        self._directory = directory

    @property
    def directory(self) -> UserDirectory | None:
        """Where the policy looks up signed users' groups (None: no tenant rule needs them)."""
        return self._directory

    async def aclose(self) -> None:
        """Release what the policy holds open: the user directory's connections."""
        if self._directory is not None:
            await self._directory.aclose()

    async def identify(self, client: str, headers: Mapping[str, str]) -> Caller:
        """The caller of a request; raises identity.InvalidIdentity for a signed identity that does not verify,
        edge.Refusal `identity-unavailable` when its tenant depends on groups Open WebUI cannot answer now."""
        config = self._settings.clients[client]
        if not config.forwards_user_identity:
            return Caller(client, config.tenant)
        names = self._settings.identity_headers
        token = headers.get(names.jwt.lower())
        if token is not None:
            user = self._verifier.verify(token)
            tenant = await self._tenant_of(user)
            return Caller(client, tenant, user.id, user.email, user.role, verified=True)
        asserted = (headers.get(names.user_id.lower()) or "")[:MAX_USER_ID_LENGTH]
        return Caller(client, config.tenant, asserted or None)

    async def _tenant_of(self, user: VerifiedUser) -> str | None:
        """The first tenant whose rules fit the verified user; its groups are looked up only once a tenant needs
        them, at most once per request."""
        groups: frozenset[str] | None = None
        for tenant in self._settings.tenants:
            if _matches(tenant, user.email, user.role):
                return tenant.name
            if tenant.match.groups and self._directory is not None:
                if groups is None:
                    groups = await self._directory.groups(user.id)
                if groups & set(tenant.match.groups):
                    return tenant.name
        return self._settings.default_tenant

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
