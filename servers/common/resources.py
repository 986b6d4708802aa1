"""Process and container resource metrics every mcpstack service exports: process_* (CPU, memory,
file descriptors) and the memory limit of the container it runs in, read from its cgroup, so an alert
can compare the two wherever the service runs (Docker or Kubernetes). No MCP imports: the gateway
image uses it too."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, ProcessCollector

CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
UNLIMITED = 2**60  # cgroup v1 reports "no limit" as a huge number


def container_memory_limit_bytes(candidates: tuple[Path, ...] = CGROUP_LIMITS) -> float:
    """The container's memory limit in bytes; NaN when there is none (or no cgroup to read)."""
    for path in candidates:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text == "max" or not text.isdigit() or int(text) >= UNLIMITED:
            return float("nan")
        return float(text)
    return float("nan")


def register_resource_metrics(registry: CollectorRegistry) -> None:
    ProcessCollector(registry=registry)
    Gauge(
        "mcpstack_container_memory_limit_bytes",
        "Memory limit of the container (cgroup); NaN if unlimited",
        registry=registry,
    ).set_function(container_memory_limit_bytes)
