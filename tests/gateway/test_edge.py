"""Edge limits and argument checks in the gateway pipeline, in process: what is refused never reaches mcpo, and
every refusal is logged with its correlation ID and cause."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.gateway.stub_mcpo import CALLS, assert_problem, auth, build

JSON = {**auth("ci"), "Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def no_calls_yet() -> None:
    CALLS.clear()


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mcpstack.gateway.refused"]


async def test_a_lone_surrogate_is_400_naming_the_field_and_never_reaches_mcpo(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"timezone": "UTC", "nested": {"list": ["ok", "\\udc00"]}}'
    response = await client.post("/time/get_current_time", content=body, headers={**JSON, "X-Request-ID": "sur-1"})
    problem = assert_problem(response, 400, "unencodable-text")
    assert "'nested.list[1]'" in problem["detail"] and "\\udc00" in problem["detail"]
    assert CALLS == []
    (record,) = refusals(caplog)
    assert record.fields["cause"] == "unencodable-text" and "nested.list[1]" in record.getMessage()
    key = await client.post("/time/get_current_time", content=b'{"\\ud800x": 1}', headers=JSON)
    assert "(a key)" in assert_problem(key, 400, "unencodable-text")["detail"]


@pytest.mark.parametrize("literal", [b"NaN", b"-Infinity", b"1e999"])
async def test_non_finite_numbers_are_400(client: httpx.AsyncClient, literal: bytes) -> None:
    response = await client.post("/time/get_current_time", content=b'{"n": ' + literal + b"}", headers=JSON)
    assert "'n'" in assert_problem(response, 400, "invalid-number")["detail"]
    assert CALLS == []


async def test_json_deeper_than_the_limit_is_400_and_shallower_passes(client: httpx.AsyncClient) -> None:
    def nested(depth: int) -> bytes:
        return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"

    assert (await client.post("/time/get_current_time", content=nested(8), headers=JSON)).status_code == 200
    assert_problem(await client.post("/time/get_current_time", content=nested(9), headers=JSON), 400, "json-too-deep")
    assert_problem(
        await client.post("/time/get_current_time", content=nested(1000), headers=JSON), 400, "json-too-deep"
    )


async def test_malformed_json_still_reaches_mcpo_which_names_the_position(client: httpx.AsyncClient) -> None:
    assert (await client.post("/time/get_current_time", content=b'{"a": ', headers=JSON)).status_code == 200
    assert CALLS == [("/time/get_current_time", b'{"a": ')]


async def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(client: httpx.AsyncClient) -> None:
    fits = b'{"a": "' + b"x" * 2000 + b'"}'
    assert (await client.post("/time/get_current_time", content=fits, headers=JSON)).status_code == 200
    declared = await client.post("/time/get_current_time", content=fits + b" " * 100, headers=JSON)
    assert "2109 bytes" in assert_problem(declared, 413, "body-too-large")["detail"]
    assert declared.headers["connection"] == "close"

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    streamed = await client.post("/time/get_current_time", content=stream(), headers=JSON)
    assert_problem(streamed, 413, "body-too-large")
    assert [("/time/get_current_time", fits)] == CALLS


async def call_with(app: Any, messages: list[dict[str, Any]], headers: dict[str, str]) -> list[dict[str, Any]]:
    """Drive the ASGI app with a receive that hands out `messages`, then waits for ever."""
    sent: list[dict[str, Any]] = []
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/time/get_current_time",
        "raw_path": b"/time/get_current_time",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    return sent


async def test_a_body_that_stops_arriving_is_408_and_a_client_that_leaves_gets_nothing(
    settings, upstreams, metrics
) -> None:
    app = build(settings, upstreams, metrics)
    started = asyncio.get_running_loop().time()
    sent = await call_with(app, [{"type": "http.request", "body": b'{"a"', "more_body": True}], JSON)
    assert sent[0]["status"] == 408
    assert 0.3 <= asyncio.get_running_loop().time() - started < 2
    gone = [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]
    assert await call_with(app, gone, JSON) == []
    assert CALLS == []


async def test_two_authorization_headers_are_400(settings, upstreams, metrics) -> None:
    app = build(settings, upstreams, metrics)
    headers = [("authorization", "Bearer wrong-0000000000000"), ("authorization", auth("ci")["Authorization"])]
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/time/openapi.json",
        "raw_path": b"/time/openapi.json",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, None, send)
    assert sent[0]["status"] == 400
    assert b"ambiguous-header" in sent[1]["body"] and b"Authorization" in sent[1]["body"]


async def test_a_client_over_its_concurrency_limit_gets_429_and_others_are_served(client: httpx.AsyncClient) -> None:
    slow = [asyncio.create_task(client.post("/time/slow", json={}, headers=auth("ci"))) for _ in range(2)]
    await asyncio.sleep(0.05)
    refused = await client.post("/time/get_current_time", json={}, headers=auth("ci"))
    assert "concurrency limit" in assert_problem(refused, 429, "rate-limited")["detail"]
    assert refused.headers["retry-after"] == "1"
    assert (await client.post("/time/get_current_time", json={}, headers=auth("noisy"))).status_code == 200
    await asyncio.gather(*slow)  # cut at the 1 s time limit, freeing the slots
    assert (await client.post("/time/get_current_time", json={}, headers=auth("ci"))).status_code == 200
