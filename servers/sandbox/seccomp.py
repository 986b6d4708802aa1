"""The per-run seccomp filter: a classic-BPF program, built here without libseccomp.

Policy (default allow, like snekbox's nsjail policy; namespaces, rlimits and the missing
capabilities do the rest):

- only the native ABI: other architectures (i386 via int 0x80, x32) are killed outright;
- sockets: AF_UNIX only (asyncio's self-pipe, socketpair); with `allow_network` (the package
  download step) also AF_INET, AF_INET6 and AF_NETLINK. Everything else fails with EPERM;
- no new namespaces: unshare and setns fail, clone with any CLONE_NEW* flag fails, clone3 reports
  ENOSYS so the C library falls back to clone, whose flags the filter can see;
- no leaving the process group (setsid, setpgid): the wall-clock kill reaches every process;
- no mounts, chroot, ptrace, process_vm_*, bpf, perf_event_open, io_uring, keyrings, userfaultfd,
  kernel modules, kexec, reboot, swap, clocks, quotas, file handles (the "shocker" escape), NUMA
  policy, TIOCSTI/TIOCLINUX terminal injection: EPERM.

The program is handed to bwrap (`--seccomp FD`) or, without bwrap, installed by launcher.py.
"""

from __future__ import annotations

import errno
import json
import platform
import struct
from collections.abc import Iterable
from dataclasses import dataclass

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];
OFFSET_NR = 0
OFFSET_ARCH = 4


def offset_arg_low(index: int) -> int:
    return 16 + 8 * index  # little-endian: the low 32 bits come first


# classic BPF opcodes
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
CLONE_NEW_ANY = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
X32_SYSCALL_BIT = 0x40000000

DENIED = [
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "setsid",
    "setpgid",
    "name_to_handle_at",
    "open_by_handle_at",
    "lookup_dcookie",
    "vhangup",
    "clock_settime",
    "settimeofday",
    "clock_adjtime",
    "mbind",
    "set_mempolicy",
    "migrate_pages",
    "move_pages",
    "fanotify_init",
    "nfsservctl",
    "uselib",
    "ustat",
    "sysfs",
    "iopl",
    "ioperm",
    "modify_ldt",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "_sysctl",
    "afs_syscall",
    "tuxcall",
    "security",
    "vserver",
    "getpmsg",
    "putpmsg",
]


@dataclass(frozen=True)
class Arch:
    name: str
    audit_arch: int
    numbers: dict[str, int]
    has_x32: bool = False


# From the kernel's uapi headers: asm/unistd_64.h (x86_64) and asm-generic/unistd.h (aarch64).
X86_64 = Arch(
    "x86_64",
    0xC000003E,
    {
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "kcmp": 312,
        "pidfd_getfd": 438,
        "bpf": 321,
        "perf_event_open": 298,
        "userfaultfd": 323,
        "keyctl": 250,
        "add_key": 248,
        "request_key": 249,
        "unshare": 272,
        "setns": 308,
        "mount": 165,
        "umount2": 166,
        "pivot_root": 155,
        "chroot": 161,
        "move_mount": 429,
        "open_tree": 428,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "kexec_load": 246,
        "kexec_file_load": 320,
        "init_module": 175,
        "finit_module": 313,
        "delete_module": 176,
        "reboot": 169,
        "swapon": 167,
        "swapoff": 168,
        "acct": 163,
        "quotactl": 179,
        "quotactl_fd": 443,
        "syslog": 103,
        "setsid": 112,
        "setpgid": 109,
        "name_to_handle_at": 303,
        "open_by_handle_at": 304,
        "lookup_dcookie": 212,
        "vhangup": 153,
        "clock_settime": 227,
        "settimeofday": 164,
        "clock_adjtime": 305,
        "mbind": 237,
        "set_mempolicy": 238,
        "migrate_pages": 256,
        "move_pages": 279,
        "fanotify_init": 300,
        "nfsservctl": 180,
        "uselib": 134,
        "ustat": 136,
        "sysfs": 139,
        "iopl": 172,
        "ioperm": 173,
        "modify_ldt": 154,
        "create_module": 174,
        "get_kernel_syms": 177,
        "query_module": 178,
        "_sysctl": 156,
        "afs_syscall": 183,
        "tuxcall": 184,
        "security": 185,
        "vserver": 236,
        "getpmsg": 181,
        "putpmsg": 182,
        "socket": 41,
        "clone": 56,
        "clone3": 435,
        "ioctl": 16,
    },
    has_x32=True,
)
AARCH64 = Arch(
    "aarch64",
    0xC00000B7,
    {
        "ptrace": 117,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "kcmp": 272,
        "pidfd_getfd": 438,
        "bpf": 280,
        "perf_event_open": 241,
        "userfaultfd": 282,
        "keyctl": 219,
        "add_key": 217,
        "request_key": 218,
        "unshare": 97,
        "setns": 268,
        "mount": 40,
        "umount2": 39,
        "pivot_root": 41,
        "chroot": 51,
        "move_mount": 429,
        "open_tree": 428,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "kexec_load": 104,
        "kexec_file_load": 294,
        "init_module": 105,
        "finit_module": 273,
        "delete_module": 106,
        "reboot": 142,
        "swapon": 224,
        "swapoff": 225,
        "acct": 89,
        "quotactl": 60,
        "quotactl_fd": 443,
        "syslog": 116,
        "setsid": 157,
        "setpgid": 154,
        "name_to_handle_at": 264,
        "open_by_handle_at": 265,
        "lookup_dcookie": 18,
        "vhangup": 58,
        "clock_settime": 112,
        "settimeofday": 170,
        "clock_adjtime": 266,
        "mbind": 235,
        "set_mempolicy": 237,
        "migrate_pages": 238,
        "move_pages": 239,
        "fanotify_init": 262,
        "nfsservctl": 42,
        "socket": 198,
        "clone": 220,
        "clone3": 435,
        "ioctl": 29,
    },
)
ARCHES = {"x86_64": X86_64, "amd64": X86_64, "aarch64": AARCH64, "arm64": AARCH64}


