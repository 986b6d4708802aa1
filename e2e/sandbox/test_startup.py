"""The sandbox image under Docker's default seccomp profile, where bubblewrap cannot create namespaces:
with the catalog's required layers it refuses to start, naming what is missing; without them it runs
on the layers it has (the seccomp filter still keeps the network out). Its token file is mounted as the stack
mounts it: without one the server would not start (servers/common/upstream_auth.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import docker
import httpx
import pytest
from docker.models.containers import Container

from mcpstack.local.containers import LABEL_STACK
from mcpstack.local.server_tokens import server_token
from mcpstack.local.stack import LocalStack
from servers.common.tests.authorized import mcp_client

pytestmark = pytest.mark.docker


Start = Callable[..., Container]


@pytest.fixture
def start(sandbox_stack: LocalStack) -> Iterator[Start]:
    """start(env overrides) -> a container of the sandbox image, as the catalog runs it but with the default profile."""
    spec = sandbox_stack.specs["sandbox"]
    secret_files = sandbox_stack.prepare(spec, area="default-profile").secret_files
    client = docker.from_env()
    started: list[Container] = []

    def run(**env: str) -> Container:
        container = client.containers.run(
            spec.image,
            entrypoint=list(spec.command or ()),
            detach=True,
            name=f"{sandbox_stack.name}-default-profile-{uuid.uuid4().hex[:6]}",
            user=spec.user,
            read_only=True,
            tmpfs={path: "rw,nosuid,nodev,size=64m" for path in spec.tmpfs},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],  # and Docker's default seccomp profile
            environment={**spec.env, **env},
            volumes={str(source): {"bind": target, "mode": "ro"} for target, source in secret_files.items()},
            labels={LABEL_STACK: sandbox_stack.name},
            ports={"8001/tcp": ("127.0.0.1", None)},
        )
        started.append(container)
        return container

    yield run
    for container in started:
        container.remove(force=True)


def wait_exit(container: Container, within: float = 60) -> int:
    return container.wait(timeout=within)["StatusCode"]


def base_url(container: Container, within: float = 60) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        container.reload()
        ports = container.attrs["NetworkSettings"]["Ports"].get("8001/tcp")
        if ports:
            url = f"http://127.0.0.1:{ports[0]['HostPort']}"
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
        if container.status == "exited":
            pytest.fail(container.logs().decode()[-2000:])
        time.sleep(0.25)
    pytest.fail("the sandbox did not answer /health")


def test_refuses_to_start_without_its_required_layers(start: Start) -> None:
    container = start()  # the catalog's SANDBOX_REQUIRED_LAYERS
    assert wait_exit(container) == 3
    logs = container.logs().decode()
    assert "refusing to start: required isolation layer(s) missing:" in logs
    for layer in (
        "user_namespace",
        "mount_namespace",
        "network_namespace",
        "pid_namespace",
        "ipc_namespace",
        "inode_limits",
    ):
        assert layer in logs
    assert "bubblewrap cannot create namespaces here" in logs
    assert "Uvicorn running" not in logs


def test_without_requirements_it_runs_on_the_layers_it_has(start: Start, sandbox_stack: LocalStack) -> None:
    container = start(SANDBOX_REQUIRED_LAYERS="")
    token = server_token(sandbox_stack.catalog, sandbox_stack.secrets, "sandbox")
    url = base_url(container)
    health = httpx.get(url + "/health", timeout=10).json()
    assert set(health["isolation"]["layers"]) == {"process_group", "scrubbed_env", "rlimits", "seccomp"}
    assert "network_namespace" in health["isolation"]["unavailable"]

    async def call(code: str) -> dict[str, Any]:
        async with mcp_client(url + "/mcp", token) as client:
            return dict((await client.call_tool("execute_python", {"code": code})).structured_content or {})

    escape = anyio.run(call, "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)")
    assert "PermissionError" in escape["stderr"]  # the seccomp filter, even without a network namespace
    fork = anyio.run(call, "import os\nos.setsid()")
    assert "PermissionError" in fork["stderr"]
    assert anyio.run(call, "print(6 * 7)")["stdout"] == "42\n"
