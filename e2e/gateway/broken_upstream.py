"""A deliberately faulty MCP server for the fault-isolation suites: streamable HTTP, stateless, JSON responses,
written by hand so that its replies can break the protocol. Its tools:

- `ok`: answers "fine";
- `garbage`: answers HTTP 200 with a body that is not JSON-RPC (truncated JSON);
- `http_500`: answers HTTP 500 with a plain-text body;
- `hang_up`: announces a body and closes the connection before sending it.

Runs in the time server's image (uvicorn is there) via `python -c`, on port 8006.
"""

from __future__ import annotations

PORT = 8006
SCRIPT = (
    """
import json
import uvicorn

TOOLS = [
    {"name": name, "description": name, "inputSchema": {"type": "object", "properties": {}}}
    for name in ("ok", "garbage", "http_500", "hang_up")
]


async def reply(send, status, body, content_type=b"application/json"):
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    if scope["method"] != "POST":
        return await reply(send, 405, b"{}")
    message = json.loads(body)
    if "id" not in message:
        return await reply(send, 202, b"")
    method, result = message["method"], {}
    if method == "initialize":
        result = {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "broken", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        name = message["params"]["name"]
        if name == "garbage":
            return await reply(send, 200, b'{"jsonrpc": "2.0", "id": ')
        if name == "http_500":
            return await reply(send, 500, b"boom", b"text/plain")
        if name == "hang_up":
            headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise RuntimeError("hanging up mid-reply")  # uvicorn closes the connection
        result = {"content": [{"type": "text", "text": "fine"}], "isError": False}
    await reply(send, 200, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode())


uvicorn.run(app, host="0.0.0.0", port=PORT, log_level="warning")
"""
).replace("PORT", str(PORT))
