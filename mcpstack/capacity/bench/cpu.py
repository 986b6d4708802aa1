"""CPU a benchmark's containers spend per call: each container's cgroup CPU usage (cgroup v1 `cpuacct.usage`, v2
`cpu.stat`, as the Docker API reports it) read before and after a measurement, divided by the calls completed.
Everything in a container counts: every worker process, and the stdio servers a gateway spawns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

NS_PER_MS = 1_000_000


class Stats(Protocol):
    """A Docker container as far as this needs it (docker.models.containers.Container)."""

    def stats(self, **kwargs: Any) -> Any: ...


def cpu_ns(container: Stats) -> int:
    """The container's CPU time so far, in nanoseconds (one quick snapshot: no second sample)."""
    return int(container.stats(stream=False, one_shot=True)["cpu_stats"]["cpu_usage"]["total_usage"])


@dataclass(frozen=True)
class CallCpu:
    """CPU milliseconds one call cost the gateway (or stock mcpo) and the MCP server it called.

    None where the path has no such container: no gateway on the direct path; a stdio server runs inside the
    gateway's container, so its CPU is in `gateway_ms`.
    """

    gateway_ms: float | None
    server_ms: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CallCpu:
        return cls(**doc)


def per_call(before: Mapping[str, int], after: Mapping[str, int], name: str | None, calls: int) -> float | None:
    """ms of CPU per call of container `name` between two readings; None without a container or a call."""
    if name is None or calls <= 0:
        return None
    return round((after[name] - before[name]) / NS_PER_MS / calls, 3)


class CpuMeter:
    """Reads the CPU time of the benchmark's containers, by the names the endpoints give them."""

    def __init__(self, containers: Mapping[str, Stats]) -> None:
        self._containers = dict(containers)

    def read(self, names: list[str | None]) -> dict[str, int]:
        return {name: cpu_ns(self._containers[name]) for name in names if name is not None}
