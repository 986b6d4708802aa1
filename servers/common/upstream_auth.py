"""Our MCP servers trust only the gateway: every request but /health and /metrics must carry
`Authorization: Bearer TOKEN` with a token the server accepts, else it is answered 401 (issue 14, finding 4).

The accepted tokens come from the files named in `MCP_AUTH_TOKEN_FILE` (comma-separated; one token per non-blank
line, so a server can accept the old and the new token while a rotation rolls out). The catalog mounts one
Secret per server as that file (`mcp-server-token-time`, ...) and the gateway's route sends the same Secret as its
`Authorization` header (docs/gateway.md, "Trust model"). Secure by default: a named file that is missing,
unreadable or empty stops the server at start-up, naming the file; without `MCP_AUTH_TOKEN_FILE` it starts only
when `MCP_AUTH=none` says so explicitly (a developer's `python -m servers.timeserver`, unit tests): the catalog
never sets it. A refusal is logged with the peer, path and reason, never with what was presented.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_FILE_VARIABLE = "MCP_AUTH_TOKEN_FILE"  # noqa: S105 - the name of a variable, not a secret
MODE_VARIABLE = "MCP_AUTH"
NO_AUTH = "none"
PUBLIC_PATHS = ("/health", "/metrics")  # probes and Prometheus; everything else is the MCP transports
MIN_TOKEN_LENGTH = 16
REALM = "mcpstack-mcp-server"
logger = logging.getLogger("mcpstack.upstream_auth")


class UpstreamAuthError(RuntimeError):
    """The server's credential settings are unusable: it must not start."""


@dataclass(frozen=True)
class UpstreamAuth:
    """Who may call the MCP endpoints: bearers of one of `tokens`, or anyone when not `required` (MCP_AUTH=none)."""

    tokens: tuple[bytes, ...]
    required: bool = True
    source: str = ""  # where the tokens came from, for the start-up log line

    def __post_init__(self) -> None:
        if self.required and not self.tokens:
            raise UpstreamAuthError("a required upstream credential needs at least one accepted token")

    @classmethod
    def of(cls, *tokens: str, source: str = "") -> UpstreamAuth:
        return cls(tuple(token.encode("ascii") for token in tokens), source=source)

    @classmethod
    def disabled(cls) -> UpstreamAuth:
        return cls((), required=False, source=f"{MODE_VARIABLE}={NO_AUTH}")

    def refusal(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """Why a request with these headers is refused; None when it may pass."""
        if not self.required:
            return None
        values = [value for name, value in headers if name.lower() == b"authorization"]
        if not values:
            return "no Authorization header"
        if len(values) > 1:
            return "several Authorization headers"
        scheme, _, presented = values[0].strip().partition(b" ")
        if scheme.lower() != b"bearer" or not presented.strip():
            return "not a bearer credential"
        matched = False
        for token in self.tokens:  # every token compared: the time taken says nothing about which one is close
            matched |= hmac.compare_digest(presented.strip(), token)
        return None if matched else "unknown token"


def read_tokens(path: Path) -> list[str]:
    """The tokens of one file, one per non-blank line; UpstreamAuthError naming the file if it has none."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
        raise UpstreamAuthError(f"{TOKEN_FILE_VARIABLE}: cannot read the token file {path}: {reason}") from None
    tokens = [line.strip() for line in text.splitlines() if line.strip()]
    if not tokens:
        raise UpstreamAuthError(f"{TOKEN_FILE_VARIABLE}: the token file {path} is empty")
    for number, token in enumerate(tokens, 1):
        if len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or " " in token:
            raise UpstreamAuthError(
                f"{TOKEN_FILE_VARIABLE}: token {number} of {path} is not usable: at least {MIN_TOKEN_LENGTH} "
                "visible characters without spaces"
            )
    return tokens


def from_env(env: Mapping[str, str] | None = None) -> UpstreamAuth:
    """The credential check the environment asks for; UpstreamAuthError when it asks for none or an unusable one."""
    env = os.environ if env is None else env
    files = [name.strip() for name in env.get(TOKEN_FILE_VARIABLE, "").split(",") if name.strip()]
    mode = env.get(MODE_VARIABLE, "").strip().lower()
    if mode not in ("", NO_AUTH):
        raise UpstreamAuthError(f"{MODE_VARIABLE}={mode!r}: the only value is {NO_AUTH!r} (accept any caller)")
    if files and mode == NO_AUTH:
        raise UpstreamAuthError(f"{MODE_VARIABLE}={NO_AUTH} and {TOKEN_FILE_VARIABLE} are both set: choose one")
    if files:
        auth = UpstreamAuth.of(*(token for name in files for token in read_tokens(Path(name))), source=", ".join(files))
        logger.info("MCP requests need a bearer token from %s (%d accepted)", auth.source, len(auth.tokens))
        return auth
    if mode == NO_AUTH:
        logger.warning("%s=%s: any caller that reaches this server may call its tools", MODE_VARIABLE, NO_AUTH)
        return UpstreamAuth.disabled()
    raise UpstreamAuthError(
        f"no credential for MCP callers: set {TOKEN_FILE_VARIABLE} to a file of accepted bearer tokens (one per "
        f"line), or {MODE_VARIABLE}={NO_AUTH} to accept any caller (only where nothing else can reach the server)"
    )


def refusal_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "mcp_unauthorized_requests",
        "MCP requests refused for want of the gateway's credential, by reason",
        ["reason"],
        registry=registry,
    )


class RequireBearer:
    """ASGI middleware: requests outside PUBLIC_PATHS without an accepted bearer token get a 401, counted by reason."""

    def __init__(self, app: ASGIApp, auth: UpstreamAuth, refused: Counter) -> None:
        self.app = app
        self.auth = auth
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        reason = self.auth.refusal(scope["headers"])
        if reason is None:
            await self.app(scope, receive, send)
            return
        self.refused.labels(reason).inc()
        peer = scope.get("client")
        logger.warning(
            "refused an MCP request: %s",
            reason,
            extra={
                "fields": {"peer": f"{peer[0]}:{peer[1]}" if peer else None, "path": scope["path"], "reason": reason}
            },
        )
        await unauthorized(send, presented=reason != "no Authorization header")


async def unauthorized(send: Send, *, presented: bool) -> None:
    """401 with a JSON-RPC-shaped error (what an MCP client reads) that never repeats the request."""
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if presented else "")
    error = {"code": -32001, "message": "Unauthorized: this MCP server answers the mcpstack gateway only"}
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", challenge.encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
