"""The MCP front's upstream side: each route's tools and tool calls over the upstream's supervised session.

No new connections: a call goes out through the `ClientSession` mcpo keeps per upstream (upstreams.py supervises
it; mcp_session.py sends its tools/calls to a stateless streamable-HTTP upstream as one POST each, lean_exchange.py,
on the pooled, call-isolating HTTP client, with the correlation ID and caller in `_meta`), so the MCP front and the
OpenAPI path share one pool of HTTP connections per upstream. The tool list is fetched once per
connection and again whenever tool_list_watch.py asks (the upstream said its tools changed, or the refresh interval
passed); a listing that differs from the one before it is published as a change. Tools are handed to clients as the
upstream declared them: input and output schemas, annotations, titles.

A call ends one of five ways, each for that call alone: the upstream's result (an `isError` result included),
the upstream's own JSON-RPC error, `bad-upstream-reply` when its exchange failed (isolation.py),
`upstream-unavailable` when the upstream could not be reached or the connection is lost meanwhile, or
`upstream-timeout` after the gateway's time limit. Cancelling a call (the client went away, or the time limit)
cancels only it, its upstream request included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from mcp import ClientSession
from mcp.shared.exceptions import McpError
from mcp.shared.session import ProgressFnT
from mcp.types import INVALID_PARAMS, CallToolResult, Tool

from servers.gateway import errors, isolation, problems
from servers.gateway.mcp_errors import ProblemError
from servers.gateway.tool_list_watch import fingerprint
from servers.gateway.upstreams import Upstream, describe_error


def current_session(upstream: Upstream) -> ClientSession | None:
    manager = getattr(upstream.app.state, "session_manager", None)
    return manager.current_session if manager is not None and upstream.available else None


def unavailable(upstream: Upstream, route: str, why: str | None = None) -> ProblemError:
    upstream.suspect()  # traffic for a down upstream: try to reconnect now (at most once a second)
    detail = why or f"the {route!r} tool server is {upstream.state}; retry later"
    return ProblemError(problems.UPSTREAM_UNAVAILABLE, detail, retry_after=upstream.retry_after())


class UpstreamTools:
    def __init__(self, timeout_seconds: float, on_change: Callable[[str], None] = lambda upstream: None) -> None:
        self.timeout_seconds = timeout_seconds
        self.on_change = on_change  # called with the upstream's name when a listing differs from the one before
        self._lists: dict[str, tuple[tuple[int, float], list[Tool]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def latest(self, upstream: str) -> list[Tool] | None:
        """The upstream's tools as last listed (None: never listed)."""
        cached = self._lists.get(upstream)
        return cached[1] if cached is not None else None

    async def refresh(self, upstream: Upstream) -> bool:
        """List the upstream's tools again now, whatever is cached; whether they changed."""
        _, changed = await self._listing(upstream, upstream.name, fresh=True)
        return changed

    async def tools(self, upstream: Upstream, route: str) -> list[Tool]:
        """The upstream's tools as it lists them, fetched once per connection."""
        tools, _ = await self._listing(upstream, route, fresh=False)
        return tools

    async def _listing(self, upstream: Upstream, route: str, *, fresh: bool) -> tuple[list[Tool], bool]:
        """The upstream's tools (cached for the connection unless `fresh`), and whether this listing found them
        changed from the one before it (then `on_change` was told)."""
        session = current_session(upstream)
        if session is None:
            raise unavailable(upstream, route)
        epoch = (id(session), upstream.since)
        cached = self._lists.get(upstream.name)
        if not fresh and cached is not None and cached[0] == epoch:
            return cached[1], False
        async with self._locks.setdefault(upstream.name, asyncio.Lock()):
            cached = self._lists.get(upstream.name)
            if not fresh and cached is not None and cached[0] == epoch:
                return cached[1], False
            listed = await self._bounded(upstream, route, self._list_all(session))
            self._lists[upstream.name] = (epoch, listed)
            changed = cached is not None and fingerprint(cached[1], None) != fingerprint(listed, None)
            if changed:
                self.on_change(upstream.name)
            return listed, changed

    @staticmethod
    async def _list_all(session: ClientSession) -> list[Tool]:
        tools: list[Tool] = []
        cursor = None
        while True:
            page = await session.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.nextCursor
            if not cursor:
                return tools

    async def call(
        self, upstream: Upstream, route: str, name: str, arguments: dict[str, Any], progress: ProgressFnT | None
    ) -> CallToolResult:
        session = current_session(upstream)
        if session is None:
            raise unavailable(upstream, route)
        epoch = upstream.since
        call = session.call_tool(name, arguments, progress_callback=progress)
        return await self._bounded(upstream, route, call, epoch)

    async def _bounded(self, upstream: Upstream, route: str, work: Any, epoch: float | None = None) -> Any:
        """`work` raced against the loss of the connection and the time limit; failures become problems."""
        call = asyncio.ensure_future(work)
        lost = asyncio.ensure_future(upstream.wait_lost())
        try:
            done, _ = await asyncio.wait(
                {call, lost}, timeout=self.timeout_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:  # cancelled: the client went away; this call alone stops
            call.cancel()
            raise
        finally:
            lost.cancel()
        if call in done:
            return _result(call, upstream, route, epoch)
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        if lost in done:
            raise unavailable(upstream, route, f"the connection to the {route!r} tool server was lost")
        limit = self.timeout_seconds
        raise ProblemError(problems.UPSTREAM_TIMEOUT, f"no answer from {route!r} within {limit:g} s")


def _result(call: asyncio.Future[Any], upstream: Upstream, route: str, epoch: float | None) -> Any:
    try:
        return call.result()
    except McpError as exc:  # the upstream's own JSON-RPC error, e.g. unknown tool or invalid arguments
        failure = isolation.failure_kind(exc.error.data)
        if failure == isolation.UNREACHABLE:
            upstream.lose(exc.error.message, epoch)
        if failure in (isolation.UNREACHABLE, isolation.LOST) or errors.is_connection_error(exc):
            raise unavailable(upstream, route, f"the connection to the {route!r} tool server was lost") from None
        if failure == isolation.BAD_REPLY:
            raise ProblemError(problems.BAD_UPSTREAM_REPLY, f"the {route!r} tool server sent a broken reply") from None
        kind = problems.INVALID_ARGUMENTS if exc.error.code == INVALID_PARAMS else problems.TOOL_ERROR
        raise ProblemError(kind, exc.error.message, upstream_code=exc.error.code) from None
    except Exception as exc:
        if errors.is_connection_error(exc):
            raise unavailable(upstream, route, f"the connection to the {route!r} tool server was lost") from None
        raise ProblemError(
            problems.BAD_UPSTREAM_REPLY, f"the {route!r} tool server's reply: {describe_error(exc)}"
        ) from None
