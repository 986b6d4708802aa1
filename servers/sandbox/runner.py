"""Runs Python code in a fresh, isolated child process; optionally installs wheels for it first.

Each run, from the outside in (docs/sandbox.md has the full picture):

    nice -n 10  choom -n 1000  [setpriv]     lower CPU priority; first for the OOM killer; the run's uid
      bwrap (user, mount, net, pid, ipc, uts, cgroup namespaces; seccomp filter; no capabilities)
        prlimit (CPU s, address space, processes, file size, open files, no core dumps)
          python3 -s -B main.py              in /sandbox: a private, size-capped tmpfs, the only writable place

started in its own session and process group with a scrubbed environment, killed as a whole group at
the wall-clock limit or when its output passes the cap. Without bubblewrap, launcher.py installs the
seccomp filter and the code runs in a scratch directory deleted afterwards. Which layers a host
supports is probed at start-up (probe.py), not assumed.

Packages: validated (packages.py), then downloaded as wheels only (`pip download --only-binary
:all:`, so no setup.py ever runs) in a sandbox that has the network and nothing else writable,
checked again (every wheel, dependencies included, against the blocklist and a size cap),
installed offline (`pip install --no-index --no-deps --target`) into the run's scratch directory
in a sandbox without network, and mounted read-only on the run's PYTHONPATH.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from servers.sandbox import packages as pkgs
from servers.sandbox.commands import (
    INNER_NAME,
    INNER_UID,
    PACKAGES_DIR,
    WORKDIR,
    Bwrap,
    Mount,
    bwrap_argv,
    fds,
    limits,
    memfd,
    outside,
    pip_command,
    run_env,
)
from servers.sandbox.layers import ALWAYS, BWRAP_BASE, NAMESPACES, HostSupport, Layer
from servers.sandbox.probe import LAUNCHER, probe_host
from servers.sandbox.results import ExecutionResult, StopReason, not_run
from servers.sandbox.seccomp import build_filter
from servers.sandbox.settings import PipSettings, RunnerSettings
from servers.sandbox.supervise import Supervised, supervise
from servers.sandbox.tmpfs import Quota, holder, prepare

__all__ = ["ExecutionResult", "PipSettings", "RunnerSettings", "Sandbox", "StopReason"]

SIGNAL_EXIT_BASE = 128  # bwrap reports a child killed by signal N as exit status 128 + N
PIP_MEMORY_BYTES = 1024 * 1024 * 1024
PIP_WORKDIR_SLACK = 64 * 1024 * 1024
MESSAGE_TAIL_CHARS = 1500
PIP_ENV = {"PIP_NO_COLOR": "1", "PIP_ROOT_USER_ACTION": "ignore", "PIP_BREAK_SYSTEM_PACKAGES": "1"}

EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception)\b")


def uncaught_exception_line(stderr: str) -> str:
    """The last exception summary line of stderr, else its last non-blank line. Several processes dying at once
    (a fork bomb) interleave their tracebacks, so the very last line is often a traceback's middle."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if EXCEPTION_LINE.match(line)), lines[-1] if lines else "")


