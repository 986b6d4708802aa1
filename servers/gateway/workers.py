"""How many gateway processes to run: the catalog's `workers`, else the CPUs this container may use.

"The CPUs it may use" is the smaller of the CPUs the process may be scheduled on and its cgroup's CPU quota,
rounded up (Docker's `--cpus`, a Kubernetes CPU limit): a pod limited to 2 CPUs on a 64-core node runs 2
workers, not 64. Each worker keeps its own upstream sessions and stdio servers.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_V2_MAX = Path("/sys/fs/cgroup/cpu.max")  # "max 100000" or "200000 100000"
CGROUP_V1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))


def cgroup_cpus(v2_max: Path = CGROUP_V2_MAX, v1: tuple[Path, Path] = CGROUP_V1) -> float | None:
    """The cgroup's CPU quota in CPUs; None when there is none (or no cgroup to read)."""
    try:
        quota, period = v2_max.read_text().split()
    except (OSError, ValueError):
        try:
            quota, period = v1[0].read_text().strip(), v1[1].read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return None
    return int(quota) / int(period)


def available_cpus() -> int:
    scheduled = len(os.sched_getaffinity(0))
    quota = cgroup_cpus()
    return max(1, min(scheduled, math.ceil(quota))) if quota is not None else scheduled


def worker_count(requested: int | None, configured: int | None) -> int:
    """The command line's --workers, else the catalog's `workers`, else the available CPUs."""
    return requested or configured or available_cpus()
