"""The HTTP transport under mcpo's MCP sessions turns one call's failed exchange into that call's JSON-RPC error.

The session-level effect (other calls on the route go on, the session is not reset) is shown against the real
gateway and a faulty upstream in e2e/gateway/test_fault_isolation.py; here each kind of failure, exchange by
exchange, over httpx's own transports."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from servers.gateway.isolation import BAD_REPLY, FAILURE_KEY, LOST, UNREACHABLE, IsolatingTransport

URL = "http://upstream/mcp"
CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "t", "arguments": {}}}
NOTE = {"jsonrpc": "2.0", "method": "notifications/initialized"}
Handler = Callable[[httpx.Request], httpx.Response]


async def post(handler: Handler, message: dict, mode: str = "reply") -> httpx.Response:
    transport = IsolatingTransport(httpx.MockTransport(handler), mode)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post(URL, json=message)
        await response.aread()
        return response


def reply(status: int, body: bytes, content_type: str = "application/json") -> Handler:
    return lambda request: httpx.Response(status, content=body, headers={"content-type": content_type})


def hang_up(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("All connection attempts failed", request=request)


def error_of(response: httpx.Response) -> dict:
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    message = response.json()
    assert message["id"] == CALL["id"] and "result" not in message
    return message["error"]


@pytest.mark.parametrize(
    ("handler", "kind", "reason"),
    [
        (reply(500, b"boom", "text/plain"), BAD_REPLY, "HTTP 500"),
        (reply(413, b"too big", "text/plain"), BAD_REPLY, "HTTP 413"),
        (reply(307, b""), BAD_REPLY, "HTTP 307"),
        (reply(200, b'{"jsonrpc": "2.0", "id": '), BAD_REPLY, "not JSON-RPC"),
        (reply(200, b'{"jsonrpc": "2.0", "id": 7, "result": "not an object"}'), BAD_REPLY, "not JSON-RPC"),
        (hang_up, LOST, "RemoteProtocolError"),  # the call fails; the route is checked
        (refuse, UNREACHABLE, "ConnectError"),  # the upstream is gone: the route reconnects
    ],
)
async def test_a_failed_exchange_becomes_that_calls_error(handler: Handler, kind: str, reason: str) -> None:
    error = error_of(await post(handler, CALL))
    assert error["data"] == {FAILURE_KEY: kind}
    assert reason in error["message"]


async def test_a_reply_cut_mid_body_is_a_bad_reply() -> None:
    class CutStream(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[override]
            yield b'{"jsonrpc": "2.0",'
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=CutStream())

    error = error_of(await post(handler, CALL))
    assert error["data"] == {FAILURE_KEY: BAD_REPLY} and "hung up mid-reply" in error["message"]


async def test_a_good_reply_passes_unchanged() -> None:
    good = json.dumps({"jsonrpc": "2.0", "id": 7, "result": {"content": []}}).encode()
    response = await post(reply(200, good), CALL)
    assert response.status_code == 200 and response.content == good
    assert (await post(reply(202, b""), NOTE)).status_code == 202
    events = b'event: message\ndata: {"jsonrpc": "2.0", "id": 7, "result": {}}\n\n'
    assert (await post(reply(200, events, "text/event-stream"), CALL)).content == events  # SSE: the SDK reads it


async def test_a_failed_notification_or_sse_post_is_reported_as_accepted() -> None:
    assert (await post(reply(500, b"boom"), NOTE)).status_code == 202  # nothing waits for a reply to it
    assert (await post(reply(500, b"boom"), CALL, mode="accept")).status_code == 202  # SSE: replies come elsewhere
    assert (await post(hang_up, CALL, mode="accept")).status_code == 202


async def test_other_methods_and_session_expiry_are_left_to_the_sdk() -> None:
    assert (await post(reply(404, b""), CALL)).status_code == 404  # the SDK's "session terminated"
    transport = IsolatingTransport(httpx.MockTransport(hang_up))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(URL)  # the server-to-client stream: its failure is the SDK's to handle
