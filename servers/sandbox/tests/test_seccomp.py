"""The seccomp filter on real processes (installed by launcher.py, no namespaces: the filter alone),
the program's shape, and the container's profile."""

from __future__ import annotations

import errno
import json
import platform
import struct
import subprocess
from pathlib import Path

import pytest

from servers.sandbox import seccomp
from servers.sandbox.commands import memfd
from servers.sandbox.layers import Layer
from servers.sandbox.probe import LAUNCHER
from servers.sandbox.runner import Sandbox
from servers.sandbox.settings import default_python
from servers.sandbox.tests.conftest import MakeSandbox

ARCH = seccomp.native_arch()
CALL = (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def call(nr, *args):\n"
    "    result = libc.syscall(nr, *[ctypes.c_long(a) for a in args])\n"
    "    return result if result >= 0 else -ctypes.get_errno()\n"
)


@pytest.fixture
def filtered(make_sandbox: MakeSandbox) -> Sandbox:
    sandbox = make_sandbox("direct", layers=frozenset({Layer.SECCOMP}))
    assert Layer.SECCOMP in sandbox.layers
    return sandbox


@pytest.fixture
def unfiltered(make_sandbox: MakeSandbox) -> Sandbox:
    return make_sandbox("direct", layers=frozenset())


@pytest.mark.parametrize("family", ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"])
async def test_sockets_other_than_unix_ones_are_refused(filtered: Sandbox, unfiltered: Sandbox, family: str) -> None:
    code = (
        "import socket\n"
        f"try:\n    socket.socket(socket.{family}, socket.SOCK_DGRAM).close()\n    print('allowed')\n"
        "except PermissionError:\n    print('refused')\nexcept OSError as exc:\n    print('other', exc.errno)\n"
    )
    assert (await filtered.run(code, 20)).stdout == "refused\n"
    assert (await unfiltered.run(code, 20)).stdout != "refused\n"  # the filter, nothing else, refuses it


async def test_unix_sockets_and_socketpairs_still_work(filtered: Sandbox) -> None:
    code = (
        "import socket, asyncio\n"
        "a, b = socket.socketpair()\na.send(b'ping')\nprint(b.recv(4).decode())\n"
        "socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()\n"
        "async def main():\n    await asyncio.sleep(0)\n    return 'asyncio ok'\n"
        "print(asyncio.run(main()))\n"
    )
    assert (await filtered.run(code, 20)).stdout == "ping\nasyncio ok\n"


DENIED_CALLS = {
    "unshare(CLONE_NEWUSER)": ("unshare", [0x10000000]),
    "unshare(CLONE_NEWNET)": ("unshare", [0x40000000]),
    "setns": ("setns", [0, 0]),
    "mount": ("mount", [0, 0, 0, 0, 0]),
    "umount2": ("umount2", [0, 0]),
    "pivot_root": ("pivot_root", [0, 0]),
    "chroot": ("chroot", [0]),
    "ptrace(TRACEME)": ("ptrace", [0, 0, 0, 0]),
    "process_vm_readv": ("process_vm_readv", [1, 0, 0, 0, 0, 0]),
    "bpf": ("bpf", [0, 0, 0]),
    "perf_event_open": ("perf_event_open", [0, 0, -1, -1, 0]),
    "keyctl": ("keyctl", [0, 0]),
    "add_key": ("add_key", [0, 0, 0, 0, 0]),
    "userfaultfd": ("userfaultfd", [0]),
    "io_uring_setup": ("io_uring_setup", [1, 0]),
    "setsid": ("setsid", []),
    "setpgid": ("setpgid", [0, 0]),
    "open_by_handle_at": ("open_by_handle_at", [0, 0, 0]),
    "kexec_load": ("kexec_load", [0, 0, 0, 0]),
    "init_module": ("init_module", [0, 0, 0]),
    "reboot": ("reboot", [0, 0, 0, 0]),
    "swapon": ("swapon", [0, 0]),
}


@pytest.mark.parametrize("label", sorted(DENIED_CALLS))
async def test_dangerous_syscalls_fail_with_eperm(filtered: Sandbox, label: str) -> None:
    name, args = DENIED_CALLS[label]
    code = CALL + f"print(call({ARCH.numbers[name]}, *{args!r}))"
    assert (await filtered.run(code, 20)).stdout == f"{-errno.EPERM}\n"


async def test_the_filter_is_what_denies_them(unfiltered: Sandbox) -> None:
    """Control: without the filter, a child may leave its process group (the filter is what stops it)."""
    code = CALL + (
        "import os\npid = os.fork()\n"
        f"if pid == 0:\n    os._exit(0 if call({ARCH.numbers['setsid']}) > 0 else 1)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    assert (await unfiltered.run(code, 20)).stdout == "0\n"


async def test_clone_with_namespace_flags_is_refused_and_clone3_is_unimplemented(filtered: Sandbox) -> None:
    code = CALL + (
        f"print(call({ARCH.numbers['clone']}, 0x10000000 | 17, 0, 0, 0, 0))\n"  # CLONE_NEWUSER | SIGCHLD
        f"print(call({ARCH.numbers['clone']}, 0x40000000 | 17, 0, 0, 0, 0))\n"  # CLONE_NEWNET | SIGCHLD
        f"print(call({ARCH.numbers['clone3']}, 0, 0))\n"
        "import os\npid = os.fork()\n"  # a plain fork (clone without namespace flags) still works
        "if pid == 0:\n    os._exit(7)\nprint(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    assert (await filtered.run(code, 20)).stdout.split() == [
        str(-errno.EPERM),
        str(-errno.EPERM),
        str(-errno.ENOSYS),
        "7",
    ]


async def test_terminal_input_injection_is_refused(filtered: Sandbox) -> None:
    code = CALL + "import os\nfd = os.open('/dev/null', os.O_RDONLY)\n"
    code += f"print(call({ARCH.numbers['ioctl']}, fd, 0x5412, 0), call({ARCH.numbers['ioctl']}, fd, 0x541C, 0))"
    assert (await filtered.run(code, 20)).stdout == f"{-errno.EPERM} {-errno.EPERM}\n"


def run_with_filter(program: bytes, code: str) -> subprocess.CompletedProcess[str]:
    python = default_python()
    with memfd("seccomp", program) as fd:
        return subprocess.run(
            [python, "-I", "-S", str(LAUNCHER), str(fd), python, "-I", "-S", "-c", code],
            capture_output=True,
            text=True,
            timeout=30,
            pass_fds=(fd,),
            check=False,
        )


def test_the_download_filter_allows_inet_sockets_but_still_no_namespaces() -> None:
    code = CALL + (
        "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM).close()\n"
        "socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()\nprint('inet ok')\n"
        f"print(call({ARCH.numbers['unshare']}, 0x10000000))\n"
    )
    done = run_with_filter(seccomp.build_filter(allow_network=True), code)
    assert done.stdout.split() == ["inet", "ok", str(-errno.EPERM)], done.stderr


def test_a_broken_filter_stops_the_launch() -> None:
    done = run_with_filter(b"\x00" * 7, "print('must not run')")
    assert done.returncode == 125
    assert "cannot install the seccomp filter" in done.stderr
    assert "must not run" not in done.stdout


def test_the_launcher_needs_a_descriptor_and_a_command() -> None:
    done = subprocess.run([default_python(), "-I", "-S", str(LAUNCHER)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "usage" in done.stderr


def test_the_program_checks_the_architecture_first() -> None:
    program = seccomp.build_filter()
    instructions = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert instructions[0] == (seccomp.BPF_LD_W_ABS, 0, 0, seccomp.OFFSET_ARCH)
    assert instructions[1] == (seccomp.BPF_JEQ_K, 1, 0, ARCH.audit_arch)
    assert instructions[2] == (seccomp.BPF_RET_K, 0, 0, seccomp.SECCOMP_RET_KILL_PROCESS)
    assert instructions[-1] == (seccomp.BPF_RET_K, 0, 0, seccomp.SECCOMP_RET_ALLOW)
    assert all(jt < 256 and jf < 256 for _, jt, jf, _ in instructions)
    assert seccomp.instruction_count(program) == len(instructions) < 4096


def test_every_denied_syscall_has_a_number_on_the_native_architecture() -> None:
    legacy = {"uselib", "ustat", "sysfs", "iopl", "ioperm", "modify_ldt", "create_module", "get_kernel_syms"}
    legacy |= {"query_module", "_sysctl", "afs_syscall", "tuxcall", "security", "vserver", "getpmsg", "putpmsg"}
    absent = set(seccomp.DENIED) - set(ARCH.numbers)
    assert absent <= legacy  # only syscalls this architecture never had


def test_an_unknown_architecture_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "sparc64")
    with pytest.raises(seccomp.UnsupportedArchitecture, match="sparc64"):
        seccomp.build_filter()


def test_the_container_profile_file_is_the_generated_one() -> None:
    committed = Path(seccomp.__file__).with_name("data") / "container-seccomp.json"
    assert json.loads(committed.read_text()) == seccomp.container_profile()


def test_the_container_profile_allows_namespaces_and_denies_the_dangerous_rest() -> None:
    profile = seccomp.container_profile()
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"
    (rule,) = profile["syscalls"]
    assert rule["action"] == "SCMP_ACT_ERRNO"
    denied = set(rule["names"])
    assert {"unshare", "mount", "umount2", "pivot_root", "chroot", "setsid", "setpgid"}.isdisjoint(denied)
    assert {"bpf", "keyctl", "ptrace", "perf_event_open", "io_uring_setup", "kexec_load", "setns"} <= denied
