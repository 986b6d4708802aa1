"""uvicorn's HTTP protocols with a deadline for a request's headers (`limits.header_timeout_seconds`).

uvicorn closes idle keep-alive connections, but a connection that sends part of a request's headers and then
nothing (slowloris) stays open for ever. Here every connection must complete a request's headers within the
deadline, counted from when it opened or from the end of its previous response; otherwise it gets 408 and is
closed. The classes are uvicorn's own, selected with uvicorn's `http` setting; the deadline comes from the
gateway's config file, read once per process (so it reaches every worker process too).

They also tell the app when the server starts shutting down (`SHUTTING_DOWN`): uvicorn then waits for every
response in progress to finish, so a response that lasts (the MCP front's GET stream) must end by itself.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from servers.gateway.settings import CONFIG_ENV, load_config

HAVE_HTTPTOOLS = importlib.util.find_spec("httptools") is not None
if HAVE_HTTPTOOLS:  # the gateway image has it; uvicorn's `auto` prefers it
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
else:  # pragma: no cover - a development environment without the C parser
    HttpToolsProtocol = H11Protocol  # type: ignore[assignment,misc]

logger = logging.getLogger("mcpstack.gateway.edge")
SHUTTING_DOWN = asyncio.Event()  # set when uvicorn begins its shutdown (it calls every connection's `shutdown`)
TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@functools.cache
def header_timeout() -> float:
    return load_config(os.environ[CONFIG_ENV])[1].limits.header_timeout_seconds


class _HeaderDeadline:
    """Mixin for a uvicorn HTTP protocol: arm a timer while the connection owes the headers of a request."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None
    cycle: Any
    _deadline: asyncio.TimerHandle | None = None

    def shutdown(self) -> None:
        SHUTTING_DOWN.set()
        super().shutdown()  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(header_timeout(), self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _arm_if_idle(self) -> None:
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm()

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        peer = "%s:%d" % self.client if self.client else "-"  # noqa: UP031 - uvicorn's own address format
        logger.warning(
            "closed a connection from %s: no complete request headers within %g s",
            peer,
            header_timeout(),
            extra={"fields": {"cause": "header-timeout", "peer": peer}},
        )
        self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()


class HttpToolsWithHeaderDeadline(_HeaderDeadline, HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_if_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class H11WithHeaderDeadline(_HeaderDeadline, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request's headers arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_if_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


PROTOCOLS = {
    "h11": f"{__name__}:H11WithHeaderDeadline",
    "httptools": f"{__name__}:HttpToolsWithHeaderDeadline",
}


def protocol(choice: str) -> str:
    """uvicorn's `http` setting for `auto`, `h11` or `httptools`, with the header deadline."""
    if choice == "auto":
        return PROTOCOLS["httptools" if HAVE_HTTPTOOLS else "h11"]
    return PROTOCOLS[choice]
