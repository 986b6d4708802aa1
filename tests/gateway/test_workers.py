"""How many processes the gateway runs: the flag, else the catalog's `workers`, else the CPUs its cgroup allows."""

from __future__ import annotations

from pathlib import Path

from servers.gateway.workers import cgroup_cpus, worker_count


def test_worker_count_from_flag_catalog_or_cgroup(tmp_path: Path) -> None:
    assert worker_count(3, 2) == 3
    assert worker_count(None, 2) == 2
    v2, quota, period = tmp_path / "cpu.max", tmp_path / "quota", tmp_path / "period"
    v2.write_text("150000 100000\n")
    assert cgroup_cpus(v2, (quota, period)) == 1.5
    v2.write_text("max 100000\n")
    assert cgroup_cpus(v2, (quota, period)) is None
    quota.write_text("-1\n"), period.write_text("100000\n")
    assert cgroup_cpus(tmp_path / "absent", (quota, period)) is None
    quota.write_text("200000\n")
    assert cgroup_cpus(tmp_path / "absent", (quota, period)) == 2.0
    assert cgroup_cpus(tmp_path / "absent", (tmp_path / "none", period)) is None
