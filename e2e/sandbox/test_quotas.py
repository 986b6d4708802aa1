"""Quotas a run cannot escape sideways (issue 14, findings 6 and 10): the files (inodes) of every tmpfs a run or
its package install can write are limited, not only their bytes; the runs' kernel uid is not the one of the
other containers, so per-user kernel limits (inotify instances, pipe buffers) spent by a run do not break them;
pip's environment is not mounted into runs.
"""

from __future__ import annotations

import concurrent.futures
import statistics
import time

import docker
import pytest

from e2e.sandbox.conftest import PACKAGE_INODES, SandboxClient, dump
from mcpstack.local.containers import container_name

pytestmark = pytest.mark.docker
MIB = 1024 * 1024
INODES = 8192  # the catalog's SANDBOX_DISK_INODES
FILES = 120_000
# Creates empty files in DIRECTORY until it may not, holds them for a moment (the test measures the
# container's memory meanwhile), then fails with the error it got, if any.
MANY_FILES = """
import os, time
n, error = 0, None
try:
    for i in range({files}):
        open(os.path.join({directory!r}, "f%d" % i), "w").close()
        n += 1
except OSError as exc:
    error = exc
print(n, flush=True)
time.sleep(3)
if error:
    raise error
"""


def peak_growth(sandbox: SandboxClient, code: str) -> tuple[dict, int]:
    """The run's result and how much the container's memory grew at most while it ran."""
    baseline = statistics.median(sandbox.memory_bytes() for _ in range(3))
    peak = baseline
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(sandbox.call, code, timeout_seconds=30)
        while not running.done():
            peak = max(peak, sandbox.memory_bytes())
            time.sleep(0.2)
    return running.result(), int(peak - baseline)


@pytest.mark.parametrize("directory", [".", "/dev/shm"], ids=["workdir", "dev-shm"])
def test_empty_files_stop_at_the_inode_limit_not_the_containers_memory(sandbox: SandboxClient, directory: str) -> None:
    """120,000 empty files (no bytes against the disk quota) once added 113 MiB to the container's memory.
    /sandbox and /dev/shm share one tmpfs: SANDBOX_DISK_INODES (the catalog's 8192) for both."""
    result, growth = peak_growth(sandbox, MANY_FILES.format(files=FILES, directory=directory))
    assert "error" not in result, result
    created = int(result["stdout"].split()[0])
    print(f"{directory}: {created} files, container memory +{growth / MIB:.1f} MiB")  # the figure for the record
    assert created < INODES, dump(result)
    assert result["stopped_reason"] == "disk_quota", dump(result)
    assert "No space left on device" in result["stderr"]
    assert growth < 48 * MIB, f"the container's memory grew by {growth / MIB:.1f} MiB"


def test_a_package_with_more_files_than_the_install_may_create(sandbox: SandboxClient) -> None:
    """A small wheel of 3000 empty files: the install's own tmpfs stops it, before it reaches the container's /tmp."""
    result = sandbox.run("print('never')", packages=["mcpstack-many-files"])
    assert result["stopped_reason"] == "denied_package", dump(result)
    assert f"{PACKAGE_INODES} files" in result["message"], dump(result)
    assert result["stdout"] == ""
    assert sandbox.run("print('fine')", packages=["mcpstack-demo"])["stdout"] == "fine\n"


def test_the_sandbox_has_a_kernel_uid_of_its_own(sandbox: SandboxClient) -> None:
    """Per-user kernel limits are counted per host uid: no other container of the stack shares the sandbox's."""
    client = docker.from_env()
    users = {
        service: client.containers.get(container_name(sandbox.stack.name, service)).attrs["Config"]["User"]
        for service in ("time", "mcpo", "pypi")
    }
    own = sandbox.container.attrs["Config"]["User"].split(":")[0]
    assert own not in {user.split(":")[0] for user in users.values()}, (own, users)
    assert sandbox.run("import os; print(os.getuid())")["stdout"] == "1000\n"  # inside its user namespace


# Each holds a per-user kernel resource for a few seconds: every inotify instance the default limit
# (max_user_instances, 128) allows, or 64 MiB of pipe buffers (pipe-user-pages-soft).
HOLD_INOTIFY = """
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
held = [fd for fd in (libc.inotify_init1(0) for _ in range(200)) if fd >= 0]
print(len(held), flush=True)
time.sleep(6)
"""
HOLD_PIPES = """
import fcntl, os, time
held = []
try:
    for _ in range(100):
        r, w = os.pipe()
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1024 * 1024)
        held.append((r, w))
except OSError:
    pass
print(len(held), flush=True)
time.sleep(6)
"""
# What another container does meanwhile, as its own user.
CHECK_INOTIFY = "import ctypes; fd = ctypes.CDLL(None, use_errno=True).inotify_init1(0); print(fd, ctypes.get_errno())"
CHECK_PIPES = (
    "import fcntl, os\nr, w = os.pipe()\ntry:\n    print(fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1024 * 1024), 0)\n"
    "except OSError as exc:\n    print(-1, exc.errno)"
)


@pytest.mark.parametrize(
    ("hold", "check"), [(HOLD_INOTIFY, CHECK_INOTIFY), (HOLD_PIPES, CHECK_PIPES)], ids=["inotify", "pipes"]
)
def test_per_user_kernel_limits_spent_by_a_run_do_not_reach_other_containers(
    sandbox: SandboxClient, hold: str, check: str
) -> None:
    time_container = docker.from_env().containers.get(container_name(sandbox.stack.name, "time"))
    user = time_container.attrs["Config"]["User"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        holding = pool.submit(sandbox.call, hold, timeout_seconds=20)
        time.sleep(3)  # the run has started and holds what it could get
        code, output = time_container.exec_run(["python", "-c", check], user=user)
        result = holding.result()
    assert "error" not in result, result
    assert int(result["stdout"].split()[0]) > 0, dump(result)
    value, errno = map(int, output.decode().split())
    assert (code, errno) == (0, 0) and value > 0, f"the time container could not: {output.decode()}"


@pytest.mark.parametrize("packages", [None, ["mcpstack-demo"]], ids=["plain-run", "run-with-a-package"])
def test_pips_environment_is_not_mounted_into_runs(sandbox: SandboxClient, packages: list[str] | None) -> None:
    """Only the download and install steps see pip's venv; the code never does."""
    code = "import os, sys\nprint(os.path.exists('/opt/pip'), [p for p in sys.path if 'pip' in p])"
    arguments = {"packages": packages} if packages else {}
    assert sandbox.run(code, **arguments)["stdout"] == "False []\n"
