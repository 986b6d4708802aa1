"""A tool call whose client hangs up is cancelled, its upstream request with it.

uvicorn does not cancel a request when its client disconnects, and neither mcpo nor the MCP SDK's stateless
transport reads on once it has the body, so a call went on to its end for nobody (and a sandbox run kept its
slot: issue 14). Wrapped in this, the app (mcpo's, behind the gateway's pipeline, or the MCP front's transport) is
cancelled when the client goes away before the answer is complete (servers/common/disconnect.py); the upstream
call runs in the request's task (lean_exchange.py), so its HTTP request is cancelled and its connection closed,
which the upstream server in turn sees as a disconnect. `gone` is told first (for the access log's 499).
"""

from __future__ import annotations

from collections.abc import Callable

from servers.common.disconnect import CancelOnDisconnect
from servers.gateway.middleware import CLIENT_CLOSED, ASGIApp, Message, Receive, Scope, Send

EXCHANGE = "mcpstack.exchange"  # GatewayMiddleware's record of the request, in its scope


class CancelOnHangUp:
    def __init__(self, app: ASGIApp, gone: Callable[[Scope], None]) -> None:
        self._app = CancelOnDisconnect(app)  # type: ignore[arg-type]
        self._gone = gone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watched() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                self._gone(scope)
            return message

        await self._app(scope, watched, send)  # type: ignore[arg-type]


def note_client_closed(scope: Scope) -> None:
    """For the OpenAPI path: a client that left before its answer started is logged and counted as 499."""
    exchange = scope.get(EXCHANGE)
    if exchange is not None and not exchange.started:
        exchange.status = CLIENT_CLOSED
