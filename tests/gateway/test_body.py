"""Reading a request body within a size and a time limit, and handing it to mcpo again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from servers.gateway.body import BodyRefused, ClientGone, declared_length, read_body, replay


def receiver(*messages: dict[str, Any], then_wait: bool = True) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        if then_wait:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive


def chunk(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_a_body_in_chunks_is_read_whole() -> None:
    receive = receiver(chunk(b"ab", True), chunk(b"", True), chunk(b"cd", False))
    assert await read_body(receive, limit=4, seconds=1, declared=None) == b"abcd"


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    async def never() -> dict[str, Any]:
        raise AssertionError("read")

    with pytest.raises(BodyRefused, match="has 5 bytes; at most 4") as refused:
        await read_body(never, limit=4, seconds=1, declared=5)
    assert refused.value.kind == "too-large"


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    receive = receiver(chunk(b"abc", True), chunk(b"de", True))
    with pytest.raises(BodyRefused, match="over 4 bytes"):
        await read_body(receive, limit=4, seconds=1, declared=None)


async def test_a_body_that_stops_arriving_is_refused_at_the_time_limit() -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(BodyRefused, match=r"within 0.2 s \(2 bytes came\)") as refused:
        await read_body(receiver(chunk(b"ab", True)), limit=100, seconds=0.2, declared=None)
    assert refused.value.kind == "timeout"
    assert asyncio.get_running_loop().time() - started < 1


async def test_a_client_that_leaves_mid_body() -> None:
    with pytest.raises(ClientGone):
        await read_body(receiver(chunk(b"ab", True), then_wait=False), limit=100, seconds=1, declared=None)


async def test_replay_hands_over_the_body_then_the_clients_own_messages() -> None:
    replayed = replay(b"body", receiver(then_wait=False))
    assert await replayed() == {"type": "http.request", "body": b"body", "more_body": False}
    assert await replayed() == {"type": "http.disconnect"}


def test_declared_length_ignores_what_is_not_a_number() -> None:
    assert declared_length({"content-length": "12"}) == 12
    assert declared_length({"content-length": "-1"}) is None
    assert declared_length({}) is None
