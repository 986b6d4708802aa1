"""Serve an ASGI app under uvicorn on a real loopback port, from a background thread, and scrape it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

Serve = Callable[[Starlette], str]
"""The `serve` fixture: serve(app) -> base URL such as http://127.0.0.1:40123."""

STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


def loopback_socket() -> socket.socket:
    """A socket bound to a free 127.0.0.1 port, handed to uvicorn as is (no pick-then-bind race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class BackgroundServer:
    """uvicorn serving one app from a daemon thread with its own event loop."""

    def __init__(self, app: Starlette) -> None:
        self.sock = loopback_socket()
        self.port: int = self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self.server.started:
            if not self.thread.is_alive():
                self.sock.close()
                raise RuntimeError("uvicorn exited during startup (see the log above)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not start within {STARTUP_TIMEOUT_SECONDS:g} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        self.sock.close()
        if self.thread.is_alive():
            raise RuntimeError(f"uvicorn did not stop within {SHUTDOWN_TIMEOUT_SECONDS:g} s")


def scraped(base_url: str, name: str, **labels: str) -> float | None:
    """One sample from the app's /metrics page, parsed the way Prometheus would; None if absent."""
    response = httpx.get(base_url + "/metrics")
    response.raise_for_status()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None
