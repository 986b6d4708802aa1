"""The gateway benchmark's stack: the dev catalog with the rate limits lifted and without Open WebUI (not on any
measured path; it would take CPU), plus containers on its network for stock mcpo 0.0.20 (its own CLI, in the
gateway image) and the gateway with one worker process (the shipped one runs the catalog's `workers`)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from mcpstack.capacity.bench.gateway_paths import DIRECT, GATEWAY, ONE_WORKER, STOCK
from mcpstack.capacity.stack_variants import knee_stack
from mcpstack.local.containers import LABEL_STACK, container_name
from mcpstack.local.server_tokens import server_token
from mcpstack.local.variants import variant_stack

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - inside a container; published on 127.0.0.1 only
NANO = 1e9


@dataclass(frozen=True)
class BenchStack:
    """Where each target serves (name -> base URL), the key the benchmark calls with, the time server's token (what
    the gateway presents to it), the containers by the names endpoints give them (for their CPU), and how many
    worker processes the shipped gateway runs."""

    urls: dict[str, str]
    key: str
    server_token: str
    containers: dict[str, Any]
    gateway_workers: int


def _stock_config(workdir: Path, server_token: str) -> None:
    """Stock mcpo's config: the time server with its token (as the catalog's route sends it), the stdio server."""
    servers = {
        "time": {
            "type": "streamable-http",
            "url": "http://time:8003/mcp",
            "headers": {"Authorization": f"Bearer {server_token}"},
        },
        "time-reference": {
            "command": "/opt/mcp-stdio/time-reference/bin/mcp-server-time",
            "args": ["--local-timezone", "UTC"],
        },
    }
    path = workdir / "stock-mcpo.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    path.chmod(0o644)
    workdir.chmod(0o755)


def _workers(configured: int | None, nano_cpus: int, cpus: int) -> int:
    """What servers/gateway/workers.py decides inside the container: the catalog's, else its CPUs."""
    if configured:
        return configured
    return max(1, min(cpus, math.ceil(nano_cpus / NANO))) if nano_cpus else cpus


@contextmanager
def bench_stack(workdir: Path, cpus: int) -> Iterator[BenchStack]:
    with variant_stack(workdir / "config", knee_stack, "mcpstack-bench") as stack:
        client = docker.from_env()
        gateway = client.containers.get(container_name(stack.name, "mcpo"))
        settings = stack.catalog.services["mcpo"].gateway  # type: ignore[union-attr]
        key = stack.secrets.value(settings.clients["loadtest"].secret)
        token = server_token(stack.catalog, stack.secrets, "time")
        _stock_config(workdir, token)
        command = gateway.attrs["Config"]["Entrypoint"]
        stock = ["mcpo", "--host", ALL_INTERFACES, "--port", "8080", "--config", "/bench/stock-mcpo.json"]
        extras = {
            STOCK: ([*stock, "--api-key", key], [f"{workdir}:/bench:ro"]),
            ONE_WORKER: ([*command, "--workers", "1"], gateway.attrs["HostConfig"]["Binds"]),
        }
        urls = {GATEWAY: stack.url("mcpo"), DIRECT: stack.url("time")}
        containers = {GATEWAY: gateway, "time": client.containers.get(container_name(stack.name, "time"))}
        try:
            for name, (entrypoint, binds) in extras.items():
                container = client.containers.run(
                    gateway.image.id,
                    entrypoint=entrypoint,
                    detach=True,
                    name=f"{stack.name}-bench-{uuid.uuid4().hex[:4]}",
                    network=stack.network,
                    user="10001:10001",
                    read_only=True,
                    tmpfs={"/tmp": ""},  # noqa: S108 - a private tmpfs
                    cap_drop=["ALL"],
                    security_opt=["no-new-privileges:true"],
                    labels={LABEL_STACK: stack.name},
                    volumes=binds,
                    ports={"8080/tcp": ("127.0.0.1", None)},
                )
                containers[name] = container
                container.reload()
                port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
                urls[name] = f"http://127.0.0.1:{port}"
            workers = _workers(settings.workers, gateway.attrs["HostConfig"].get("NanoCpus") or 0, cpus)
            yield BenchStack(urls, key, token, containers, workers)
        finally:
            for name in extras:
                if name in containers:
                    containers[name].remove(force=True)