# The uncaught exception's line names the limit a failed run ran into.
LAST_LINE_REASONS: list[tuple[re.Pattern[str], StopReason, str]] = [
    (re.compile(r"^MemoryError\b"), StopReason.MEMORY, "the run ran out of memory (address-space limit {memory})"),
    (
        re.compile(r"\[Errno 11\] Resource temporarily unavailable|can't start new thread"),
        StopReason.PROCESS_LIMIT,
        "the run reached its limit of {processes} processes and threads",
    ),
    (re.compile(r"\[Errno 27\] File too large"), StopReason.FILE_SIZE, "a file reached the size limit ({file_size})"),
    (
        re.compile(r"\[Errno 28\] No space left on device"),
        StopReason.DISK_QUOTA,
        "the run's disk space is full ({disk})",
    ),
    (re.compile(r"\[Errno 24\] Too many open files"), StopReason.OPEN_FILES, "the run reached its open-file limit"),
]


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def oom_kills() -> int | None:
    """The memory cgroup's OOM-kill counter (cgroup v2 or v1), if readable."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
    return None


@dataclass
class Sandbox:
    settings: RunnerSettings
    host: HostSupport
    runtime_dir: Path
    layers: frozenset[Layer] = field(default_factory=frozenset)  # what runs get

    @classmethod
    def create(cls, settings: RunnerSettings | None = None) -> Sandbox:
        """Probe the host (blocking: call at start-up) and prepare the runtime directory."""
        settings = settings or RunnerSettings()
        runtime = Path(tempfile.mkdtemp(prefix="mcpstack-sandbox-", dir=settings.scratch_root))
        runtime.chmod(0o755)  # the run's uid must reach what is bound into its namespaces
        etc = runtime / "etc"
        etc.mkdir(mode=0o755)
        (etc / "passwd").write_text(f"{INNER_NAME}:x:{INNER_UID}:{INNER_UID}::{WORKDIR}:/usr/sbin/nologin\n")
        (etc / "group").write_text(f"{INNER_NAME}:x:{INNER_UID}:\n")
        for path in etc.iterdir():
            path.chmod(0o444)
        host = probe_host(settings, runtime)
        wanted = settings.layers if settings.layers is not None else host.available
        layers = (wanted & host.available) | ALWAYS
        if layers & NAMESPACES:  # bubblewrap always brings a user and a mount namespace
            layers |= BWRAP_BASE & host.available
        else:  # the inode-capped tmpfs are bubblewrap's
            layers -= {Layer.INODE_LIMITS}
        sandbox = cls(settings, host, runtime, frozenset(layers))
        weakref.finalize(sandbox, shutil.rmtree, str(runtime), True)
        return sandbox

    def close(self) -> None:
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    @property
    def uses_bwrap(self) -> bool:
        return bool(self.layers & NAMESPACES)

    @property
    def run_user(self) -> int | None:
        return self.settings.run_uid if Layer.SEPARATE_USER in self.layers else None

    def _limits(self, cpu_seconds: float, **overrides: int) -> list[str]:
        if Layer.RLIMITS not in self.layers:
            return []
        return limits(self.host, self.settings, cpu_seconds, **overrides)

    def _seccomp(self, stack: contextlib.ExitStack, layers: frozenset[Layer], *, network: bool) -> int | None:
        if Layer.SECCOMP not in layers:
            return None
        return stack.enter_context(memfd("seccomp", build_filter(allow_network=network)))

    def _launcher(self, seccomp_fd: int | None) -> list[str]:
        """Without bubblewrap, launcher.py installs the seccomp filter."""
        if seccomp_fd is None:
            return []
        return [self.settings.interpreter(), "-I", "-S", str(LAUNCHER), str(seccomp_fd)]

    def _scratch(self) -> Path:
        scratch = Path(tempfile.mkdtemp(prefix="run-", dir=self.runtime_dir))
        if self.run_user is not None:
            shutil.chown(scratch, self.run_user, self.run_user)
        if Layer.INODE_LIMITS in self.layers:
            prepare(scratch, self.run_user)
        return scratch

    def _held(self, scratch: Path, quota: Quota) -> tuple[list[str], Path | None]:
        """The holder that mounts the step's inode-capped tmpfs in the scratch directory, where available."""
        if Layer.INODE_LIMITS not in self.layers:
            return [], None
        return holder(self.host, scratch, quota), scratch

    # -- a run --

    async def run(self, code: str, timeout_seconds: float, packages: Sequence[str] = ()) -> ExecutionResult:
        started = time.perf_counter()
        result = await self._run(code, timeout_seconds, packages)
        return result.model_copy(update={"duration_ms": _ms(started), "isolation": sorted(self.layers)})

    async def _run(self, code: str, timeout_seconds: float, packages: Sequence[str]) -> ExecutionResult:
        requirements: list[pkgs.Requirement] = []
        if packages:
            try:
                if self.settings.pip is None:
                    denial = pkgs.Denial(
                        ", ".join(packages), pkgs.DenialReason.DISABLED, "this sandbox does not install packages"
                    )
                    raise pkgs.PackageDenied(denial)
                requirements = pkgs.validate(list(packages), max_packages=self.settings.pip.max_packages)
            except pkgs.PackageDenied as denied:
                return not_run(StopReason.DENIED_PACKAGE, str(denied), denial=denied.denial)
        scratch = self._scratch()
        try:
            installed: list[str] = []
            if requirements:
                outcome = await self._install(requirements, scratch)
                if isinstance(outcome, ExecutionResult):
                    return outcome
                installed = outcome
            result = await self._execute(code, timeout_seconds, scratch, with_packages=bool(requirements))
            return result.model_copy(update={"packages": installed})
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    async def _execute(self, code: str, limit: float, scratch: Path, *, with_packages: bool) -> ExecutionResult:
        python = self.settings.interpreter()
        command = [python, "-s", "-B", "main.py"]
        s = self.settings
        oom_before = oom_kills()
        with contextlib.ExitStack() as stack:
            seccomp_fd = self._seccomp(stack, self.layers, network=False)
            if self.uses_bwrap:
                code_fd = stack.enter_context(memfd("main.py", code.encode("utf-8", errors="surrogatepass")))
                held_by, held = self._held(scratch, Quota(s.disk_quota_bytes, s.disk_inodes))
                options = Bwrap(
                    self.layers,
                    network=False,
                    workdir_bytes=s.disk_quota_bytes,
                    seccomp_fd=seccomp_fd,
                    code_fd=code_fd,
                    mounts=(Mount(str(scratch / "site"), PACKAGES_DIR),) if with_packages else (),
                    env=run_env(WORKDIR, packages_path=PACKAGES_DIR if with_packages else None),
                    held=held,
                )
                argv = [
                    *outside(self.host, self.run_user),
                    *held_by,
                    *bwrap_argv(self.host, s, self.runtime_dir, options),
                    "--",
                    *self._limits(limit),
                    *command,
                ]
                run = await supervise(
                    argv,
                    env={},
                    cwd="/",
                    limit_seconds=limit,
                    output_limit=s.output_limit_bytes,
                    pass_fds=fds(seccomp_fd, code_fd),
                )
            else:
                main = scratch / "main.py"
                main.write_text(code, encoding="utf-8", errors="surrogatepass")
                if self.run_user is not None:
                    shutil.chown(main, self.run_user, self.run_user)
                home = str(scratch)
                run = await supervise(
                    [*outside(self.host, self.run_user), *self._limits(limit), *self._launcher(seccomp_fd), *command],
                    env=run_env(home, packages_path=f"{home}/site" if with_packages else None),
                    cwd=home,
                    limit_seconds=limit,
                    output_limit=s.output_limit_bytes,
                    pass_fds=fds(seccomp_fd),
                )
        return self._result(run, limit, oom_before)

    def _result(self, run: Supervised, limit: float, oom_before: int | None) -> ExecutionResult:
        exit_code = run.returncode
        if exit_code is not None and self.uses_bwrap and SIGNAL_EXIT_BASE < exit_code <= SIGNAL_EXIT_BASE + 64:
            exit_code = -(exit_code - SIGNAL_EXIT_BASE)
        reason, message = self._classify(run, exit_code, limit, oom_before)
        return ExecutionResult(
            stdout=run.stdout,
            stderr=run.stderr,
            exit_code=exit_code,
            duration_ms=round(run.seconds * 1000, 2),
            timed_out=reason is StopReason.TIMEOUT,
            truncated=run.stdout_truncated or run.stderr_truncated,
            stdout_truncated=run.stdout_truncated,
            stderr_truncated=run.stderr_truncated,
            stopped_reason=reason,
            message=message,
        )

    def _classify(
        self, run: Supervised, exit_code: int | None, limit: float, oom_before: int | None
    ) -> tuple[StopReason | None, str | None]:
        s = self.settings
        if run.stopped is StopReason.TIMEOUT:
            return run.stopped, f"stopped at the wall-clock limit of {limit:g} s; every process of the run was killed"
        if run.stopped is StopReason.OUTPUT_LIMIT:
            return run.stopped, f"stopped: output passed the limit of {s.output_limit_bytes} bytes per stream"
        signalled = {
            -signal.SIGXCPU: (StopReason.CPU_TIME, "stopped by the CPU-time limit (SIGXCPU)"),
            -signal.SIGXFSZ: (StopReason.FILE_SIZE, f"a file reached the size limit ({_mib(s.max_file_bytes)})"),
        }
        if exit_code in signalled:
            return signalled[exit_code]
        if exit_code == -signal.SIGKILL and oom_before is not None and (oom_kills() or 0) > oom_before:
            return StopReason.MEMORY, "killed by the kernel's out-of-memory killer"
        if not exit_code:
            return None, None
        last = uncaught_exception_line(run.stderr)
        for pattern, reason, text in LAST_LINE_REASONS:
            if pattern.search(last):
                return reason, text.format(
                    memory=_mib(s.memory_limit_bytes),
                    processes=s.max_processes,
                    file_size=_mib(s.max_file_bytes),
                    disk=f"{_mib(s.disk_quota_bytes)}, {s.disk_inodes} files"
                    if Layer.INODE_LIMITS in self.layers
                    else _mib(s.disk_quota_bytes),
                )
        if last.startswith("EOFError"):
            return None, "the program read from stdin, which is empty in the sandbox: put the input in the code"
        return None, None

    # -- packages --

    async def _install(self, requirements: list[pkgs.Requirement], scratch: Path) -> list[str] | ExecutionResult:
        pip = self.settings.pip
        assert pip is not None
        started = time.perf_counter()
        wheels, site = scratch / "wheels", scratch / "site"
        for directory in (wheels, site):
            directory.mkdir()
            if self.run_user is not None:
                shutil.chown(directory, self.run_user, self.run_user)
        inner_wheels = "/wheels" if self.uses_bwrap else str(wheels)
        inner_site = "/site" if self.uses_bwrap else str(site)
        common = ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
        pip_argv = pip_command(pip, inside=self.uses_bwrap)
        download = [*pip_argv, "download", "--only-binary", ":all:", "--no-cache-dir", *common]
        download += ["--dest", inner_wheels]
        for option, value in (
            ("--index-url", pip.index_url),
            ("--trusted-host", pip.trusted_host),
            ("--cert", pip.cert),
        ):
            if value:
                download += [option, value]
        download += ["--", *(str(r) for r in requirements)]
        failed = await self._pip(download, scratch, (Mount(str(wheels), "/wheels", True),), True, pip.timeout_seconds)
        if failed:
            return failed
        files = sorted(p.name for p in wheels.iterdir())
        try:
            names = pkgs.check_downloaded(files)
            total = sum(p.stat().st_size for p in wheels.iterdir())
            if total > pip.max_bytes:
                raise pkgs.PackageDenied(
                    pkgs.Denial(
                        ", ".join(map(str, requirements)),
                        pkgs.DenialReason.TOO_LARGE,
                        f"the wheels add up to {_mib(total)}, over the limit of {_mib(pip.max_bytes)}",
                    )
                )
        except pkgs.PackageDenied as denied:
            return not_run(StopReason.DENIED_PACKAGE, str(denied), denial=denied.denial)
        remaining = max(1.0, pip.timeout_seconds - (time.perf_counter() - started))
        install = [*pip_argv, "install", "--no-index", "--no-deps", "--no-compile", "--only-binary", ":all:"]
        install += [*common, "--target", inner_site, "--", *(f"{inner_wheels}/{name}" for name in files)]
        mounts = (Mount(str(wheels), "/wheels"), Mount(str(site), "/site", True))
        failed = await self._pip(install, scratch, mounts, False, remaining)
        return failed or names

    async def _pip(
        self, argv: list[str], scratch: Path, mounts: tuple[Mount, ...], network: bool, limit: float
    ) -> ExecutionResult | None:
        """One pip command in a sandbox of its own (with the network only to download); None on success."""
        pip = self.settings.pip
        assert pip is not None
        s = self.settings
        layers = self.layers - {Layer.NETWORK_NAMESPACE} if network else self.layers
        pip_limits = self._limits(limit, memory=max(s.memory_limit_bytes, PIP_MEMORY_BYTES), file_bytes=pip.max_bytes)
        with contextlib.ExitStack() as stack:
            seccomp_fd = self._seccomp(stack, layers, network=network)
            if self.uses_bwrap:
                held_by, held = self._held(scratch, Quota(pip.max_bytes + PIP_WORKDIR_SLACK, pip.max_inodes))
                options = Bwrap(
                    layers,
                    network=network,
                    workdir_bytes=pip.max_bytes + PIP_WORKDIR_SLACK,
                    seccomp_fd=seccomp_fd,
                    mounts=mounts,
                    env=run_env(WORKDIR, extra=PIP_ENV),
                    held=held,
                    with_pip=True,
                )
                command = [*held_by, *bwrap_argv(self.host, s, self.runtime_dir, options), "--", *pip_limits, *argv]
                env, cwd = {}, "/"
            else:
                command = [*pip_limits, *self._launcher(seccomp_fd), *argv]
                env, cwd = run_env(str(scratch), extra=PIP_ENV), str(scratch)
            run = await supervise(
                [*outside(self.host, self.run_user), *command],
                env=env,
                cwd=cwd,
                limit_seconds=limit,
                output_limit=s.output_limit_bytes,
                pass_fds=fds(seccomp_fd),
            )
        if run.stopped is StopReason.TIMEOUT:
            text = f"installing the packages took longer than {limit:g} s"
        elif "[Errno 27] File too large" in run.stderr + run.stdout:
            return _too_large(argv, f"a download is larger than the limit of {_mib(pip.max_bytes)}")
        elif "[Errno 28] No space left on device" in run.stderr + run.stdout:
            files = f" and {pip.max_inodes} files" if Layer.INODE_LIMITS in self.layers else ""
            space = f"at most {_mib(pip.max_bytes)}{files}"
            return _too_large(argv, f"the packages do not fit the install's space: {space}")
        elif run.returncode != 0 or run.stopped is not None:
            text = "installing the packages failed: " + _pip_error(run.stderr or run.stdout)
        else:
            return None
        return not_run(StopReason.INSTALL_FAILED, text)


def _too_large(argv: list[str], detail: str) -> ExecutionResult:
    denial = pkgs.Denial(" ".join(argv[argv.index("--") + 1 :]), pkgs.DenialReason.TOO_LARGE, detail)
    return not_run(StopReason.DENIED_PACKAGE, str(denial), denial=denial)


def _pip_error(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return ("\n".join(errors or lines[-5:]) or "no output")[-MESSAGE_TAIL_CHARS:]
