"""Requests to an upstream spread over small pools: each to the pool with the fewest exchanges open, counted until
the response is closed (or the request failed)."""

from __future__ import annotations

import httpx
import pytest

from servers.gateway.pool_shards import ShardedTransport


def answering(seen: list[int], shard: int) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(shard)
        return httpx.Response(200, stream=httpx.ByteStream(b"ok"))  # read as a real response is

    return httpx.MockTransport(handler)


async def test_a_request_goes_to_the_least_busy_pool_until_its_response_is_closed() -> None:
    seen: list[int] = []
    transport = ShardedTransport([answering(seen, 0), answering(seen, 1), answering(seen, 2)])
    async with httpx.AsyncClient(transport=transport) as client:
        first = await client.send(client.build_request("GET", "http://upstream/"), stream=True)
        second = await client.send(client.build_request("GET", "http://upstream/"), stream=True)
        assert seen == [0, 1] and transport.open == [1, 1, 0]
        await first.aread()  # read whole: closed
        assert transport.open == [0, 1, 0]
        third = await client.get("http://upstream/")
        assert third.text == "ok" and seen == [0, 1, 0] and transport.open == [0, 1, 0]
        await second.aclose()
        assert transport.open == [0, 0, 0]


async def test_a_failed_request_frees_its_place() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transport = ShardedTransport([httpx.MockTransport(refuse)])
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://upstream/")
    assert transport.open == [0]
