"""What the MCP front admitted a request as: the caller and the routes it reaches there, with their tools' names.

A route's endpoint (/mcp/ROUTE) reaches one route, and its tools keep the upstream's names. A virtual server's
(/mcp/NAME, `gateway.virtual_servers` in the catalog) reaches several routes, each tool named `ROUTE_TOOL`: route
names are DNS labels (no `_`), so the first `_` separates them, whatever the tool's own name holds. Only the routes
the caller's tenant may use are members; each member keeps its tenant's tool filter and its upstream (a tenant may
have an upstream of its own for a route).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from servers.gateway.tenancy import Caller
from servers.gateway.tool_list_watch import fingerprint
from servers.gateway.upstreams import Upstream

SEPARATOR = "_"


@dataclass(frozen=True)
class Member:
    """One route a request reaches: its upstream and the tools the caller may see there (None: all)."""

    route: str
    upstream: Upstream
    allowed: set[str] | None


@dataclass(frozen=True)
class FrontRequest:
    route: str  # the route, or the virtual server's name (metrics, logs, errors)
    caller: Caller
    correlation_id: str
    members: tuple[Member, ...]
    virtual: bool = False

    def exposed(self, member: Member, tool: str) -> str:
        """The name a client sees for `member`'s tool."""
        return f"{member.route}{SEPARATOR}{tool}" if self.virtual else tool

    def target(self, name: str) -> tuple[Member, str] | None:
        """The member and upstream tool name a client's tool name stands for; None when no member has it."""
        if not self.virtual:
            return self.members[0], name
        route, separator, tool = name.partition(SEPARATOR)
        member = next((m for m in self.members if m.route == route), None)
        return (member, tool) if member is not None and separator and tool else None

    @property
    def upstream_names(self) -> frozenset[str]:
        return frozenset(member.upstream.name for member in self.members)

    def fingerprint(self, listings: Sequence[Sequence[Any] | None]) -> str | None:
        """The fingerprint of what the caller sees, from each member's listing (in member order; None: not listed,
        its upstream is down). None when nothing is known; a virtual server's counts a member's absence."""
        if all(tools is None for tools in listings):
            return None
        parts = [
            fingerprint(tools, member.allowed) if tools is not None else "-"
            for member, tools in zip(self.members, listings, strict=True)
        ]
        if not self.virtual:
            return parts[0]
        joined = ",".join(f"{m.route}:{part}" for m, part in zip(self.members, parts, strict=True))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]
