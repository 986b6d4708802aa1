"""Telling an upstream that a request the gateway gave up on is cancelled (MCP `notifications/cancelled`).

A tools/call that stays on the SDK's session (stdio, SSE, a stateful streamable-HTTP upstream) is written to the
session's transport and answered on its read stream; cancelling the task that awaits the answer leaves the request
running upstream, and SDK 1.30's `BaseSession.send_request` sends nothing when it is cancelled (SDK 2.x does, with
`cancel_on_abandon`). MCP's answer is `notifications/cancelled` with the request's id: the upstream's SDK then
cancels the handler (our sandbox kills the run and frees its slot).
"""

from __future__ import annotations

import contextlib

import anyio
from mcp import ClientSession
from mcp import types as mcp_types

SEND_SECONDS = 2.0  # at most this long to hand the notice to the transport (an SSE POST may be ahead of it)
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
