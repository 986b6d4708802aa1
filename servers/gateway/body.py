"""A request body read whole, within a size limit and a time limit, before mcpo sees it; then replayed to mcpo.

Reading it here bounds the gateway's memory (no body larger than `limits.max_body_bytes` is ever buffered: a
declared Content-Length over the limit is refused before a byte is read, a chunked body as soon as it passes the
limit) and lets the arguments be checked before they reach an upstream session (arguments.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


class BodyRefused(Exception):
    """The body cannot be accepted; `reason` says why (for the problem detail and the log)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


class ClientGone(Exception):
    """The client disconnected before sending the whole body."""


def declared_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


async def read_body(receive: Receive, *, limit: int, seconds: float, declared: int | None) -> bytes:
    """The whole body, or BodyRefused("too-large" | "timeout"), or ClientGone."""
    if declared is not None and declared > limit:
        raise BodyRefused("too-large", f"the body has {declared} bytes; at most {limit} bytes are accepted")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyRefused("too-large", f"the body has over {limit} bytes; at most {limit} are accepted")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise BodyRefused("timeout", f"the body did not arrive within {seconds:g} s ({size} bytes came)") from None


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the body already read, then the client's own messages (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
