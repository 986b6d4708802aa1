"""The runner's settings (the server reads them from SANDBOX_* environment variables)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from servers.sandbox.layers import Layer


@dataclass(frozen=True)
class PipSettings:
    command: tuple[str, ...]  # e.g. ("/opt/sandbox-pip/bin/python", "-m", "pip")
    index_url: str | None = None
    trusted_host: str | None = None
    cert: str | None = None  # CA bundle pip must trust (PIP_CERT), when the system's is not enough
    timeout_seconds: float = 60.0  # download and install together
    max_packages: int = 5
    max_bytes: int = 200 * 1024 * 1024  # all downloaded wheels together; also the file-size cap of pip
    max_inodes: int = 20_000  # files and directories an install may create (its tmpfs' nr_inodes)


@dataclass(frozen=True)
class RunnerSettings:
    python: str = ""  # the sandbox's interpreter: the system one, never the server's venv ("" = find it)
    output_limit_bytes: int = 64 * 1024  # per stream
    scratch_root: str | None = None
    memory_limit_bytes: int = 512 * 1024 * 1024  # RLIMIT_AS
    max_processes: int = 64  # RLIMIT_NPROC, threads included
    max_file_bytes: int = 16 * 1024 * 1024  # RLIMIT_FSIZE
    max_open_files: int = 256  # RLIMIT_NOFILE
    disk_quota_bytes: int = 64 * 1024 * 1024  # size of the run's private tmpfs
    disk_inodes: int = 8192  # files and directories in it (nr_inodes), where inode_limits is on
    layers: frozenset[Layer] | None = None  # None: every layer the host supports
    run_uid: int = 65534  # kernel uid of runs when the server may switch users (separate_user)
    pip: PipSettings | None = None  # None: packages are refused

    def interpreter(self) -> str:
        return self.python or default_python()


def default_python() -> str:
    """The system interpreter (a venv's python would bring the venv's packages)."""
    for candidate in ("/usr/local/bin/python3", "/usr/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))
