"""The container memory limit as the cgroup reports it."""

from __future__ import annotations

import math
from pathlib import Path

from prometheus_client import CollectorRegistry

from servers.common.resources import container_memory_limit_bytes, register_resource_metrics


def test_limit_from_cgroup_v2_and_v1(tmp_path: Path) -> None:
    v2, v1 = tmp_path / "memory.max", tmp_path / "limit_in_bytes"
    v2.write_text("268435456\n")
    assert container_memory_limit_bytes((v2, v1)) == 268435456
    v1.write_text("536870912\n")
    assert container_memory_limit_bytes((tmp_path / "missing", v1)) == 536870912


def test_no_limit_is_nan(tmp_path: Path) -> None:
    unlimited_v2, unlimited_v1 = tmp_path / "v2", tmp_path / "v1"
    unlimited_v2.write_text("max\n")
    unlimited_v1.write_text("9223372036854771712\n")
    assert math.isnan(container_memory_limit_bytes((unlimited_v2,)))
    assert math.isnan(container_memory_limit_bytes((unlimited_v1,)))
    assert math.isnan(container_memory_limit_bytes((tmp_path / "none",)))


def test_process_and_limit_metrics_are_registered() -> None:
    registry = CollectorRegistry()
    register_resource_metrics(registry)
    assert registry.get_sample_value("process_resident_memory_bytes") > 0
    assert registry.get_sample_value("mcpstack_container_memory_limit_bytes") is not None
