"""The gateway's settings: the `gateway` section of the config file mcpstack generates from the catalog
(mcpstack/generate/gateway.py). mcpo reads the `mcpServers` section of the same file."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_ENV = "MCPSTACK_GATEWAY_CONFIG"  # the config file's path, for every worker process


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(functools.cached_property,))


class RouteSettings(_Settings):
    required: bool = True
    tenant_upstreams: dict[str, str] = Field(default_factory=dict)  # tenant -> mcpo server name


class VirtualServerSettings(_Settings):
    routes: list[str]  # served together at /mcp/NAME, each tool as ROUTE_TOOL (front_request.py)


class ClientSettings(_Settings):
    key_file: str
    tenant: str | None = None
    forwards_user_identity: bool = False


class TenantMatch(_Settings):
    emails: list[str] = Field(default_factory=list)
    email_domains: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)  # exact Open WebUI group names, looked up (user_directory.py)


class TenantSettings(_Settings):
    name: str
    match: TenantMatch = TenantMatch()
    tools: dict[str, Literal["*"] | list[str]] = Field(default_factory=dict)
    calls: bool = True  # false: discovery only (OpenAPI specs), no tool calls


class RateLimitSettings(_Settings):
    per_client_per_minute: int = 100  # a client's bucket; each forwarded user's bucket
    global_per_minute: int = 1000
    forwarding_client_share: float = 0.8  # of the global limit: the bucket of a client that forwards users
    redis_url: str | None = None  # no credentials: the password comes from redis_password_file
    redis_password_file: str | None = None  # the mounted Redis password secret (read at start)


class LimitSettings(_Settings):
    """Edge limits, applied before a request reaches mcpo (docs/gateway.md lists each one's catalog key)."""

    max_body_bytes: int = 262_144
    max_json_depth: int = 32
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 10.0
    max_concurrent_requests_per_client: int = 32
    concurrency_wait_seconds: float = 2.0
    max_event_streams_per_caller: int = 8  # the MCP front's GET streams (mcp_event_stream.py)
    max_event_streams: int = 1024


class IdentityHeaders(_Settings):
    user_id: str = "X-OpenWebUI-User-Id"
    email: str = "X-OpenWebUI-User-Email"
    role: str = "X-OpenWebUI-User-Role"
    name: str = "X-OpenWebUI-User-Name"
    jwt: str = "X-OpenWebUI-User-Jwt"


class PublicDetails(_Settings):
    """What the status endpoints tell a caller without a key (their status codes are always public)."""

    ready: bool = False
    metrics: bool = True


class UserDirectorySettings(_Settings):
    """Open WebUI, asked for a signed user's groups with an admin's API key read from `key_file`."""

    url: str
    key_file: str
    cache_seconds: float = 60.0
    timeout_seconds: float = 2.0
    max_cached_users: int = 10_000


class GatewaySettings(_Settings):
    routes: dict[str, RouteSettings]
    clients: dict[str, ClientSettings]
    virtual_servers: dict[str, VirtualServerSettings] = Field(default_factory=dict)
    tenants: list[TenantSettings] = Field(default_factory=list)
    default_tenant: str | None = None
    timeout_seconds: float = 30.0
    tool_list_refresh_seconds: float = 30.0  # tool_list_watch.py
    rate_limits: RateLimitSettings = RateLimitSettings()
    cors_origins: list[str] = Field(default_factory=list)
    public_docs: bool = False
    identity_headers: IdentityHeaders = IdentityHeaders()
    user_identity_secret_file: str | None = None  # HS256 key of the signed user identities (Open WebUI's)
    user_directory: UserDirectorySettings | None = None  # where tenant rules on `groups` look them up
    limits: LimitSettings = LimitSettings()
    public_details: PublicDetails = PublicDetails()
    workers: int | None = None  # processes; None: the CPUs this container may use (workers.py)

    @model_validator(mode="after")
    def _virtual_servers_gather_routes(self) -> GatewaySettings:
        for name, virtual in self.virtual_servers.items():
            if name in self.routes:
                raise ValueError(f"virtual server {name!r} has a route's name: both would be /mcp/{name}")
            unknown = [route for route in virtual.routes if route not in self.routes]
            if unknown:
                raise ValueError(f"virtual server {name!r} names unknown routes: {', '.join(unknown)}")
        return self

    def tenant(self, name: str | None) -> TenantSettings | None:
        return self._tenants_by_name.get(name) if name else None

    @functools.cached_property
    def _tenants_by_name(self) -> dict[str, TenantSettings]:
        return {t.name: t for t in self.tenants}


def load_config(path: str | Path) -> tuple[dict[str, Any], GatewaySettings]:
    """(mcpo's mcpServers, gateway settings) from the generated config file."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return document["mcpServers"], GatewaySettings.model_validate(document["gateway"])
