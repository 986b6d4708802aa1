"""Telling an upstream that a request the gateway gave up on is cancelled (MCP `notifications/cancelled`), without
cancelling anything inside the SDK's session.

A tools/call that stays on the SDK's session (stdio, SSE, a stateful streamable-HTTP upstream) is written to the
session's transport and answered on its read stream; cancelling the task that awaits the answer leaves the request
running upstream, and SDK 1.30's `BaseSession.send_request` sends nothing when it is cancelled (SDK 2.x does, with
`cancel_on_abandon`). MCP's answer is `notifications/cancelled` with the request's id: the upstream's SDK then
cancels the handler (our sandbox kills the run and frees its slot).

The SDK's request itself is never cancelled from outside (`call_detached`): it runs in a task of its own, and the
caller waits on it shielded. SDK 1.30 does not survive cancelled requests in numbers: a response that arrives while
its waiter is being cancelled goes to a stream the waiter has just closed, the session's receive loop dies of
`BrokenResourceError` and the transport with it (a storm of 100 cancelled calls killed a stdio session within 30
rounds every time; the gateway's stdio upstream was "lost: connection closed" at the end of benchmark runs, its
callers answered 503 until it reconnected). A detached request ends as the SDK ends requests: the upstream's
answer (its error for the cancelled request, or the result if it finished first), or the SDK's read timeout
(`READ_TIMEOUT_MARGIN_SECONDS` beyond the gateway's own time limit, so it never cuts a call the gateway still waits
for).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import anyio
from mcp import ClientSession
from mcp import types as mcp_types

from servers.gateway.settings import CONFIG_ENV, load_config

SEND_SECONDS = 2.0  # at most this long to hand the notice to the transport (an SSE POST may be ahead of it)
READ_TIMEOUT_MARGIN_SECONDS = 30.0
T = TypeVar("T")
REASON = "the gateway's caller went away or the call's time limit passed"


def next_request_id(session: ClientSession) -> int | None:
    """The id the session's next request will carry; None if this SDK keeps no such counter.

    SDK 1.30 offers no public way to learn a request's id: `send_request` takes it from the private counter
    `_request_id` and returns only the result. Reading that counter (never writing it) is the least fragile way
    we found: call this right before the call that sends the request, with no `await` in between — in
    `ClientSession.call_tool` nothing awaits before `send_request` takes the id, and the event loop runs no other
    task meanwhile, so no other request can take it. Reading the outgoing message instead would mean wrapping the
    session's private write stream. An SDK without the counter gets None: the call is then only abandoned, as
    before, instead of failing.
    """
    request_id = getattr(session, "_request_id", None)
    return request_id if isinstance(request_id, int) else None


async def tell_cancelled(session: ClientSession, request_id: int | None, reason: str = REASON) -> None:
    """Send `notifications/cancelled` for `request_id` on `session`, from a task that is being cancelled.

    Shielded (an anyio cancel scope would otherwise cancel the send at once) and bounded by SEND_SECONDS; a
    session whose transport is already closed has no upstream to tell, so that is not an error.
    """
    if request_id is None:
        return
    notice = mcp_types.CancelledNotification(
        params=mcp_types.CancelledNotificationParams(requestId=request_id, reason=reason)
    )
    with (
        anyio.move_on_after(SEND_SECONDS, shield=True),
        contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError),
    ):
        await session.send_notification(mcp_types.ClientNotification(notice))


@functools.cache
def read_timeout() -> timedelta:
    """How long the SDK waits for an upstream's answer: the gateway's time limit plus a margin (300 s outside a
    configured gateway, e.g. in tests)."""
    path = os.environ.get(CONFIG_ENV)
    limit = load_config(path)[1].timeout_seconds if path else 300.0 - READ_TIMEOUT_MARGIN_SECONDS
    return timedelta(seconds=limit + READ_TIMEOUT_MARGIN_SECONDS)


async def call_detached(session: ClientSession, send: Callable[[], Awaitable[T]]) -> T:
    """`send()` (one SDK request on `session`) in a task of its own, awaited shielded. If the caller is cancelled,
    the upstream is told (`notifications/cancelled` for the request's id) and the request is left to end by itself;
    a request not sent yet is not sent."""
    request_ids: list[int | None] = []

    async def sent() -> T:
        request_ids.append(next_request_id(session))  # no await before the SDK takes it: the same id
        return await send()

    task = asyncio.ensure_future(sent())
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not request_ids:
            task.cancel()  # it never ran: nothing went out
        else:
            task.add_done_callback(_retrieved)
            await tell_cancelled(session, request_ids[0])
        raise


def _retrieved(task: asyncio.Future[object]) -> None:
    """A detached request's outcome, taken so that asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
