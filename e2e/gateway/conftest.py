"""The gateway against real upstreams: a stack from a catalog variant with a 3 s time limit, extra
routes to the time server and the sandbox over SSE, and rate limits out of the way (they have a suite of their own)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import httpx
import jwt
import pytest

from e2e.gateway import broken_upstream
from mcpstack import REPO_ROOT
from mcpstack.local.containers import container_name
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import Mutation, variant_stack

pytestmark = pytest.mark.docker
TIME_LIMIT_SECONDS = 3
# Edge limits (catalog `services.mcpo.gateway.limits`), small enough for the suites to reach quickly.
EDGE = {
    "max_body_bytes": 262_144,
    "max_json_depth": 32,
    "header_timeout_seconds": 2,
    "body_timeout_seconds": 2,
    "max_concurrent_requests_per_client": 32,
    "concurrency_wait_seconds": 0.5,
}
# An MCP server that reports the X-Tenant-* headers its requests arrive with (runs in the time image,
# which has the MCP SDK): proof that a tenant's upstream credential reaches the upstream.
HEADER_ECHO = """
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
server = MCPServer("header-echo")
@server.tool(description="The X-Tenant-* headers of this request")
def seen_headers(ctx: Context) -> dict[str, str]:
    return {k.lower(): v for k, v in (ctx.headers or {}).items() if k.lower().startswith("x-tenant")}
