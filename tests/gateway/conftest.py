"""Fixtures for the gateway's unit tests: settings from a small generated-style document, and a real
Redis server on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from servers.gateway.metrics import GatewayMetrics
from servers.gateway.settings import GatewaySettings
from tests.gateway.identities import SIGNING_KEY
from tests.gateway.stub_mcpo import StubUpstream, build, stub_upstreams


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def key_files(tmp_path: Path) -> dict[str, Path]:
    keys = {"open-webui": "k-open-webui-0123456789", "ci": "k-ci-0123456789abcdef", "noisy": "k-noisy-0123456789abc"}
    paths = {}
    for name, key in {**keys, "signing-key": SIGNING_KEY}.items():
        paths[name] = tmp_path / name
        paths[name].write_text(key + "\n")
    return paths


@pytest.fixture
def settings(key_files: dict[str, Path]) -> GatewaySettings:
    return GatewaySettings.model_validate(
        {
            "routes": {
                "time": {"required": True},
                "sandbox": {"required": False},
                "github": {"required": False, "tenant_upstreams": {"acme": "github--acme"}},
            },
            "clients": {
                "open-webui": {"key_file": str(key_files["open-webui"]), "forwards_user_identity": True},
                "ci": {"key_file": str(key_files["ci"]), "tenant": "platform"},
                "noisy": {"key_file": str(key_files["noisy"]), "tenant": "platform"},
            },
            "tenants": [
                {
                    "name": "platform",
                    "match": {"roles": ["admin"]},
                    "tools": {"time": "*", "sandbox": "*", "github": "*"},
                },
                {
                    "name": "acme",
                    "match": {"email_domains": ["acme.test"]},
                    "tools": {"time": ["get_current_time"], "github": "*"},
                },
                {
                    "name": "guests",
                    "match": {"emails": ["visitor@example.org"]},
                    "tools": {"time": ["get_current_time"]},
                },
            ],
            "default_tenant": None,
            "timeout_seconds": 1.0,
            "rate_limits": {"per_client_per_minute": 5, "global_per_minute": 8},
            "user_identity_secret_file": str(key_files["signing-key"]),
            "limits": {
                "max_body_bytes": 2048,
                "max_json_depth": 8,
                "body_timeout_seconds": 0.3,
                "max_concurrent_requests_per_client": 2,
                "concurrency_wait_seconds": 0.1,
            },
        }
    )


class RedisServer:
    """A real redis-server on a loopback port that a test can stop and start again."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required (scripts/bootstrap.sh installs it)"
        self._command = [
            binary,
            "--port",
            str(free_port()),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            *(["--requirepass", password] if password else []),  # a test's throwaway password, on loopback
        ]
        self.port = int(self._command[2])
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self._process:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[tuple[RedisServer, Path]]:
    """A real redis-server requiring a password, and the password's file (as a mounted secret would be)."""
    password_file = tmp_path / "password"
    password_file.write_text('s3cret "quoted" \\ and:@/chars\n')
    server = RedisServer(tmp_path, password=password_file.read_text().strip())
    server.start()
    yield server, password_file
    server.stop()


@pytest.fixture
def upstreams() -> dict[str, StubUpstream]:
    return stub_upstreams()


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics()


@pytest.fixture
async def client(
    settings: GatewaySettings, upstreams: dict[str, StubUpstream], metrics: GatewayMetrics
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway pipeline around the stand-in for mcpo (tests/gateway/stub_mcpo.py), over in-process HTTP."""
    app = build(settings, upstreams, metrics)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http
