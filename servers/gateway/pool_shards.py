"""Connections to one upstream kept in several small pools instead of one large one.

httpcore's connection pool walks all its connections (and checks each idle one's socket with a system call)
every time a request is added or finished, so its cost per call grows with the number of connections: at 100
calls in flight through one 50-connection pool that bookkeeping cost more of the gateway's CPU than the call's
own HTTP exchange. Here a request goes to the small pool with the fewest exchanges open (an exchange is open
until its response is closed), so each walk covers a few connections, and the upstream can still get as many
connections in total (a slow upstream, such as the sandbox with its queue, keeps every one it needs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx


class _Tracked(httpx.AsyncByteStream):
    """A response body that reports once when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, closed: Callable[[], None]) -> None:
        self._stream, self._closed = stream, closed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._closed()


class ShardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, shards: list[httpx.AsyncBaseTransport]) -> None:
        self._shards = shards
        self.open = [0] * len(shards)  # exchanges open per shard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self.open)), key=self.open.__getitem__)
        self.open[index] += 1
        done = False

        def closed() -> None:
            nonlocal done
            if not done:
                done = True
                self.open[index] -= 1

        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            closed()
            raise
        response.stream = _Tracked(response.stream, closed)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
