"""The header deadline on uvicorn's HTTP protocols, with a real uvicorn server on a loopback port."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from servers.gateway import http_server
from servers.gateway.settings import CONFIG_ENV
from tests.gateway.conftest import free_port

DEADLINE = 0.5
PROTOCOLS = [http_server.H11WithHeaderDeadline] + (
    [http_server.HttpToolsWithHeaderDeadline] * http_server.HAVE_HTTPTOOLS
)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["path"] == "/slow":
        await asyncio.sleep(2 * DEADLINE)  # serving takes longer than the deadline: not cut
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(params=PROTOCOLS, ids=lambda p: p.__name__)
def server(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    config = tmp_path / "gateway.json"
    gateway = {"routes": {}, "clients": {}, "limits": {"header_timeout_seconds": DEADLINE}}
    config.write_text(json.dumps({"mcpServers": {}, "gateway": gateway}))
    monkeypatch.setenv(CONFIG_ENV, str(config))
    http_server.header_timeout.cache_clear()
    port = free_port()
    settings = uvicorn.Config(app, host="127.0.0.1", port=port, http=request.param, lifespan="off", log_level="error")
    running = uvicorn.Server(settings)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.01)
    yield port
    running.should_exit = True
    thread.join(timeout=10)
    http_server.header_timeout.cache_clear()


def answer(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or the timeout)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return data + b"<still open>"
    return data


def test_unfinished_headers_get_408_and_the_connection_is_closed(server: int) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        received = answer(sock, timeout=5)
    assert received.startswith(b"HTTP/1.1 408 ") and received.endswith(b"\r\n\r\n")
    assert DEADLINE <= time.monotonic() - started < DEADLINE + 1


def test_a_connection_that_never_sends_anything_is_closed_too(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        assert answer(sock, timeout=DEADLINE + 1).startswith(b"HTTP/1.1 408 ")


def test_the_deadline_counts_again_for_the_next_request_on_a_kept_alive_connection(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        first = b""
        while not first.endswith(b"ok"):  # the whole answer: its head and body may come in separate packets
            chunk = sock.recv(4096)
            assert chunk, f"closed after {first!r}"
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 ")  # serving outlasted the deadline: not cut
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the next request's headers, unfinished
        started = time.monotonic()
        assert answer(sock, timeout=5).startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < DEADLINE + 1  # uvicorn's own keep-alive limit is 5 s
