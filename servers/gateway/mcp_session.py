"""The MCP client session mcpo uses, adjusted for the gateway.

mcpo creates `ClientSession`s itself; the class its module uses is replaced by this subclass:

- every tools/call carries the request's correlation ID in `_meta` (`io.mcpstack/correlation-id`), so
  the MCP server can log it;
- tool results are validated against the tool's output schema as before, but with one compiled
  validator per schema: the SDK's `jsonschema.validate` checks the schema itself on every call, which
  profiling showed to be over a third of the gateway's CPU per tool call.

And the HTTP transports mcpo opens (streamable HTTP and SSE) get an HTTP client that isolates each call's
exchange (isolation.py: a broken reply fails that call, not the session), holds at most 50 connections to an
upstream (the design's limit; httpcore also scans every pooled connection per request) and a 1.5 s connect
timeout: between containers a TCP connect takes well under a millisecond (and a dropped SYN is retried after
1 s), so an upstream that cannot be connected to in 1.5 s is gone, and the route is dropped (isolation.py)
rather than every call waiting for it.
"""

from __future__ import annotations

import functools
from typing import Any

import httpx
import mcpo.main
from jsonschema import SchemaError, ValidationError
from jsonschema.validators import validator_for
from mcp import ClientSession
from mcp import types as mcp_types
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamablehttp_client
from referencing import Registry
from referencing.exceptions import Unresolvable

from servers.gateway.context import correlation_id
from servers.gateway.isolation import IsolatingTransport, Mode

META_KEY = "io.mcpstack/correlation-id"
MAX_CONNECTIONS_PER_UPSTREAM = 50
CONNECT_TIMEOUT_SECONDS = 1.5
WRITE_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 300.0  # the gateway's own per-call time limit is the one that matters
# An idle pooled connection is dropped before the upstream's own keep-alive limit (uvicorn: 5 s) closes it, so a
# call never goes out on a connection the server is closing at that moment.
KEEPALIVE_EXPIRY_SECONDS = 2.0


class GatewayClientSession(ClientSession):
    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *args: Any,
        meta: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> mcp_types.CallToolResult:
        return await super().call_tool(
            name, arguments, *args, meta={**(meta or {}), META_KEY: correlation_id()}, **kwargs
        )

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


def upstream_http_client(
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    auth: httpx.Auth | None = None,
    *,
    mode: Mode = "reply",
) -> httpx.AsyncClient:
    read = timeout.read if timeout and timeout.read else READ_TIMEOUT_SECONDS
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS_PER_UPSTREAM,
        max_keepalive_connections=MAX_CONNECTIONS_PER_UPSTREAM,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    return httpx.AsyncClient(
        headers=headers,
        auth=auth,
        transport=IsolatingTransport(httpx.AsyncHTTPTransport(limits=limits), mode),
        follow_redirects=False,
        timeout=httpx.Timeout(
            connect=CONNECT_TIMEOUT_SECONDS,
            read=read,
            write=WRITE_TIMEOUT_SECONDS,
            pool=read,  # waiting for one of the 50 connections: bounded by the gateway's own time limit
        ),
    )


def install() -> None:
    mcpo.main.ClientSession = GatewayClientSession  # type: ignore[misc]
    mcpo.main.streamablehttp_client = functools.partial(  # type: ignore[assignment]
        streamablehttp_client, httpx_client_factory=upstream_http_client
    )
    mcpo.main.sse_client = functools.partial(  # type: ignore[assignment]
        sse_client, httpx_client_factory=functools.partial(upstream_http_client, mode="accept")
    )
