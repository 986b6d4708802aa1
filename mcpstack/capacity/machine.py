"""What a measurement was taken on and when: the machine, the versions of what was measured, the load average
around it. Every capacity report (the gate, the knee, the load generator's ceiling, the benchmarks) carries these."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import docker
import psutil
from docker.errors import DockerException

from mcpstack import REPO_ROOT, __version__
from mcpstack.capacity.locust_run import Target


@dataclass(frozen=True)
class Machine:
    """The machine a measurement ran on (load generator and, for local stacks and benchmarks, the services)."""

    cpus: int
    memory_gib: float
    kernel: str
    python: str
    system: str
    docker: str | None = None  # the engine's version, where containers were measured

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        if self.docker is None:
            del doc["docker"]
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Machine:
        return cls(
            doc["cpus"],
            doc["memory_gib"],
            doc["kernel"],
            doc.get("python", ""),
            doc.get("system", ""),
            doc.get("docker"),
        )


def machine(*, with_docker: bool = False) -> Machine:
    """This machine; with the Docker engine's version when asked (the benchmarks measure containers)."""
    engine = None
    if with_docker:
        try:
            engine = docker.from_env().version().get("Version")
        except DockerException:
            engine = None
    return Machine(
        cpus=os.cpu_count() or 1,
        memory_gib=round(psutil.virtual_memory().total / 2**30, 1),
        kernel=platform.release(),
        python=platform.python_version(),
        system=platform.platform(terse=True),
        docker=engine,
    )


@dataclass(frozen=True)
class Versions:
    """What was measured: mcpstack and its commit, locust, the gateway's image and every service's."""

    mcpstack: str
    commit: str
    locust: str
    gateway_image: str
    images: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Versions:
        return cls(doc["mcpstack"], doc["commit"], doc["locust"], doc["gateway_image"], dict(doc.get("images") or {}))


def versions(target: Target) -> Versions:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return Versions(
        mcpstack=__version__,
        commit=commit + ("+changes" if commit and dirty else ""),
        locust=metadata.version("locust"),
        gateway_image=target.gateway.image.ref,
        images=target.images,
    )


@dataclass(frozen=True)
class Conditions:
    """The machine's load average (1, 5, 15 min) before and after a run: was something else busy?"""

    load_average_before: list[float] | None = None
    load_average_after: list[float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Conditions:
        return cls(doc.get("load_average_before"), doc.get("load_average_after"))


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def now() -> str:
    """The moment a report is made, as its `date` (UTC, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
