"""Tool-list changes, carried from the upstreams to the MCP front's listening clients.

An upstream's tool list is known to have changed when a fresh listing differs from the one before it (mcp_proxy.py
compares them). Listings happen on a client's tools/list after a reconnect, and here: each upstream is listed again
at once when its session reports `notifications/tools/list_changed` (stdio, SSE and stateful HTTP upstreams can
send it: mcp_session.py), and every `refresh_seconds` otherwise (a stateless upstream has no way to tell).

A change wakes the subscriptions of that upstream; each is one client's GET stream (mcp_event_stream.py), which
compares the tools *its caller may see* before and after and tells the client only when those differ: a change to
tools outside the caller's tenant is not announced to it. Subscriptions are limited per caller (its verified user,
else its API key) and in total: a caller that opens streams without end is refused (429), and nobody else is.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from servers.gateway import problems
from servers.gateway.edge import Refusal
from servers.gateway.tenancy import Caller
from servers.gateway.upstreams import Upstream

logger = logging.getLogger("mcpstack.gateway.tool_lists")
MIN_SECONDS_BETWEEN_LISTINGS = 1.0  # an upstream that says "changed" without end is listed at most once a second


def fingerprint(tools: Sequence[Any], allowed: set[str] | None) -> str:
    """A short digest of the tools (name, schemas, description, annotations...) a caller allowed `allowed` sees."""
    visible = sorted(
        (t.model_dump(mode="json", exclude_none=True) for t in tools if allowed is None or t.name in allowed),
        key=lambda tool: tool["name"],
    )
    return hashlib.sha256(json.dumps(visible, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(eq=False)
class Subscription:
    """One listening client: the upstreams it watches (one, or a virtual server's) and a wake-up for changes."""

    upstreams: frozenset[str]
    holder: str  # whose share of the streams it takes: "user:ID" for a verified user, else "client:NAME"
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def stream_holder(caller: Caller) -> str:
    return f"user:{caller.user_id}" if caller.verified and caller.user_id else f"client:{caller.client}"


class ToolListWatch:
    def __init__(self, *, per_caller: int, total: int) -> None:
        self.per_caller, self.total = per_caller, total
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._held: Counter[str] = Counter()

    @property
    def open_streams(self) -> int:
        return sum(self._held.values())

    @contextlib.contextmanager
    def subscribe(self, upstreams: frozenset[str], caller: Caller) -> Iterator[Subscription]:
        """A subscription for the caller's stream, or the Refusal (429) when a limit is reached."""
        holder = stream_holder(caller)
        if self._held[holder] >= self.per_caller:
            raise Refusal(
                problems.RATE_LIMITED,
                f"at most {self.per_caller} open notification streams per caller",
                {"Retry-After": "5"},
            )
        if self.open_streams >= self.total:
            raise Refusal(
                problems.RATE_LIMITED, "the gateway's notification streams are all in use", {"Retry-After": "5"}
            )
        subscription = Subscription(upstreams, holder)
        for upstream in upstreams:
            self._subscriptions.setdefault(upstream, set()).add(subscription)
        self._held[holder] += 1
        try:
            yield subscription
        finally:
            for upstream in upstreams:
                self._subscriptions[upstream].discard(subscription)
            self._held[holder] -= 1
            if not self._held[holder]:
                del self._held[holder]

    def publish(self, upstream: str) -> None:
        """The upstream's tool list changed: wake its subscriptions (each decides whether its caller sees it)."""
        for subscription in self._subscriptions.get(upstream, ()):
            subscription.changed.set()


async def refresh_forever(
    upstream: Upstream,
    relist: Callable[[Upstream], Awaitable[bool]],
    changed_event: Callable[[Upstream], asyncio.Event | None],
    refresh_seconds: float,
    counted: Callable[[str, str, str], None],
) -> None:
    """List `upstream`'s tools again when its session says they changed, else every `refresh_seconds`;
    `counted(upstream, trigger, outcome)` after each listing. Notifications that arrive meanwhile, and within
    MIN_SECONDS_BETWEEN_LISTINGS of a listing, make one listing after it: a flood costs one listing a second."""
    while True:
        event = changed_event(upstream)
        if event is None:
            await asyncio.sleep(min(refresh_seconds, 1.0))  # not connected: look again soon
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=refresh_seconds)
        trigger = "notification" if event.is_set() else "interval"
        event.clear()
        if not upstream.available:
            continue
        try:
            outcome = "changed" if await relist(upstream) else "unchanged"
        except Exception as exc:  # the upstream is down or answered badly: its supervisor deals with that
            logger.info("listing %s's tools again failed: %s", upstream.name, exc)
            outcome = "failed"
        if outcome == "changed":
            logger.info("upstream %s changed its tools (%s)", upstream.name, trigger)
        counted(upstream.name, trigger, outcome)
        await asyncio.sleep(MIN_SECONDS_BETWEEN_LISTINGS)