app = server.streamable_http_app(stateless_http=True, json_response=True, host="0.0.0.0")
uvicorn.run(app, host="0.0.0.0", port=8005, log_level="warning")
"""


def relaxed_gateway(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    overlay["local"]["skip"].append("open-webui")  # these suites call the gateway as its clients do; ~25 s saved
    gateway = catalog["services"]["mcpo"]["gateway"]
    gateway["timeout_seconds"] = TIME_LIMIT_SECONDS
    gateway["rate_limits"].update(per_client_per_minute=100_000, global_per_minute=100_000)
    gateway["limits"] = dict(EDGE)
    # one process: per-process limits (concurrency slots, in-process buckets) and metrics are then the gateway's
    catalog["services"]["mcpo"]["command"] += ["--workers", "1"]
    time_route = gateway["routes"]["time"]
    # the same server over SSE, with the time route's credential (only the gateway may call it)
    gateway["routes"]["time-sse"] = {**time_route, "transport": "sse", "required": False}
    # the sandbox over SSE too: its calls stay on the SDK's session (test_upstream_calls.py cancels them)
    sandbox = catalog["services"]["sandbox"]
    sandbox["env"]["SANDBOX_TRANSPORTS"] = "streamable-http,sse"
    sandbox["mcp"]["transports"]["sse"] = "/sse"
    gateway["routes"]["sandbox-sse"] = {**gateway["routes"]["sandbox"], "transport": "sse", "required": False}
    gateway["routes"]["echo"] = {"service": "echo", "required": False}
    # no package installs: fuzzed `packages` lists must not send the sandbox to the package index
    catalog["services"]["sandbox"]["env"]["SANDBOX_PIP"] = ""
    catalog["services"]["echo"] = {
        "kind": "mcp-server",
        "image": catalog["services"]["time"]["image"],
        "command": ["python", "-c", HEADER_ECHO],
        "ports": [{"name": "http", "port": 8005}],
        "health": {"port": "http"},
        "mcp": {"transports": {"streamable-http": "/mcp"}},
        "metrics_unavailable": "a test double: nothing to measure",
    }
    # a faulty upstream: replies that break the MCP transport (e2e/gateway/broken_upstream.py)
    catalog["services"]["broken"] = {
        "kind": "mcp-server",
        "image": catalog["services"]["time"]["image"],
        "command": ["python", "-c", broken_upstream.SCRIPT],
        "ports": [{"name": "http", "port": broken_upstream.PORT}],
        "health": {"port": "http"},
        "mcp": {"transports": {"streamable-http": "/mcp"}},
        "metrics_unavailable": "a test double: nothing to measure",
    }
    gateway["routes"]["broken"] = {"service": "broken", "required": False}
    catalog["secrets"]["tenant-token-staff"] = {"description": "staff's token for the echo upstream", "generate": True}
    tenants = catalog["tenancy"]["tenants"]
    tenants["platform"]["tools"].update({"time-sse": "*", "sandbox-sse": "*", "echo": "*", "broken": "*"})
    tenants["staff"]["tools"]["echo"] = "*"
    tenants["staff"]["credentials"] = {"echo": {"X-Tenant-Token": "tenant-token-staff"}}


@pytest.fixture(scope="package")
def gw_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with variant_stack(tmp_path_factory.mktemp("gateway") / "config", relaxed_gateway, "mcpstack-gw") as stack:
        yield stack


class Gateway:
    """HTTP access to the stack's gateway as one of its clients (API key names from the catalog)."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.clients = stack.catalog.services["mcpo"].gateway.clients

    @property
    def url(self) -> str:
        return self.stack.url("mcpo")  # read live: a restarted container gets a new host port

    def key(self, client: str) -> str:
        return self.stack.secrets.value(self.clients[client].secret)

    def user_token(
        self, user_id: str, email: str | None = None, role: str = "user", *, secret: str | None = None, **claims: Any
    ) -> str:
        """An end user's identity as Open WebUI signs it (FORWARD_USER_INFO_HEADER_JWT_SECRET, HS256)."""
        now = int(time.time())
        payload = {"sub": user_id, "email": email or "", "name": user_id, "role": role, "iss": "open-webui"}
        payload |= {"iat": now, "exp": now + 300, **claims}
        return jwt.encode(payload, secret or self.signing_key, algorithm="HS256")

    @property
    def signing_key(self) -> str:
        name = self.stack.catalog.services["mcpo"].gateway.user_identity_secret
        assert name, "the catalog names no secret for signed user identities"
        return self.stack.secrets.value(name)

    def headers(self, client: str = "e2e", *, signed: bool = True, **user: str) -> dict[str, str]:
        """The client's key and, given user fields, the end user: signed as Open WebUI does, or as plain headers."""
        headers = {"Authorization": f"Bearer {self.key(client)}"}
        if user and signed:
            fields = dict(user)
            headers["X-OpenWebUI-User-Jwt"] = self.user_token(fields.pop("user_id"), **fields)
            return headers
        names = {"user_id": "X-OpenWebUI-User-Id", "email": "X-OpenWebUI-User-Email", "role": "X-OpenWebUI-User-Role"}
        headers.update({names[k]: v for k, v in user.items()})
        return headers

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        client: str = "e2e",
        timeout: float = 30,
        raw: bytes | None = None,
        extra: dict[str, str] | None = None,
        signed: bool = True,
        **user: str,
    ) -> httpx.Response:
        headers = {**self.headers(client, signed=signed, **user), "Content-Type": "application/json", **(extra or {})}
        content = raw if raw is not None else httpx.Request("POST", "http://x", json=body).content
        return httpx.post(self.url + path, content=content, headers=headers, timeout=timeout)

    def get(self, path: str, *, client: str | None = "e2e", signed: bool = True, **user: str) -> httpx.Response:
        headers = self.headers(client, signed=signed, **user) if client else {}
        return httpx.get(self.url + path, headers=headers, timeout=30)

    def wait_until(self, check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if check():
                return time.monotonic() - started
            time.sleep(0.25)
        pytest.fail(f"{what} not reached within {timeout} s")


@pytest.fixture(scope="package")
def gw(gw_stack: LocalStack) -> Gateway:
    return Gateway(gw_stack)


@contextmanager
def variant_gateway(directory: Path, mutate: Mutation, prefix: str, upstreams: Iterable[str]) -> Iterator[Gateway]:
    """The gateway of a variant stack (variants.py), once the named upstreams are connected (up to 90 s)."""
    names = list(upstreams)
    with variant_stack(directory, mutate, prefix) as stack:
        gateway = Gateway(stack)

        def ready() -> bool:
            answer = httpx.get(gateway.url + "/ready", headers=gateway.headers(), timeout=5).json()
            return all(answer["upstreams"][name]["state"] == "up" for name in names)

        gateway.wait_until(ready, 90, f"{', '.join(names)} connected")
        yield gateway


def run_in_gateway_image(gw: Gateway, module: str) -> Any:
    """`python -m MODULE` from tests/ inside the stack's gateway image (its MCP SDK, mcp<2, is not this venv's),
    without a network; its standard output, parsed as JSON."""
    output = docker.from_env().containers.run(
        container(gw.stack, "mcpo").image.id,
        ["python", "-m", module],
        volumes={str(REPO_ROOT / "tests"): {"bind": "/app/tests", "mode": "ro"}},
        working_dir="/app",
        network_disabled=True,
        remove=True,
        stderr=False,
    )
    return json.loads(output)


def container(stack: LocalStack, service: str) -> Any:
    return docker.from_env().containers.get(container_name(stack.name, service))


def wait_gateway_up(gw: Gateway, timeout: float = 30) -> None:
    def answers() -> bool:
        try:
            return httpx.get(gw.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    gw.wait_until(answers, timeout, "gateway /health")


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:mcpstack:problem:{slug}", body
    assert body["correlation_id"] == response.headers["x-request-id"]
    return body


def tmp_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
