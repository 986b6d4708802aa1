"""What every tools/call the gateway sends upstream carries in `_meta`: the request's correlation ID, so the server
can log it, and the caller, so the server can give each caller its own share (the sandbox's pool:
servers/sandbox/caller.py).

The caller is `{"client", "tenant", "user"}`: the API client, its tenant, and the end user only when the gateway
verified them (a user id a client merely asserts could be rotated to get fresh shares; such calls count as the
client's). Both fronts name the caller once they have identified it (`name_caller`); the upstream call, running
in the same request's context, reads it back.
"""

from __future__ import annotations

import contextvars
from typing import Any

from servers.gateway.context import caller as log_caller
from servers.gateway.context import correlation_id
from servers.gateway.tenancy import Caller

CORRELATION_KEY = "io.mcpstack/correlation-id"
CALLER_KEY = "io.mcpstack/caller"
_named: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("upstream_caller", default=None)


def name_caller(caller: Caller) -> None:
    """The caller upstream calls made in this request's context are made for."""
    user = caller.user_id if caller.verified and caller.user_id else ""
    _named.set({"client": caller.client, "tenant": caller.tenant or "", "user": user})


def upstream_meta() -> dict[str, Any]:
    """The `_meta` entries of an upstream tools/call made in the current request's context."""
    named = _named.get()
    if named is None:  # not named (yet): the client and tenant the request's log context knows
        fields = log_caller()
        named = {"client": fields.get("client", ""), "tenant": fields.get("tenant", "").strip("-"), "user": ""}
    return {CORRELATION_KEY: correlation_id(), CALLER_KEY: named}
