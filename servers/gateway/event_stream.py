"""Server-sent events read from an HTTP response, as far as an MCP reply stream needs them (the `event` name and
the `data`, multi-line data joined with newlines; `id` and `retry` are not used), per the WHATWG event-stream format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Event:
    """One dispatched event: its type ("message" when unnamed) and its data."""

    event: str
    data: str


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    name, data = "", []
    async for line in response.aiter_lines():
        if not line:  # a blank line dispatches the event gathered so far
            if data:
                yield Event(name or "message", "\n".join(data))
            name, data = "", []
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if data:  # a last event without its blank line: the stream was cut; the caller decides what that means
        yield Event(name or "message", "\n".join(data))
