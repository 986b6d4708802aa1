"""Who a tool call is for, as the key of the pool's per-caller share.

The gateway names the caller in the call's `_meta`: `"io.mcpstack/caller": {"client": ..., "tenant": ...,
"user": ...}` (the end user it verified, else its API client). One key per end user (by tenant), else per
client; a call that names nobody (a direct MCP client) is "anonymous", and all such calls share one share. The
name is as trustworthy as what may reach the server: in the stacks only the gateway may (NetworkPolicies).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servers.sandbox.pool import ANONYMOUS

META_KEY = "io.mcpstack/caller"
MAX_KEY_LENGTH = 300


def _field(value: Mapping[str, Any], name: str) -> str:
    text = value.get(name)
    return text.strip() if isinstance(text, str) else ""


def caller_key(meta: Mapping[str, Any] | None) -> str:
    """'user:TENANT/USER', 'client:CLIENT', a plain string the gateway sent, or 'anonymous'."""
    value = meta.get(META_KEY) if isinstance(meta, Mapping) else None
    if isinstance(value, Mapping):
        user, tenant, client = _field(value, "user"), _field(value, "tenant"), _field(value, "client")
        key = f"user:{tenant}/{user}" if user else f"client:{client}" if client else ""
    else:
        key = value.strip() if isinstance(value, str) else ""
    return key[:MAX_KEY_LENGTH] or ANONYMOUS
