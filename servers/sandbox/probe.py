"""Which isolation layers this host supports: found by running real sandboxed processes at start-up,
never assumed. Each probe runs as runs will (same uid, same tools, same options)."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from servers.sandbox.commands import Bwrap, as_user, bwrap_argv, memfd
from servers.sandbox.layers import (
    ALWAYS,
    INODE_PROBE,
    NAMESPACE_PROBE,
    NAMESPACES,
    SECCOMP_PROBE,
    HostSupport,
    Layer,
    bwrap_features,
    find_tool,
    first_line,
    parse_facts,
    run_probe,
)
from servers.sandbox.seccomp import UnsupportedArchitecture, build_filter
from servers.sandbox.settings import RunnerSettings
from servers.sandbox.tmpfs import Quota, holder, prepare

LAUNCHER = Path(__file__).with_name("launcher.py")
PROBE_WORKDIR_BYTES = 1024 * 1024
PROBE_INODES = 16
_PROBED: dict[
    tuple[str, int, int, tuple[str, ...]], HostSupport
] = {}  # what a host supports does not change while we run


def probe_host(settings: RunnerSettings, runtime_dir: Path) -> HostSupport:
    """The host's support for each layer (cached per interpreter, run uid and server uid)."""
    key = (settings.interpreter(), settings.run_uid, os.geteuid(), settings.pip.command if settings.pip else ())
    if key not in _PROBED:
        _PROBED[key] = _Probe(settings, runtime_dir).run()
    return _PROBED[key]


