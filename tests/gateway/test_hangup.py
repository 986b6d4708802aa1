"""A request whose client hangs up before its answer is cancelled (and noted as 499); one whose client waits is
answered in full."""

from __future__ import annotations

import asyncio
from typing import Any

from servers.gateway.hangup import EXCHANGE, CancelOnHangUp, note_client_closed
from servers.gateway.middleware import CLIENT_CLOSED, _Exchange

BODY = {"type": "http.request", "body": b"{}", "more_body": False}


def scope() -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/time/x", "headers": [], EXCHANGE: _Exchange()}


async def test_a_client_that_hangs_up_cancels_the_call() -> None:
    events: list[str] = []
    hang_up = asyncio.Event()

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        events.append("started")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    bodies = [BODY]

    async def receive() -> dict[str, Any]:
        if bodies:
            return bodies.pop()
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent to a client that left")

    request = scope()
    task = asyncio.ensure_future(CancelOnHangUp(slow_app, note_client_closed)(request, receive, send))
    await asyncio.sleep(0.05)
    hang_up.set()
    await asyncio.wait_for(task, timeout=2)
    assert events == ["started", "cancelled"]
    assert request[EXCHANGE].status == CLIENT_CLOSED


async def test_a_client_that_waits_gets_its_answer() -> None:
    sent: list[dict[str, Any]] = []
    answered = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(0.05)
        scope[EXCHANGE].started, scope[EXCHANGE].status = True, 200
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    bodies = [BODY]

    async def receive() -> dict[str, Any]:  # as a server's: the body, then (only) the disconnect once answered
        if bodies:
            return bodies.pop()
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            answered.set()

    request = scope()
    await asyncio.wait_for(CancelOnHangUp(app, note_client_closed)(request, receive, send), timeout=2)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert request[EXCHANGE].status == 200
