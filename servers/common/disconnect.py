"""POST requests whose client went away are cancelled, the MCP tool call they carry included.

uvicorn does not cancel a request when its client disconnects; it only answers the app's next `receive()` with
`http.disconnect`. With stateless streamable HTTP nothing calls it once the body is read, so a tool call went on
to its end for nobody: a sandbox run kept its slot after its caller hung up or the gateway gave up (issue 14).
This middleware reads on once the body is in; a disconnect before the response is complete cancels the request,
and the SDK then cancels the tool call it was serving (checked by servers/common/tests/test_disconnect.py).
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCONNECT: Message = {"type": "http.disconnect"}


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        gone, body_read = anyio.Event(), anyio.Event()
        answered = False

        async def app_receive() -> Message:
            if body_read.is_set():  # from here on only the watcher reads; what comes next is the disconnect
                await gone.wait()
                return DISCONNECT
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
            elif not message.get("more_body", False):
                body_read.set()
            return message

        async def app_send(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True

        async with anyio.create_task_group() as tasks:

            async def watch() -> None:
                await body_read.wait()
                await receive()  # returns only once the client is gone or the response is complete
                gone.set()
                if not answered:
                    tasks.cancel_scope.cancel()

            tasks.start_soon(watch)
            try:
                await self.app(scope, app_receive, app_send)
            finally:
                tasks.cancel_scope.cancel()
