"""Keeps the gateway connected to each upstream MCP server, in the background.

mcpo connects to its servers once, at start-up: a server that is down then stays unusable until
mcpo restarts. Here each upstream (one mcpo sub-app) has a supervisor task that enters the sub-app's
own lifespan (mcpo's connect + tool discovery), pings the server while connected, and on any failure
reconnects with exponential backoff. While an upstream is not connected its calls are refused at
once with 503 and Retry-After, and the other upstreams are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any, Literal

from servers.gateway.metrics import GatewayMetrics

logger = logging.getLogger("mcpstack.gateway.upstreams")
State = Literal["connecting", "up", "down"]
EPOCH = "mcpstack.epoch"  # in a call's ASGI scope: when the upstream connection it went out on came up (`since`)
# FastAPI's own routes on every sub-app; everything else is a tool endpoint mcpo added.
BUILTIN_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


class Backoff:
    """Exponential backoff with jitter: about 0.5 s, 1 s, 2 s ... capped at 15 s."""

    def __init__(self, initial: float = 0.5, maximum: float = 15.0) -> None:
        self.initial, self.maximum, self.attempt = initial, maximum, 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography

    def reset(self) -> None:
        self.attempt = 0


class Upstream:
    def __init__(
        self,
        name: str,
        app: Any,
        *,
        required: bool,
        metrics: GatewayMetrics,
        ping_interval: float = 2.0,
        ping_timeout: float = 5.0,  # a busy machine answers slowly; a hung upstream is still noticed in seconds
        connect_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.app = app  # mcpo's FastAPI sub-app for this server
        self.required = required
        self.state: State = "connecting"
        self.attempts = 0
        self.last_error: str | None = None
        self.since = time.time()
        self.next_attempt_at: float | None = None
        self.tools: frozenset[str] = frozenset()
        self.tools_since = self.since  # when the tool endpoints were built (a connect or a change): specs' cache key
        self._metrics = metrics
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._connect_timeout = connect_timeout
        self._loss_reason: str | None = None
        self._last_attempt = 0.0
        self._disconnected = asyncio.Event()
        self._disconnected.set()
        self._suspect = asyncio.Event()
        self._gone_reason: str | None = None  # set by lose(): drop the connection at the next wake-up
        self._builtin_routes = [r for r in app.router.routes if getattr(r, "path", None) in BUILTIN_PATHS]

    @property
    def available(self) -> bool:
        return self.state == "up"

    def retry_after(self) -> int:
        if self.next_attempt_at is None:
            return 1
        return max(1, round(self.next_attempt_at - time.time()))

    def suspect(self) -> None:
        """A call failed, or came in while down: check (or reconnect) now rather than at the next tick.

        While down, wake-ups are limited to one reconnect attempt per second.
        """
        if self.available or time.monotonic() - self._last_attempt >= 1.0:
            self._suspect.set()

    def lose(self, reason: str, epoch: float | None = None) -> None:
        """A call could not connect at all: the upstream is gone. Drop the connection now, so that calls in flight
        fail with 503 and new ones are refused at once, instead of each finding out by itself; then reconnect.

        `epoch`: when the connection the call went out on came up (`since`); a call that started on an earlier
        connection says nothing about the current one.
        """
        if self.available and (epoch is None or epoch == self.since):
            self._gone_reason = reason
        self.suspect()

    async def wait_lost(self) -> None:
        """Return when the current connection is lost (at once if there is none)."""
        await self._disconnected.wait()

    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "required": self.required,
            "since": round(self.since, 3),
            "attempts": self.attempts,
            "tools": sorted(self.tools),
            "last_error": self.last_error,
            "retry_after_seconds": None if self.available else self.retry_after(),
        }

    async def run(self) -> None:
        """Connect, watch, reconnect; until cancelled.

        Each connection lives in a child task. mcpo enters the MCP transport's context by hand, so when
        the transport fails its anyio cancel scope cancels whichever task entered it; confining that to
        a disposable child keeps the supervisor itself alive.
        """
        backoff = Backoff()
        while True:
            self._forget_tools()
            self.attempts += 1
            self._last_attempt = time.monotonic()
            connected, lost = asyncio.Event(), asyncio.Event()
            child = asyncio.create_task(self._connection(connected, lost), name=f"upstream-connection:{self.name}")
            try:
                await self._wait_any(child, connected, lost, within=self._connect_timeout)
                if connected.is_set() and not lost.is_set() and not child.done():
                    backoff.reset()
                    await self._wait_any(child, lost)
            except asyncio.CancelledError:
                child.cancel()
                await asyncio.gather(child, return_exceptions=True)
                raise
            self._mark_down(self._reason(child, connected))
            await self._dispose(child)
            delay = backoff.next_delay()
            self.next_attempt_at = time.time() + delay
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._suspect.wait(), timeout=delay)
            self._suspect.clear()

    async def _connection(self, connected: asyncio.Event, lost: asyncio.Event) -> None:
        try:
            async with self.app.router.lifespan_context(self.app):
                if not getattr(self.app.state, "is_connected", False):
                    raise ConnectionError("mcpo could not connect")
                self._mark_up()
                connected.set()
                await self._watch()
        finally:
            lost.set()

    @staticmethod
    async def _wait_any(child: asyncio.Task[None], *events: asyncio.Event, within: float | None = None) -> None:
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            await asyncio.wait([child, *waiters], timeout=within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _reason(self, child: asyncio.Task[None], connected: asyncio.Event) -> str:
        if not child.done():
            return self._loss_reason or f"no connection within {self._connect_timeout:g} s"
        if child.cancelled():
            return self._loss_reason or "connection closed"
        error = child.exception()
        return describe_error(error) if error else (self._loss_reason or "connection closed")

    async def _dispose(self, child: asyncio.Task[None]) -> None:
        """Let a finished connection clean up (close its session or child process), but not for long."""
        if not child.done():
            child.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(child, return_exceptions=True), timeout=10)
        self._loss_reason = None

    async def _watch(self) -> None:
        """Return (by raising) as soon as the server stops answering pings."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._suspect.wait(), timeout=self._ping_interval)
            self._suspect.clear()
            if self._gone_reason is not None:
                self._loss_reason, self._gone_reason = self._gone_reason, None
                raise ConnectionError(self._loss_reason)
            manager = getattr(self.app.state, "session_manager", None)
            session = manager.current_session if manager else None
            if session is None:
                self._loss_reason = "session closed"
                raise ConnectionError(self._loss_reason)
            try:
                await asyncio.wait_for(session.send_ping(), timeout=self._ping_timeout)
            except TimeoutError:
                self._loss_reason = f"no answer to ping within {self._ping_timeout:g} s"
                raise ConnectionError(self._loss_reason) from None

    def _forget_tools(self) -> None:
        # mcpo adds the tool endpoints on every connect; start each connect from FastAPI's own routes
        self.app.router.routes[:] = self._builtin_routes
        self.app.openapi_schema = None
        self.tools = frozenset()

    def adopt_tool_routes(self, routes: list[Any]) -> None:
        """Tool endpoints mcpo built for a changed tool list (openapi_rebuild.py) replace the current ones in one
        step: no request finds the sub-app without its endpoints."""
        self.app.router.routes[:] = [*self._builtin_routes, *routes]
        self.app.openapi_schema = None
        self._note_tools()
        self.tools_since = time.time()
        logger.info("upstream %s: %d tool endpoints rebuilt for a changed tool list", self.name, len(self.tools))

    def _note_tools(self) -> None:
        self.tools = frozenset(
            getattr(r, "path", "/").strip("/")
            for r in self.app.router.routes
            if getattr(r, "path", None) not in BUILTIN_PATHS
        )

    def _mark_up(self) -> None:
        self._note_tools()
        self.state, self.since, self.last_error, self.next_attempt_at = "up", time.time(), None, None
        self.tools_since = self.since
        self._gone_reason = None
        self._disconnected = asyncio.Event()
        self._metrics.upstream_up.labels(self.name).set(1)
        self._metrics.upstream_connects.labels(self.name, "connected").inc()
        logger.info("upstream %s connected: %d tools", self.name, len(self.tools))

    def _mark_down(self, reason: str) -> None:
        was_up = self.state == "up"
        self.state, self.since = "down", time.time()
        self.last_error = reason
        self._disconnected.set()
        self._metrics.upstream_up.labels(self.name).set(0)
        self._metrics.upstream_connects.labels(self.name, "lost" if was_up else "failed").inc()
        logger.warning("upstream %s %s: %s", self.name, "lost" if was_up else "unreachable", self.last_error)


def describe_error(exc: BaseException) -> str:
    """A one-line reason without reprs of nested objects: the innermost exception's type and message."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"[:300] if message else type(exc).__name__


class Upstreams:
    def __init__(self, upstreams: dict[str, Upstream]) -> None:
        self.by_name = upstreams
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(u.run(), name=f"upstream:{u.name}") for u in self.by_name.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def ready(self) -> bool:
        """Every required upstream connected, and every optional one tried at least once."""
        return all(u.available if u.required else u.state != "connecting" for u in self.by_name.values())
