"""At most `limits.max_concurrent_requests_per_client` requests of one client inside the gateway at once.

A request beyond that waits up to `limits.concurrency_wait_seconds` for a slot (a burst queues briefly, as it
would in the event loop anyway), then is refused with 429. A slot is held from before the body is read until the
response is sent, so a client sending slow or huge bodies ties up its own slots, never another client's, and the
body memory one client can hold is bounded by its slots times `limits.max_body_bytes`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class ClientSlots:
    def __init__(self, per_client: int, wait_seconds: float) -> None:
        self._per_client = per_client
        self._wait = wait_seconds
        self._slots: dict[str, asyncio.Semaphore] = {}  # one per client name from the config: bounded

    @contextlib.asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[bool]:
        """Yields True holding a slot of the client's, or False when none came free in time."""
        semaphore = self._slots.setdefault(client, asyncio.Semaphore(self._per_client))
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout=self._wait)
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            semaphore.release()
