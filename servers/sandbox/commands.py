"""The command lines of a run: bubblewrap's namespaces and mounts, prlimit's limits, and what runs
outside both (CPU priority, OOM score, the run's uid)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from servers.sandbox.layers import HostSupport, Layer
from servers.sandbox.settings import PipSettings, RunnerSettings
from servers.sandbox.tmpfs import SHM, WORK

WORKDIR = "/sandbox"  # inside the namespaces: the run's private tmpfs, its cwd, HOME and TMPDIR
PACKAGES_DIR = "/packages"
SHM_BYTES = 16 * 1024 * 1024  # /dev/shm without inode_limits (with them, it shares the run's tmpfs)
PIP_PREFIX = "/opt/pip"  # where pip's venv is mounted for the package steps
INNER_UID = 1000  # the uid the code sees inside its user namespace
INNER_NAME = "sandbox"
NICE = 10
OOM_SCORE_ADJ = 1000
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# what the package download step needs to resolve names and check certificates
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates")


@dataclass(frozen=True)
class Mount:
    source: str
    destination: str
    writable: bool = False


@dataclass(frozen=True)
class Bwrap:
    """One bubblewrap invocation's options."""

    layers: frozenset[Layer]
    network: bool  # share the container's network (the package download step only)
    workdir_bytes: int
    seccomp_fd: int | None = None
    code_fd: int | None = None
    mounts: tuple[Mount, ...] = ()
    env: dict[str, str] | None = None  # None: keep bwrap's own environment
    held: Path | None = None  # where tmpfs.holder mounted the run's tmpfs (else bwrap mounts them, bytes capped only)
    with_pip: bool = False  # pip's venv mounted at PIP_PREFIX: the package steps only, never the run


def bwrap_argv(host: HostSupport, settings: RunnerSettings, runtime_dir: Path, options: Bwrap) -> list[str]:
    assert host.bwrap
    return [
        host.bwrap,
        *_namespaces(host, options),
        *_filesystem(host, settings, runtime_dir, options),
        *_environment(options.env),
        *(["--seccomp", str(options.seccomp_fd)] if options.seccomp_fd is not None else []),
    ]


def _namespaces(host: HostSupport, options: Bwrap) -> list[str]:
    argv = ["--unshare-user", "--uid", str(INNER_UID), "--gid", str(INNER_UID)]
    wanted = {
        Layer.NETWORK_NAMESPACE: "--unshare-net",
        Layer.PID_NAMESPACE: "--unshare-pid",
        Layer.IPC_NAMESPACE: "--unshare-ipc",
    }
    for layer, flag in wanted.items():
        if layer in options.layers and not (layer is Layer.NETWORK_NAMESPACE and options.network):
            argv.append(flag)
    argv += ["--unshare-uts", "--hostname", INNER_NAME, "--unshare-cgroup-try", "--die-with-parent"]
    if host.bwrap_disable_userns:
        argv.append("--disable-userns")
    return [*argv, "--cap-drop", "ALL"]