class UnsupportedArchitecture(RuntimeError):
    pass


def native_arch() -> Arch:
    machine = platform.machine().lower()
    try:
        return ARCHES[machine]
    except KeyError:
        raise UnsupportedArchitecture(f"no seccomp syscall table for {machine!r}") from None


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _errno(value: int) -> int:
    return SECCOMP_RET_ERRNO | (value & 0xFFFF)


class _Program:
    """Straight-line BPF where every test is `if A == k: return X` (jump over one return)."""

    def __init__(self) -> None:
        self.code: list[bytes] = []

    def load(self, offset: int) -> None:
        self.code.append(_insn(BPF_LD_W_ABS, 0, 0, offset))

    def ret(self, value: int) -> None:
        self.code.append(_insn(BPF_RET_K, 0, 0, value))

    def if_equal_return(self, k: int, value: int) -> None:
        self.code.append(_insn(BPF_JEQ_K, 0, 1, k))
        self.ret(value)

    def if_not_equal_skip(self, k: int, count: int) -> None:
        """if A != k: skip the next `count` instructions."""
        self.code.append(_insn(BPF_JEQ_K, 0, count, k))

    def if_bits_return(self, mask: int, value: int) -> None:
        self.code.append(_insn(BPF_JSET_K, 0, 1, mask))
        self.ret(value)

    def if_at_least_return(self, k: int, value: int) -> None:
        self.code.append(_insn(BPF_JGE_K, 0, 1, k))
        self.ret(value)

    def size(self) -> int:
        return len(self.code)

    def bytes(self) -> bytes:
        return b"".join(self.code)


def _socket_families(allow_network: bool) -> tuple[int, ...]:
    return (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK) if allow_network else (AF_UNIX,)


def build_filter(*, allow_network: bool = False, arch: Arch | None = None, denied: Iterable[str] = DENIED) -> bytes:
    """The filter as raw `struct sock_filter` array bytes (what bwrap --seccomp and prctl take)."""
    arch = arch or native_arch()
    eperm = _errno(errno.EPERM)
    program = _Program()
    program.load(OFFSET_ARCH)
    program.code.append(_insn(BPF_JEQ_K, 1, 0, arch.audit_arch))  # native ABI: go on
    program.ret(SECCOMP_RET_KILL_PROCESS)
    program.load(OFFSET_NR)
    if arch.has_x32:
        program.if_at_least_return(X32_SYSCALL_BIT, SECCOMP_RET_KILL_PROCESS)
    for name in denied:
        if name in arch.numbers:
            program.if_equal_return(arch.numbers[name], eperm)
    program.if_equal_return(arch.numbers["clone3"], _errno(errno.ENOSYS))

    # socket(domain, ...): allowed families only
    families = _socket_families(allow_network)
    program.if_not_equal_skip(arch.numbers["socket"], 1 + 2 * len(families) + 1)
    program.load(offset_arg_low(0))
    for family in families:
        program.if_equal_return(family, SECCOMP_RET_ALLOW)
    program.ret(eperm)

    # clone(flags, ...): no CLONE_NEW* flags
    program.if_not_equal_skip(arch.numbers["clone"], 1 + 2 + 1)
    program.load(offset_arg_low(0))
    program.if_bits_return(CLONE_NEW_ANY, eperm)
    program.ret(SECCOMP_RET_ALLOW)

    # ioctl(fd, request, ...): no terminal input injection
    program.if_not_equal_skip(arch.numbers["ioctl"], 1 + 2 + 2 + 1)
    program.load(offset_arg_low(1))
    program.if_equal_return(TIOCSTI, eperm)
    program.if_equal_return(TIOCLINUX, eperm)
    program.ret(SECCOMP_RET_ALLOW)

    program.ret(SECCOMP_RET_ALLOW)
    return program.bytes()


def instruction_count(program: bytes) -> int:
    return len(program) // 8


# --- the container's profile -------------------------------------------------------------------

# bubblewrap builds the namespaces with these; the server starts each run in a new session.
# The per-run filter above denies them to user code.
NEEDED_BY_THE_SANDBOX = frozenset({"unshare", "mount", "umount2", "pivot_root", "chroot", "setsid", "setpgid"})


def container_profile() -> dict:
    """The sandbox container's seccomp profile (Docker/OCI JSON), in place of the runtime's default.

    The runtime's default profile forbids creating namespaces, which bubblewrap must do (without any
    capability, inside a user namespace). This one allows that and denies the rest of the per-run
    list to every process of the container, the server included; ABIs other than the native 64-bit
    one (i386, x32) are not allowed at all.
    """
    denied = sorted(name for name in DENIED if name not in NEEDED_BY_THE_SANDBOX)
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        "syscalls": [{"names": denied, "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM}],
    }


def main() -> None:
    """python -m servers.sandbox.seccomp > servers/sandbox/data/container-seccomp.json"""
    print(json.dumps(container_profile(), indent=2))


if __name__ == "__main__":
    main()
