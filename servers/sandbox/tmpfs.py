"""The run's writable space: one tmpfs capped in files (inodes) as well as bytes, for /sandbox and /dev/shm.

bubblewrap's `--tmpfs` takes a size but no inode count, and a tmpfs without one lets a run create files until
the container runs out of memory: each empty file costs about 1 KiB of kernel memory and nothing of the size
quota (120,000 empty files: +113 MiB, issue 14). So the run's tmpfs is mounted before bubblewrap starts, by a
holder: `unshare` makes a user and mount namespace of the run's own (the run's uid is root there, which may
mount a tmpfs), a shell mounts it with `size=` and `nr_inodes=` on a directory of the run's scratch directory
and makes its two directories, then execs bubblewrap, which binds them as /sandbox and /dev/shm: one budget
for everything the run can write. The mount exists only in that namespace: nothing outside sees it, and it
goes when the run's last process does. Cost: one `sh`, one `mount` and one `mkdir` per run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from servers.sandbox.layers import HostSupport

MOUNT_POINT = "tmpfs"  # in the run's scratch directory
WORK = "tmpfs/work"  # the run's /sandbox
SHM = "tmpfs/shm"  # the run's /dev/shm
# $1 mount, $2 mkdir, $3 options, $4 mount point; then the command to exec
MOUNT_SCRIPT = 'set -e; "$1" -n -t tmpfs -o "$3" tmpfs "$4"; "$2" -m 0700 "$4/work" "$4/shm"; shift 4; exec "$@"'


@dataclass(frozen=True)
class Quota:
    bytes: int
    inodes: int


def prepare(held: Path, uid: int | None = None) -> Path:
    """The mount point of a run's tmpfs in its scratch directory, owned by the run's uid when it is not the
    server's."""
    point = held / MOUNT_POINT
    point.mkdir(mode=0o700, exist_ok=True)
    if uid is not None:
        os.chown(point, uid, uid)
    return held


def holder(host: HostSupport, held: Path, quota: Quota) -> list[str]:
    """The holder's command line: new user and mount namespaces, the tmpfs mounted, then what follows."""
    assert host.unshare and host.mount and host.mkdir and host.sh
    argv = [host.unshare, "--user", "--map-root-user", "--mount", "--propagation", "private", "--"]
    options = f"size={quota.bytes},nr_inodes={quota.inodes},mode=0700"
    return [*argv, host.sh, "-c", MOUNT_SCRIPT, "holder", host.mount, host.mkdir, options, str(held / MOUNT_POINT)]
