"""The MCP client session mcpo uses, adjusted for the gateway.

mcpo creates `ClientSession`s and opens their transports itself; the names its module uses are replaced:

- the streamable-HTTP transport gets the gateway's HTTP client (upstream_client.py: pooled, call-isolating, the
  route's headers on every request), and the session remembers which transport, URL and client it runs on;
- a tools/call to such an upstream, once initialized and stateless (no session id), goes out as one POST on that
  client (lean_exchange.py) instead of through the SDK's session machinery, which profiling showed to be 40-49% of
  the gateway's CPU per call; it runs in the caller's task, so a caller that goes away or times out cancels the
  upstream request. Anything else (stdio, SSE, a stateful upstream, initialize, tools/list, ping) stays on the SDK;
  a tools/call there runs detached from its caller, and a caller that is cancelled sends the upstream
  `notifications/cancelled` instead of cancelling inside the SDK (upstream_cancel.py);
- every tools/call carries the request's correlation ID and caller in `_meta` (upstream_meta.py);
- an upstream's `notifications/tools/list_changed` sets the session's `tools_changed` event (the SDK's
  `message_handler`), on which tool_list_watch.py lists its tools again;
- tool results are validated against the tool's output schema as before, but with one compiled validator per
  schema: the SDK's `jsonschema.validate` checks the schema itself on every call, which profiling showed to be
  over a third of the gateway's CPU per tool call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import mcpo.main
from jsonschema import SchemaError, ValidationError
from jsonschema.validators import validator_for
from mcp import ClientSession
from mcp import types as mcp_types
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError
from referencing import Registry
from referencing.exceptions import Unresolvable

from servers.gateway import lean_exchange, upstream_cancel
from servers.gateway.upstream_client import MAX_CONNECTIONS_PER_UPSTREAM, upstream_http_client
from servers.gateway.upstream_meta import upstream_meta


@dataclass(frozen=True)
class _Transport:
    """A streamable-HTTP transport mcpo opened: its endpoint, HTTP client and session id (None: stateless)."""

    url: str
    client: httpx.AsyncClient
    session_id: Callable[[], str | None]
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_CONNECTIONS_PER_UPSTREAM))


_transports: dict[Any, _Transport] = {}  # by the read stream the transport handed to mcpo (and mcpo to its session)


@contextlib.asynccontextmanager
async def streamable_http(
    url: str, headers: dict[str, str] | None = None, auth: httpx.Auth | None = None
) -> AsyncIterator[Any]:
    """The SDK's streamable-HTTP transport (as mcpo opens it: URL, the route's headers, auth) on the gateway's HTTP
    client, remembered for the lean exchange."""
    clients: list[httpx.AsyncClient] = []

    def factory(
        headers: dict[str, str] | None = None, timeout: httpx.Timeout | None = None, auth: httpx.Auth | None = None
    ) -> httpx.AsyncClient:
        clients.append(upstream_http_client(headers, timeout, auth))
        return clients[-1]

    async with streamablehttp_client(url, headers, httpx_client_factory=factory, auth=auth) as streams:
        _transports[streams[0]] = _Transport(url, clients[-1], streams[2])
        try:
            yield streams
        finally:
            _transports.pop(streams[0], None)


class GatewayClientSession(ClientSession):
    def __init__(self, read_stream: Any, write_stream: Any, *args: Any, **kwargs: Any) -> None:
        self.tools_changed = asyncio.Event()
        kwargs.setdefault("message_handler", self._on_message)
        super().__init__(read_stream, write_stream, *args, **kwargs)
        self._transport = _transports.get(read_stream)
        self._protocol_version: str | None = None
        self._lean_ids = itertools.count(1)

    async def _on_message(self, message: Any) -> None:
        """What the upstream sends on its own: a tool-list change is noted; the rest is ignored, as by default."""
        if isinstance(message, mcp_types.ServerNotification) and isinstance(
            message.root, mcp_types.ToolListChangedNotification
        ):
            self.tools_changed.set()

    async def initialize(self) -> mcp_types.InitializeResult:
        result = await super().initialize()
        self._protocol_version = result.protocolVersion
        return result

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        read_timeout_seconds: Any = None,
        progress_callback: Any = None,
        *,
        meta: dict[str, Any] | None = None,
    ) -> mcp_types.CallToolResult:
        meta = {**(meta or {}), **upstream_meta()}
        target = self._lean_target()
        if target is None:  # on the SDK's session, never cancelled inside it (upstream_cancel.py)
            timeout = read_timeout_seconds or upstream_cancel.read_timeout()
            sdk_call = super().call_tool
            return await upstream_cancel.call_detached(
                self, lambda: sdk_call(name, arguments, timeout, progress_callback, meta=meta)
            )
        try:
            result = await lean_exchange.call_tool(
                target, next(self._lean_ids), name, arguments, meta, progress_callback
            )
        except lean_exchange.UpstreamError as exc:
            raise McpError(exc.error) from None
        if not result.isError:
            await self._validate_tool_result(name, result)
        return result

    def _lean_target(self) -> lean_exchange.Target | None:
        """Where a lean tools/call goes; None while the upstream is not a stateless, initialized one."""
        transport, version = self._transport, self._protocol_version
        if transport is None or version is None or transport.session_id():
            return None
        return lean_exchange.Target(transport.url, transport.client, version, transport.slots)

    async def _validate_tool_result(self, name: str, result: mcp_types.CallToolResult) -> None:
        if name not in self._tool_output_schemas:
            await self.list_tools()
        schema = self._tool_output_schemas.get(name)
        if schema is None:
            return
        if result.structuredContent is None:
            raise RuntimeError(f"Tool {name} has an output schema but did not return structured content")
        try:
            self._validator(name, schema).validate(result.structuredContent)
        except ValidationError as exc:
            raise RuntimeError(f"Invalid structured content returned by tool {name}: {exc.message}") from None
        except (SchemaError, Unresolvable) as exc:
            raise RuntimeError(f"Invalid schema for tool {name}: {exc}") from None

    def _validator(self, name: str, schema: dict[str, Any]) -> Any:
        cache: dict[str, tuple[dict[str, Any], Any]] = self.__dict__.setdefault("_mcpstack_validators", {})
        cached = cache.get(name)
        if cached is None or cached[0] is not schema:  # re-listing tools replaces the schema object
            cls = validator_for(schema)
            cls.check_schema(schema)
            cached = cache[name] = (schema, cls(schema, registry=Registry()))
        return cached[1]


def install() -> None:
    mcpo.main.ClientSession = GatewayClientSession  # type: ignore[misc]
    mcpo.main.streamablehttp_client = streamable_http  # type: ignore[assignment]
    mcpo.main.sse_client = functools.partial(  # type: ignore[assignment]
        sse_client, httpx_client_factory=functools.partial(upstream_http_client, mode="accept")
    )
