"""A stand-in for the gateway that can be made to miss its objectives, to prove the SLO gate fails when it should
(e2e/capacity/test_gate_against_fake_gateway.py). It answers every request of the SLO scenario as the gateway does -
`/health`, the time, time-reference and sandbox tool calls with right answers, the OpenAPI specs, X-Request-ID
echoed, 401 without a key - on plain asyncio HTTP/1.1 with keep-alive, and can be told to:

  --delay-ms N       answer every tool call (POST) N ms late: the tool-call objective is missed;
  --idle-timeout S   close a connection idle for S seconds (a proxy with a short idle timeout): the virtual users'
                     connections are not held through their think time, so fewer users than requested are
                     concurrent.

Listens on 127.0.0.1 only and prints `serving on 127.0.0.1:PORT` once ready.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from loadtests.tool_inputs import DISCOVERY_ROUTES, SNIPPETS

PRINTED = dict(SNIPPETS)  # code -> what it prints


def answer(method: str, path: str, body: Any) -> tuple[int, Any]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if method == "GET" and path == "/health":
        return 200, {"status": "ok"}
    if method == "GET" and path.endswith("/openapi.json") and path.strip("/").split("/")[0] in DISCOVERY_ROUTES:
        return 200, {"openapi": "3.1.0", "paths": {"/tool": {"post": {"operationId": "tool"}}}}
    if method == "POST" and path in ("/time/get_current_time", "/time-reference/get_current_time"):
        return 200, {"timezone": body.get("timezone"), "datetime": now, "is_dst": False}
    if method == "POST" and path == "/time/convert_time":
        return 200, {
            "source": {"timezone": body.get("source_timezone")},
            "target": {"timezone": body.get("target_timezone")},
        }
    if method == "POST" and path == "/sandbox/execute_python":
        return 200, {"exit_code": 0, "stdout": PRINTED.get(body.get("code"), "") + "\n", "stderr": ""}
    return 404, {"type": "about:blank", "title": "Not Found", "status": 404}


class Server:
    def __init__(self, delay_ms: float, idle_timeout: float | None) -> None:
        self.delay = delay_ms / 1000
        self.idle_timeout = idle_timeout

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_timeout)
                except TimeoutError:
                    break  # idle too long: close, as a proxy with a short idle timeout does
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length") or 0)
                raw = await reader.readexactly(length) if length else b""
                path = target.split("?", 1)[0]
                if method == "POST" and not headers.get("authorization", "").startswith("Bearer "):
                    status, payload = 401, {"type": "urn:mcpstack:problem:unauthenticated", "status": 401}
                else:
                    status, payload = answer(method, path, json.loads(raw) if raw else {})
                    if method == "POST" and self.delay:
                        await asyncio.sleep(self.delay)
                content = json.dumps(payload).encode()
                reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}[status]
                cid = headers.get("x-request-id", "")
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(content)}\r\nx-request-id: {cid}\r\n\r\n".encode()
                    + content
                )
                await writer.drain()
        writer.close()


async def serve(port: int, delay_ms: float, idle_timeout: float | None) -> None:
    server = await asyncio.start_server(Server(delay_ms, idle_timeout).handle, "127.0.0.1", port, backlog=1024)
    print(f"serving on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added to every tool call (POST)")
    parser.add_argument("--idle-timeout", type=float, default=None, help="close connections idle this long (s)")
    options = parser.parse_args()
    asyncio.run(serve(options.port, options.delay_ms, options.idle_timeout))


if __name__ == "__main__":
    main()