def _filesystem(host: HostSupport, settings: RunnerSettings, runtime_dir: Path, options: Bwrap) -> list[str]:
    argv = system_binds(settings.interpreter(), settings.pip if options.with_pip else None)
    argv += ["--ro-bind", str(runtime_dir / "etc/passwd"), "/etc/passwd"]
    argv += ["--ro-bind", str(runtime_dir / "etc/group"), "/etc/group"]
    if options.network:
        for path in NETWORK_FILES:
            if os.path.exists(path):
                argv += ["--ro-bind", path, path]
        if settings.pip and settings.pip.cert:
            argv += ["--ro-bind", settings.pip.cert, settings.pip.cert]
    # /dev: bubblewrap's minimal set (null, zero, random, urandom, tty, ...), then read-only; shared memory
    # (multiprocessing's semaphores) gets a small tmpfs of its own
    shm = "/dev/shm"  # noqa: S108 - the run's own tmpfs
    argv += ["--dev", "/dev"]
    if options.held:
        argv += ["--bind", str(options.held / SHM), shm]
    else:
        argv += ["--size", str(min(options.workdir_bytes, SHM_BYTES)), "--tmpfs", shm]
    if host.bwrap_proc and {Layer.PRIVATE_PROC, Layer.PID_NAMESPACE} <= options.layers:
        argv += ["--proc", "/proc"]
    if options.held:
        argv += ["--bind", str(options.held / WORK), WORKDIR]
    else:
        argv += ["--size", str(options.workdir_bytes), "--perms", "0700", "--tmpfs", WORKDIR]
    tmp = "/tmp"  # noqa: S108 - a symlink to the run's own tmpfs
    argv += ["--symlink", WORKDIR, tmp]
    for mount in options.mounts:
        argv += ["--bind" if mount.writable else "--ro-bind", mount.source, mount.destination]
    if options.code_fd is not None:
        argv += ["--file", str(options.code_fd), f"{WORKDIR}/main.py"]
    return [*argv, "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORKDIR]


def _environment(env: dict[str, str] | None) -> list[str]:
    if env is None:
        return []
    argv = ["--clearenv"]
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    return argv


def system_binds(python: str, pip: PipSettings | None) -> list[str]:
    """The system, read-only: /usr and the top-level links or directories into it."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), f"/{name}"]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), f"/{name}"]
    python_prefix = prefix_outside_usr(python)
    if python_prefix:
        argv += ["--ro-bind", python_prefix, python_prefix]
    pip_prefix = prefix_outside_usr(pip.command[0]) if pip else None
    if pip_prefix:  # a venv: its python finds its packages from where it is, so it can live anywhere
        argv += ["--ro-bind", pip_prefix, PIP_PREFIX]
    return argv


def pip_command(pip: PipSettings, *, inside: bool) -> list[str]:
    """pip's command line, inside bubblewrap (its venv mounted at PIP_PREFIX) or not."""
    prefix = prefix_outside_usr(pip.command[0])
    if inside and prefix:
        return [PIP_PREFIX + pip.command[0][len(prefix) :], *pip.command[1:]]
    return list(pip.command)


def prefix_outside_usr(executable: str) -> str | None:
    """An interpreter's installation directory when it is not under /usr (e.g. /opt/sandbox-pip)."""
    path = Path(executable)
    if str(path).startswith("/usr/"):
        return None
    return str(path.parent.parent) if path.parent.name == "bin" else str(path.parent)


def as_user(setpriv: str, uid: int) -> list[str]:
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def outside(host: HostSupport, run_user: int | None) -> list[str]:
    """Outside every namespace: lower CPU priority, first in line for the OOM killer, the run's own uid."""
    argv = []
    if host.nice:
        argv += [host.nice, "-n", str(NICE)]
    if host.choom:
        argv += [host.choom, "-n", str(OOM_SCORE_ADJ), "--"]
    if run_user is not None and host.setpriv:
        argv += as_user(host.setpriv, run_user)
    return argv


def limits(
    host: HostSupport,
    settings: RunnerSettings,
    cpu_seconds: float,
    *,
    memory: int | None = None,
    file_bytes: int | None = None,
) -> list[str]:
    """prlimit's options: CPU seconds, address space, processes, file size, open files, no core dumps."""
    assert host.prlimit
    cpu = max(1, math.ceil(cpu_seconds))
    return [
        host.prlimit,
        f"--cpu={cpu}:{cpu + 1}",
        f"--as={memory or settings.memory_limit_bytes}",
        f"--nproc={settings.max_processes}",
        f"--fsize={file_bytes or settings.max_file_bytes}",
        f"--nofile={settings.max_open_files}",
        "--core=0",
        "--",
    ]


def run_env(home: str, *, packages_path: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A run's whole environment: nothing of the server's (tokens, service config) reaches user code."""
    env = {
        "PATH": SYSTEM_PATH,
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "USER": INNER_NAME,
        "LOGNAME": INNER_NAME,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    if packages_path:
        env["PYTHONPATH"] = packages_path
    return env | (extra or {})


@contextlib.contextmanager
def memfd(name: str, data: bytes) -> Iterator[int]:
    """An anonymous in-memory file holding `data`, positioned at its start, closed afterwards."""
    fd = os.memfd_create(name)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.lseek(fd, 0, os.SEEK_SET)
        yield fd
    finally:
        os.close(fd)


def fds(*candidates: int | None) -> Sequence[int]:
    return [fd for fd in candidates if fd is not None]
