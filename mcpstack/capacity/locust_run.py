"""Runs a locustfile headless as a subprocess against a target and watches it.

The target is a running local stack (its gateway URL and the load client's key from the stack's secrets) or any
deployed gateway URL (the key from an environment variable). While locust runs, the runner samples every second the
locust process's CPU and the connections it holds to the target (psutil), and, for a local stack, each container's
CPU (cgroup accounting). locust records every request itself (loadtests/common.py); nothing is taken from its
rounded statistics.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from mcpstack import REPO_ROOT
from mcpstack.capacity.record import LocustRun, Record, Sample
from mcpstack.catalog import Catalog
from mcpstack.catalog.checks import load_test_forwards_users
from mcpstack.catalog.models import GatewayService
from mcpstack.local.containers import LABEL_SERVICE, LABEL_STACK
from mcpstack.local.docker_engine import docker_client
from mcpstack.local.stack import LocalStack

LOCUSTFILES = REPO_ROOT / "loadtests"
Log = Callable[[str], None]
KEY_ENV = "MCPSTACK_LOADTEST_KEY"


class LoadTestError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    """Where the load goes: a gateway URL and the load client's key, and the catalog it was deployed from."""

    url: str
    key: str
    catalog: Catalog | None  # the environment the target was deployed from: SLOs, load client, rate limits
    stack: str | None = None  # local stack name: its containers' CPU is sampled
    images: dict[str, str] = field(default_factory=dict)

    @property
    def gateway(self) -> GatewayService:
        assert self.catalog is not None
        client = self.catalog.slos.load.client
        return next(g for g in self.catalog.gateways().values() if client in g.gateway.clients)


def local_target(stack: LocalStack) -> Target:
    """A running LocalStack: its gateway's URL, and the load client's key from the stack's secrets."""
    catalog: Catalog = stack.catalog
    client = catalog.slos.load.client
    name, gateway = next((n, g) for n, g in catalog.gateways().items() if client in g.gateway.clients)
    images = {s.service: s.image for s in stack.status()}
    return Target(
        stack.url(name), stack.secrets.value(gateway.gateway.clients[client].secret), catalog, stack.name, images
    )


def remote_target(url: str, catalog: Catalog, key_env: str = KEY_ENV) -> Target:
    key = os.environ.get(key_env)
    if not key:
        raise LoadTestError(f"--target {url}: set {key_env} to the {catalog.slos.load.client!r} client's API key")
    return Target(url.rstrip("/"), key, catalog)


def identity_headers(catalog: Catalog, user: str) -> dict[str, str]:
    """The virtual user's own id, when its client forwards users (a bucket of its own; never a role or tenant)."""
    return {"X-OpenWebUI-User-Id": user} if load_test_forwards_users(catalog) else {}


