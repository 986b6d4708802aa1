"""A bounded pool of concurrent runs with a bounded, time-limited queue in front of it, shared fairly: each
caller may hold at most its share of the slots and of the queue, so one caller cannot starve the others.

A freed slot goes to the longest-waiting caller still under its share; a caller over its share waits (up to
the queue time limit) even while slots are free, leaving them to others. Who the caller is comes from the
server (the gateway's `_meta`, caller.py); calls that name nobody share one caller, "anonymous".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable

ANONYMOUS = "anonymous"


class Busy(Exception):
    """No run slot came free in time, or the queue (or the caller's share of it) is full: retry later."""


class RunPool:
    def __init__(
        self,
        max_active: int,
        max_queued: int,
        queue_timeout_seconds: float,
        on_change: Callable[[int, int], None] = lambda _active, _queued: None,
        *,
        max_active_per_caller: int | None = None,
        max_queued_per_caller: int | None = None,
    ) -> None:
        if max_active < 1:
            raise ValueError("max_active must be at least 1")
        self.max_active = max_active
        self.max_queued = max_queued
        self.queue_timeout_seconds = queue_timeout_seconds
        self.max_active_per_caller = min(max_active, max_active_per_caller or max_active)
        self.max_queued_per_caller = max_queued if max_queued_per_caller is None else max_queued_per_caller
        self.active = 0
        self.queued = 0
        self._active_by: Counter[str] = Counter()
        self._queued_by: Counter[str] = Counter()
        self._waiting: deque[tuple[str, asyncio.Future[None]]] = deque()
        self._on_change = on_change

    def _changed(self) -> None:
        self._on_change(self.active, self.queued)

    def _may_start(self, caller: str) -> bool:
        return self.active < self.max_active and self._active_by[caller] < self.max_active_per_caller

    def _start(self, caller: str) -> None:
        self.active += 1
        self._active_by[caller] += 1

    def _release(self, caller: str) -> None:
        self.active -= 1
        self._active_by[caller] -= 1
        if not self._active_by[caller]:
            del self._active_by[caller]
        for entry in list(self._waiting):  # the longest-waiting callers under their share first
            waiter, granted = entry
            if self._may_start(waiter) and not granted.done():
                self._waiting.remove(entry)
                self._start(waiter)
                granted.set_result(None)

    def _refuse(self, caller: str) -> Busy | None:
        if self.queued >= self.max_queued:
            return Busy(
                f"the sandbox is busy: {self.active} runs in progress and {self.queued} waiting "
                f"(at most {self.max_queued}); try again shortly"
            )
        if self._queued_by[caller] >= self.max_queued_per_caller:
            return Busy(
                f"the sandbox is busy for this caller: {self._active_by[caller]} of its runs in progress and "
                f"{self._queued_by[caller]} waiting (a caller's share: {self.max_active_per_caller} at once, "
                f"{self.max_queued_per_caller} waiting); try again when one has finished"
            )
        return None

    async def _wait(self, caller: str) -> None:
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (caller, granted)
        self._waiting.append(entry)
        self.queued += 1
        self._queued_by[caller] += 1
        self._changed()
        try:
            async with asyncio.timeout(self.queue_timeout_seconds):
                await asyncio.shield(granted)
        except TimeoutError:
            if not granted.done():
                raise Busy(
                    f"the sandbox is busy: no run slot came free within {self.queue_timeout_seconds:g} s "
                    f"({self.active} runs in progress); try again shortly"
                ) from None
        except asyncio.CancelledError:
            if granted.done():  # granted as the caller went away: pass the slot on
                self._release(caller)
            raise
        finally:
            if entry in self._waiting:
                self._waiting.remove(entry)
            self.queued -= 1
            self._queued_by[caller] -= 1
            if not self._queued_by[caller]:
                del self._queued_by[caller]
            self._changed()

    @contextlib.asynccontextmanager
    async def slot(self, caller: str = ANONYMOUS) -> AsyncIterator[None]:
        """Hold one run slot for the block; raises Busy when none comes free in time (or the queue is full)."""
        if self._may_start(caller):
            self._start(caller)
        else:
            refused = self._refuse(caller)
            if refused:
                raise refused
            await self._wait(caller)
        self._changed()
        try:
            yield
        finally:
            self._release(caller)
            self._changed()

    def shares(self) -> dict[str, int]:
        """Runs in progress per caller (for /health: how many callers, not who)."""
        return dict(self._active_by)
