"""The sandbox as deployed: a stack from a catalog variant (the real sandbox image, container settings
and seccomp profile from the catalog) plus a local package index service, so that package tests
never leave the stack's network. Calls go over MCP streamable HTTP to the sandbox's published
127.0.0.1 port with the gateway's bearer token (the server answers no one else), and through the gateway.

Every test here ends by checking that the server is still healthy and still runs code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anyio
import docker
import httpx
import pytest

from mcpstack.local.containers import container_name
from mcpstack.local.server_tokens import server_token
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import variant_stack
from servers.common.tests.authorized import bearer, mcp_client
from servers.common.tests.serving import scraped
from servers.sandbox.tests.local_index import SCRIPT

pytestmark = pytest.mark.docker
INDEX_PORT = 8081
MAX_PACKAGE_BYTES = 2 * 1024 * 1024
PACKAGE_INODES = 1000  # files and directories a package install may create (mcpstack-many-files has 3000)
CALLER_META_KEY = "io.mcpstack/caller"  # who the gateway says the call is for (docs/sandbox.md)


def with_index(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    """The catalog as shipped, plus: a package index service; the sandbox installing from it; a small pool.
    Without Open WebUI, which these suites never talk to (its start-up is most of a stack's)."""
    overlay["local"]["skip"].append("open-webui")
    sandbox = catalog["services"]["sandbox"]
    catalog["services"]["pypi"] = {
        "kind": "service",
        "description": "test package index (servers/sandbox/tests/local_index.py)",
        "image": sandbox["image"],
        "command": ["python", "-c", SCRIPT, str(INDEX_PORT)],
        "ports": [{"name": "http", "port": INDEX_PORT}],
        "health": {"port": "http"},
        "metrics_unavailable": "a test package index: nothing to measure",
    }
    sandbox["env"].update(
        {
            "SANDBOX_PIP_INDEX_URL": f"http://pypi:{INDEX_PORT}/simple",
            "SANDBOX_PIP_TRUSTED_HOST": "pypi",
            "SANDBOX_MAX_PACKAGE_BYTES": MAX_PACKAGE_BYTES,
            "SANDBOX_MAX_CONCURRENT_RUNS": 2,
            "SANDBOX_MAX_QUEUED_RUNS": 1,
            "SANDBOX_QUEUE_TIMEOUT_SECONDS": 3,
            # one caller's share of the pool of 2: one run going and one waiting
            "SANDBOX_MAX_RUNS_PER_CALLER": 1,
            "SANDBOX_MAX_QUEUED_PER_CALLER": 1,
            "SANDBOX_PACKAGE_INODES": PACKAGE_INODES,
        }
    )
    catalog["services"]["mcpo"]["gateway"]["rate_limits"].update(
        per_client_per_minute=100_000, global_per_minute=100_000
    )


@pytest.fixture(scope="package")
def sandbox_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with variant_stack(tmp_path_factory.mktemp("sandbox") / "config", with_index, "mcpstack-sbx") as stack:
        yield stack


class SandboxClient:
    """execute_python over MCP streamable HTTP on the sandbox's published port."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.base = stack.url("sandbox")
        self.token = server_token(stack.catalog, stack.secrets, "sandbox")  # what the gateway's route sends
        self.container = docker.from_env().containers.get(container_name(stack.name, "sandbox"))

    def call(self, code: str, caller: str | None = None, **arguments: Any) -> dict[str, Any]:
        """The run's result; a tool error becomes {"error": text}. `caller`: the caller the gateway would name."""
        meta = {CALLER_META_KEY: {"client": "e2e", "tenant": "platform", "user": caller}} if caller else None

        async def call() -> dict[str, Any]:
            async with mcp_client(self.base + "/mcp", self.token) as client:
                result = await client.call_tool("execute_python", {"code": code, **arguments}, meta=meta)
            if result.is_error:
                return {"error": result.content[0].text}
            return dict(result.structured_content or {})

        return anyio.run(call)

    def run(self, code: str, caller: str | None = None, **arguments: Any) -> dict[str, Any]:
        result = self.call(code, caller, **arguments)
        assert "error" not in result, result["error"]
        return result

    def auth(self) -> dict[str, str]:
        """The Authorization header the gateway sends the sandbox."""
        return bearer(self.token)

    def health(self) -> dict[str, Any]:
        response = httpx.get(self.base + "/health", timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def metric(self, name: str, **labels: str) -> float | None:
        return scraped(self.base, name, **labels)

    def processes(self) -> list[str]:
        """Command lines of every process in the sandbox container."""
        top = self.container.top(ps_args="-eo pid,args")
        return [row[-1] for row in top["Processes"]]

    def exec(self, *command: str) -> str:
        _, output = self.container.exec_run(list(command), user=self.container.attrs["Config"]["User"])
        return output.decode()

    def memory_bytes(self) -> int:
        """The container's memory use as its cgroup counts it (cgroup v1 or v2): tmpfs and kernel memory included."""
        v1, v2 = "/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory.current"
        text = self.exec("sh", "-c", f"cat {v1} 2>/dev/null || cat {v2}")
        return int(text.split()[0])

    def still_healthy(self) -> None:
        """The server answers, reports itself healthy and still runs code; nothing of earlier runs is left."""
        self.container.reload()
        assert self.container.status == "running"
        assert self.container.attrs["RestartCount"] == 0
        assert self.health()["status"] == "ok"
        assert self.run("print('ok')")["stdout"] == "ok\n"
        assert self.leftovers() == [], "processes of a finished run are still alive"

    def leftovers(self, within: float = 5.0) -> list[str]:
        """Processes other than the server (tini and python) still there after `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            found = [p for p in self.processes() if "servers.sandbox" not in p]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@pytest.fixture(scope="package")
def sandbox(sandbox_stack: LocalStack) -> SandboxClient:
    return SandboxClient(sandbox_stack)


@pytest.fixture(autouse=True)
def healthy_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").still_healthy()


def dump(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=1)[:3000]