def preflight(target: Target) -> None:
    """Fail fast, with the gateway's own answer, when the target is down or refuses the key or the users."""
    assert target.catalog is not None
    try:
        health = httpx.get(f"{target.url}/health", timeout=10)
        call = httpx.post(
            f"{target.url}/time/get_current_time",
            json={"timezone": "UTC"},
            headers={"Authorization": f"Bearer {target.key}", **identity_headers(target.catalog, "preflight-user")},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise LoadTestError(f"{target.url} does not answer: {exc}") from None
    if health.status_code != 200:
        raise LoadTestError(f"{target.url}/health answered {health.status_code}: {health.text[:200]}")
    if call.status_code != 200:
        raise LoadTestError(f"a tool call as a virtual user answered {call.status_code}: {call.text[:300]}")


def _target_addresses(url: str) -> tuple[set[str], int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(parts.hostname or "127.0.0.1", port, proto=socket.IPPROTO_TCP)
    return {str(info[4][0]) for info in infos}, port


class Sampler:
    """Samples the locust process (CPU, established connections to the target) and the stack's containers."""

    def __init__(self, pid: int, url: str, stack: str | None) -> None:
        self.process = psutil.Process(pid)
        self.addresses, self.port = _target_addresses(url)
        self.cgroups = _container_cgroups(stack) if stack else {}
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.process.cpu_percent(None)
        usage = {service: _cpu_usage(path) for service, path in self.cgroups.items()}
        last = time.monotonic()
        while not self._stop.wait(1.0):
            try:
                cpu = self.process.cpu_percent(None)
                connections = sum(
                    1
                    for c in self.process.net_connections("tcp")
                    if c.status == psutil.CONN_ESTABLISHED
                    and c.raddr
                    and c.raddr.port == self.port
                    and c.raddr.ip in self.addresses
                )
            except psutil.Error:
                return
            now = time.monotonic()
            containers = {}
            for service, path in self.cgroups.items():
                current = _cpu_usage(path)
                if current is not None and usage.get(service) is not None:
                    containers[service] = round((current - usage[service]) / 1e9 / (now - last) * 100, 1)  # type: ignore[operator]
                usage[service] = current
            last = now
            self.samples.append(Sample(round(time.time(), 3), round(cpu, 1), connections, containers))


def _container_cgroups(stack: str) -> dict[str, Path]:
    """service -> its container's CPU accounting file (cgroup v1 cpuacct.usage in ns, or v2 cpu.stat)."""
    found = {}
    for container in docker_client().containers.list(filters={"label": f"{LABEL_STACK}={stack}"}):
        service = container.labels.get(LABEL_SERVICE, container.name)
        for path in (
            Path(f"/sys/fs/cgroup/cpuacct/docker/{container.id}/cpuacct.usage"),
            Path(f"/sys/fs/cgroup/system.slice/docker-{container.id}.scope/cpu.stat"),
        ):
            if path.exists():
                found[service] = path
                break
    return found


def _cpu_usage(path: Path) -> float | None:
    """Nanoseconds of CPU the cgroup has used."""
    try:
        text = path.read_text()
    except OSError:
        return None
    if path.name == "cpu.stat":
        usec = next((line.split()[1] for line in text.splitlines() if line.startswith("usage_usec")), None)
        return float(usec) * 1000 if usec else None
    return float(text.strip())


def run_locust(
    locustfile: str,
    target: Target,
    report_dir: Path,
    *,
    users: int,
    spawn_rate: float,
    seconds: float,
    environment: dict[str, str],
    log: Log,
) -> LocustRun:
    """Run locust headless for `seconds` in all, with its HTML report; return what it recorded and the samples."""
    report_dir.mkdir(parents=True, exist_ok=True)
    record_path = report_dir / "requests.json"
    record_path.unlink(missing_ok=True)
    forwards = load_test_forwards_users(target.catalog) if target.catalog else False
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "LOADTEST_RUN": f"lt{uuid.uuid4().hex[:6]}",
        "LOADTEST_KEY": target.key,
        "LOADTEST_RECORD": str(record_path),
        "LOADTEST_FORWARDS_USERS": "1" if forwards else "",
        **environment,
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILES / locustfile),
        "--headless",
        "--host",
        target.url,
        "--users",
        str(users),
        "--spawn-rate",
        f"{spawn_rate:g}",
        "--run-time",
        f"{math.ceil(seconds)}s",
        "--reset-stats",  # locust's own HTML report without the ramp-up, as ours
        "--html",
        str(report_dir / "locust.html"),
        "--loglevel",
        "WARNING",
        "--only-summary",
    ]
    log(f"locust: {users} users against {target.url} for {math.ceil(seconds)} s ({locustfile})")
    started = time.time()
    with (report_dir / "locust.log").open("w") as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            with Sampler(process.pid, target.url, target.stack) as sampler:
                exit_code = process.wait(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            log_file = report_dir / "locust.log"
            raise LoadTestError(f"locust did not stop within {seconds + 120:.0f} s; see {log_file}") from None
        except BaseException:
            process.kill()
            process.wait()
            raise
    ended = time.time()
    if not record_path.exists():
        tail = (report_dir / "locust.log").read_text()[-2000:]
        raise LoadTestError(f"locust recorded nothing (exit {exit_code}):\n{tail}")
    record = Record.from_json(json.loads(record_path.read_text()))
    return LocustRun(record, sampler.samples, started, ended, exit_code, command)


@dataclass(frozen=True)
class TargetInfo:
    """What a report says about its target: URL, local stack, the catalog environment and the load client."""

    url: str
    stack: str | None
    environment: str
    client: str | None = None

    @classmethod
    def of(cls, target: Target, *, with_client: bool = True) -> TargetInfo:
        assert target.catalog is not None
        client = target.catalog.slos.load.client if with_client else None
        return cls(target.url, target.stack, target.catalog.environment, client)

    def to_json(self) -> dict[str, Any]:
        doc = {"url": self.url, "stack": self.stack, "environment": self.environment}
        return doc if self.client is None else {**doc, "client": self.client}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TargetInfo:
        return cls(doc["url"], doc.get("stack"), doc["environment"], doc.get("client"))
