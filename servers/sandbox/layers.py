"""Isolation layers: what each one is, which ones this host supports (probed at start-up by running
real sandboxed processes), and the check that refuses to start without the required ones."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

logger = logging.getLogger("mcpstack.sandbox")
PROBE_TIMEOUT_SECONDS = 20.0


class Layer(StrEnum):
    PROCESS_GROUP = "process_group"  # own session; the whole group is killed at the wall-clock limit
    SCRUBBED_ENV = "scrubbed_env"  # nothing of the server's environment reaches the code
    RLIMITS = "rlimits"  # CPU seconds, address space, processes, file size, open files, no core dumps
    SECCOMP = "seccomp"  # syscall filter: no sockets but AF_UNIX, no namespaces, mounts, ptrace, ...
    USER_NAMESPACE = "user_namespace"  # unprivileged: no capabilities outside, none kept inside
    MOUNT_NAMESPACE = "mount_namespace"  # read-only view of the system, a private size-capped tmpfs to write
    NETWORK_NAMESPACE = "network_namespace"  # no interface but a loopback of its own
    PID_NAMESPACE = "pid_namespace"  # sees only its own processes; all die with its first one
    IPC_NAMESPACE = "ipc_namespace"  # private System V IPC and POSIX message queues
    PRIVATE_PROC = "private_proc"  # a /proc of its own pid namespace (else no /proc at all)
    SEPARATE_USER = "separate_user"  # runs as another kernel uid than the server
    INODE_LIMITS = "inode_limits"  # the run's tmpfs are capped in files too, not only bytes (tmpfs.py)


ALWAYS = frozenset({Layer.PROCESS_GROUP, Layer.SCRUBBED_ENV})
NAMESPACES = frozenset(
    {
        Layer.USER_NAMESPACE,
        Layer.MOUNT_NAMESPACE,
        Layer.NETWORK_NAMESPACE,
        Layer.PID_NAMESPACE,
        Layer.IPC_NAMESPACE,
        Layer.PRIVATE_PROC,
    }
)
# bubblewrap always makes a user and a mount namespace: asking for any namespace layer brings both
BWRAP_BASE = frozenset({Layer.USER_NAMESPACE, Layer.MOUNT_NAMESPACE})


class SandboxUnavailable(RuntimeError):
    """A required isolation layer is missing: the server must not start."""


def parse_layers(text: str | None) -> frozenset[Layer] | None:
    """'all' or '' -> None (every available layer); else a comma-separated list of layer names."""
    if text is None or text.strip().lower() in ("", "all"):
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in Layer.__members__.values()]
    if unknown:
        raise ValueError(f"unknown isolation layer(s) {', '.join(unknown)}; known: {', '.join(Layer)}")
    return frozenset(Layer(name) for name in names)


@dataclass(frozen=True)
class HostSupport:
    """What the host offers, from probes that ran real sandboxed processes."""

    available: frozenset[Layer]
    missing: dict[Layer, str] = field(default_factory=dict)  # layer -> why it is not available
    bwrap: str | None = None
    bwrap_proc: bool = False  # a fresh /proc can be mounted (private_proc)
    bwrap_disable_userns: bool = False  # bwrap >= 0.8: the sandbox cannot make nested user namespaces
    prlimit: str | None = None
    choom: str | None = None
    nice: str | None = None
    setpriv: str | None = None  # switches to the run's uid where the server may (separate_user)
    unshare: str | None = None  # with mount and sh: the holder of the run's inode-capped tmpfs (inode_limits)
    mount: str | None = None
    mkdir: str | None = None
    sh: str | None = None


def check_required(available: Iterable[Layer], required: Iterable[Layer], missing: dict[Layer, str]) -> None:
    absent = sorted(set(required) - set(available))
    if absent:
        reasons = "; ".join(f"{layer}: {missing.get(layer, 'not available')}" for layer in absent)
        raise SandboxUnavailable(
            f"refusing to start: required isolation layer(s) missing: {', '.join(absent)} ({reasons}). "
            "See docs/sandbox.md for what each layer needs from the host or container runtime."
        )


NAMESPACE_PROBE = """
import json, os, socket
facts = {"uid": os.getuid(), "pid": os.getpid()}
try:
    facts["interfaces"] = sorted(name for _, name in socket.if_nameindex())
except OSError as exc:
    facts["interfaces"] = "error: %s" % exc
try:
    open("/usr/.sandbox-probe", "w").close()
    facts["usr_writable"] = True
except OSError:
    facts["usr_writable"] = False
facts["proc_pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit()) if os.path.isdir("/proc/self") else None
print(json.dumps(facts))
"""

# How many files fit in /sandbox and /dev/shm together (the probe's tmpfs has 16 inodes).
INODE_PROBE = """
import os
n = 0
try:
    while n < 64:
        open(os.path.join(("/sandbox", "/dev/shm")[n % 2], "f%d" % n), "w").close()
        n += 1
except OSError:
    pass
print(n)
"""

SECCOMP_PROBE = """
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    print("inet allowed")
except PermissionError:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    print("filtered")
"""


def run_probe(argv: list[str], *, pass_fds: tuple[int, ...] = ()) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
            pass_fds=pass_fds,
            cwd="/",
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return -1, "", str(exc)
    return done.returncode, done.stdout, done.stderr


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def bwrap_features(bwrap: str) -> bool:
    """True if this bwrap knows --disable-userns (0.8 and later)."""
    try:
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    match = re.search(r"(\d+)\.(\d+)", version.stdout)
    return bool(match) and (int(match[1]), int(match[2])) >= (0, 8)


def parse_facts(stdout: str) -> dict | None:
    try:
        facts = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return facts if isinstance(facts, dict) else None


def find_tool(name: str) -> str | None:
    found = shutil.which(name, path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return os.path.realpath(found) if found else None