@dataclass
class _Probe:
    settings: RunnerSettings
    runtime_dir: Path
    available: set[Layer] = field(default_factory=lambda: set(ALWAYS))
    missing: dict[Layer, str] = field(default_factory=dict)
    as_user: list[str] = field(default_factory=list)  # probes run as runs will
    python: str = ""

    def __post_init__(self) -> None:
        self.python = self.settings.interpreter()

    def run(self) -> HostSupport:
        host = HostSupport(
            frozenset(),
            bwrap=find_tool("bwrap"),
            prlimit=find_tool("prlimit"),
            choom=find_tool("choom"),
            nice=find_tool("nice"),
            setpriv=find_tool("setpriv"),
            unshare=find_tool("unshare"),
            mount=find_tool("mount"),
            mkdir=find_tool("mkdir"),
            sh=find_tool("sh"),
        )
        self._separate_user(host)
        self._rlimits(host)
        self._seccomp()
        host = self._namespaces(host)
        self._inode_limits(host)
        for layer in self.available:
            self.missing.pop(layer, None)
        return replace(host, available=frozenset(self.available), missing=dict(self.missing))

    def _separate_user(self, host: HostSupport) -> None:
        uid = self.settings.run_uid
        if os.geteuid() != 0:
            self.missing[Layer.SEPARATE_USER] = (
                f"the server runs as uid {os.geteuid()} without the capability to switch users; runs share its "
                "uid (inside their user namespace they are uid 1000)"
            )
            return
        if not host.setpriv:
            self.missing[Layer.SEPARATE_USER] = "setpriv (util-linux) not found"
            return
        code, out, err = run_probe([*as_user(host.setpriv, uid), self.python, "-c", "import os; print(os.getuid())"])
        if code == 0 and out.strip() == str(uid):
            self.available.add(Layer.SEPARATE_USER)
            self.as_user = as_user(host.setpriv, uid)
        else:
            self.missing[Layer.SEPARATE_USER] = f"cannot run as uid {uid}: {first_line(err or out)}"

    def _rlimits(self, host: HostSupport) -> None:
        if not host.prlimit:
            self.missing[Layer.RLIMITS] = "prlimit (util-linux) not found"
            return
        check = "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE))"
        code, out, err = run_probe([*self.as_user, host.prlimit, "--nofile=64:64", "--", self.python, "-c", check])
        if code == 0 and out.strip() == "(64, 64)":
            self.available.add(Layer.RLIMITS)
        else:
            self.missing[Layer.RLIMITS] = f"prlimit probe failed: {first_line(err or out)}"

    def _seccomp(self) -> None:
        try:
            program = build_filter()
        except UnsupportedArchitecture as exc:
            self.missing[Layer.SECCOMP] = str(exc)
            return
        with memfd("seccomp", program) as fd:
            argv = [*self.as_user, self.python, "-I", "-S", str(LAUNCHER), str(fd), self.python, "-I", "-S"]
            code, out, err = run_probe([*argv, "-c", SECCOMP_PROBE], pass_fds=(fd,))
        if code == 0 and out.strip() == "filtered":
            self.available.add(Layer.SECCOMP)
        else:
            self.missing[Layer.SECCOMP] = f"seccomp probe failed: {first_line(err or out)}"

    def _namespaces(self, host: HostSupport) -> HostSupport:
        if not host.bwrap:
            for layer in NAMESPACES:
                self.missing[layer] = "bubblewrap (bwrap) not found"
            return host
        # --disable-userns (bwrap >= 0.8) needs a writable /proc/sys, which container runtimes do not give;
        # the seccomp filter denies nested user namespaces either way.
        disable_options = (True, False) if bwrap_features(host.bwrap) else (False,)
        facts, error = None, ""
        for disable_userns, with_proc in itertools.product(disable_options, (True, False)):
            candidate = replace(host, bwrap_proc=with_proc, bwrap_disable_userns=disable_userns)
            argv = bwrap_argv(candidate, self.settings, self.runtime_dir, Bwrap(NAMESPACES, False, PROBE_WORKDIR_BYTES))
            code, out, err = run_probe([*self.as_user, *argv, "--", self.python, "-c", NAMESPACE_PROBE])
            facts = parse_facts(out) if code == 0 else None
            if facts:
                host = candidate
                break
            error = first_line(err or out)
        if not facts:
            for layer in NAMESPACES:
                self.missing[layer] = f"bubblewrap cannot create namespaces here: {error}"
            return host
        self._judge(host, facts)
        if Layer.SECCOMP in self.available:
            self._bwrap_seccomp(host)
        return host

    def _judge(self, host: HostSupport, facts: dict) -> None:
        self.available |= {Layer.USER_NAMESPACE, Layer.IPC_NAMESPACE}
        checks = {
            Layer.MOUNT_NAMESPACE: (facts.get("usr_writable") is False, "the sandbox could write to /usr"),
            Layer.NETWORK_NAMESPACE: (
                facts.get("interfaces") == ["lo"],
                f"interfaces seen inside: {facts.get('interfaces')}",
            ),
            Layer.PID_NAMESPACE: (
                isinstance(facts.get("pid"), int) and facts["pid"] <= 3,
                f"the sandbox saw itself as pid {facts.get('pid')}",
            ),
            Layer.PRIVATE_PROC: (
                host.bwrap_proc and bool(facts.get("proc_pids")) and max(facts["proc_pids"]) <= 3,
                "a fresh /proc cannot be mounted (in a container, the runtime masks parts of /proc); "
                "runs get no /proc at all",
            ),
        }
        for layer, (ok, why) in checks.items():
            if ok:
                self.available.add(layer)
            else:
                self.missing[layer] = why

    def _bwrap_seccomp(self, host: HostSupport) -> None:
        with memfd("seccomp", build_filter()) as fd:
            argv = bwrap_argv(host, self.settings, self.runtime_dir, Bwrap(NAMESPACES, False, PROBE_WORKDIR_BYTES, fd))
            code, out, err = run_probe(
                [*self.as_user, *argv, "--", self.python, "-I", "-S", "-c", SECCOMP_PROBE], pass_fds=(fd,)
            )
        if not (code == 0 and out.strip() == "filtered"):
            self.available.discard(Layer.SECCOMP)
            self.missing[Layer.SECCOMP] = f"bwrap --seccomp probe failed: {first_line(err or out)}"

    def _inode_limits(self, host: HostSupport) -> None:
        if Layer.MOUNT_NAMESPACE not in self.available:
            self.missing[Layer.INODE_LIMITS] = "needs bubblewrap's mount namespace"
            return
        if not (host.unshare and host.mount and host.mkdir and host.sh):
            self.missing[Layer.INODE_LIMITS] = "unshare, mount (util-linux), mkdir or sh not found"
            return
        held = Path(tempfile.mkdtemp(prefix="probe-", dir=self.runtime_dir))
        try:
            uid = self.settings.run_uid if self.as_user else None
            if uid is not None:
                os.chown(held, uid, uid)
            prepare(held, uid)
            options = Bwrap(NAMESPACES, False, PROBE_WORKDIR_BYTES, held=held)
            argv = [
                *self.as_user,
                *holder(host, held, Quota(PROBE_WORKDIR_BYTES, PROBE_INODES)),
                *bwrap_argv(host, self.settings, self.runtime_dir, options),
            ]
            code, out, err = run_probe([*argv, "--", self.python, "-c", INODE_PROBE])
        finally:
            shutil.rmtree(held, ignore_errors=True)
        count = out.strip() if code == 0 else ""
        if count.isdigit() and 0 < int(count) < PROBE_INODES:
            self.available.add(Layer.INODE_LIMITS)
        else:
            self.missing[Layer.INODE_LIMITS] = f"cannot mount inode-capped tmpfs for runs: {first_line(err or out)}"
