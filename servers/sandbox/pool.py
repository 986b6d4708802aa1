"""A bounded pool of concurrent runs with a bounded, time-limited queue in front of it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


class Busy(Exception):
    """No run slot came free in time, or the queue is full: the caller should retry later."""


class RunPool:
    def __init__(
        self,
        max_active: int,
        max_queued: int,
        queue_timeout_seconds: float,
        on_change: Callable[[int, int], None] = lambda _active, _queued: None,
    ) -> None:
        if max_active < 1:
            raise ValueError("max_active must be at least 1")
        self.max_active = max_active
        self.max_queued = max_queued
        self.queue_timeout_seconds = queue_timeout_seconds
        self.active = 0
        self.queued = 0
        self._semaphore = asyncio.Semaphore(max_active)
        self._on_change = on_change

    def _changed(self) -> None:
        self._on_change(self.active, self.queued)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one run slot for the block; raises Busy when none comes free in time."""
        if self._semaphore.locked() or self.queued:
            if self.queued >= self.max_queued:
                raise Busy(
                    f"the sandbox is busy: {self.active} runs in progress and {self.queued} waiting "
                    f"(at most {self.max_queued}); try again shortly"
                )
            self.queued += 1
            self._changed()
            try:
                async with asyncio.timeout(self.queue_timeout_seconds):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise Busy(
                    f"the sandbox is busy: no run slot came free within {self.queue_timeout_seconds:g} s "
                    f"({self.active} runs in progress); try again shortly"
                ) from None
            finally:
                self.queued -= 1
                self._changed()
        else:
            await self._semaphore.acquire()
        self.active += 1
        self._changed()
        try:
            yield
        finally:
            self.active -= 1
            self._semaphore.release()
            self._changed()
