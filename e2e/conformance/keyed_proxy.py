"""A loopback reverse proxy that adds a bearer key: the conformance suite's client sends no credentials, the
gateway's MCP front demands a client key and our MCP servers the gateway's token. Host and Origin pass through
unchanged (the DNS-rebinding scenario sends its own), the body and the answer are copied as they are."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"}


def _app(upstream: str, key: str) -> Any:
    client = httpx.AsyncClient(base_url=upstream, timeout=60)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_BY_HOP]
        headers.append(("Authorization", f"Bearer {key}"))
        path = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        request = client.build_request(scope["method"], path, headers=headers, content=body)
        answer = await client.send(request, stream=True)
        try:
            out = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
            async for chunk in answer.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await answer.aclose()

    return app


@contextmanager
def keyed_proxy(upstream: str, key: str) -> Iterator[str]:
    """The proxy's base URL (http://127.0.0.1:PORT) while the block runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(upstream, key), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
