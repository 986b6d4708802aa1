"""Shared fixtures for our MCP servers' tests: serve an ASGI app on a real loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from servers.common.tests.serving import BackgroundServer, Serve


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(app) -> base URL of the app running under uvicorn on 127.0.0.1, stopped after the test."""
    running: list[BackgroundServer] = []

    def start(app: Starlette) -> str:
        server = BackgroundServer(app)
        server.start()
        running.append(server)
        return server.url

    yield start
    for server in running:
        server.stop()
