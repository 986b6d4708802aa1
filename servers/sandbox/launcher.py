"""Installs a seccomp filter read from a file descriptor, then replaces itself with a command.

    python3 -I -S launcher.py FD COMMAND [ARGS...]

Used only where bubblewrap cannot run (it installs the filter itself otherwise). Standard library
only, no site packages: it runs under the sandbox's interpreter before the untrusted code.
"""

import ctypes
import os
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install(program: bytes) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_char_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.stderr.write("usage: launcher.py FD COMMAND [ARGS...]\n")
        raise SystemExit(2)
    fd, command = int(argv[1]), argv[2:]
    try:
        install(read_all(fd))
    except OSError as exc:
        sys.stderr.write(f"sandbox: cannot install the seccomp filter: {exc}\n")
        raise SystemExit(125) from None
    os.execv(command[0], command)  # noqa: S606 - exec, not a shell: the command is the sandbox's own


if __name__ == "__main__":
    main(sys.argv)
