"""One child process, supervised: output captured up to a cap per stream, a wall-clock limit, and its
whole process group killed when it ends, however it ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass

from servers.sandbox.results import StopReason

CHUNK = 65536


class CappedOutput:
    """Collects one stream up to `limit` bytes; past it, keeps draining (so the pipe closes) and signals."""

    def __init__(self, limit: int, exceeded: asyncio.Event) -> None:
        self._limit = limit
        self._exceeded = exceeded
        self.data = bytearray()
        self.truncated = False

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(CHUNK):
            room = self._limit - len(self.data)
            if len(chunk) > room:
                self.data += chunk[: max(room, 0)]
                if not self.truncated:
                    self.truncated = True
                    self._exceeded.set()
            else:
                self.data += chunk

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass
class Supervised:
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    returncode: int | None  # None when we killed it
    stopped: StopReason | None  # TIMEOUT or OUTPUT_LIMIT when we killed it
    seconds: float


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def supervise(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    cwd: str,
    limit_seconds: float,
    output_limit: int,
    pass_fds: Sequence[int] = (),
) -> Supervised:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        pass_fds=tuple(pass_fds),
        start_new_session=True,  # own session and process group, no controlling terminal
    )
    assert proc.stdout is not None and proc.stderr is not None
    exceeded = asyncio.Event()
    stdout, stderr = CappedOutput(output_limit, exceeded), CappedOutput(output_limit, exceeded)
    readers = asyncio.gather(stdout.drain(proc.stdout), stderr.drain(proc.stderr), proc.wait())
    limit_hit = asyncio.ensure_future(exceeded.wait())
    stopped: StopReason | None = None
    try:
        done, _ = await asyncio.wait({readers, limit_hit}, timeout=limit_seconds, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            stopped = StopReason.TIMEOUT
        elif limit_hit in done:
            stopped = StopReason.OUTPUT_LIMIT
    finally:
        limit_hit.cancel()
        # Always, even after a clean exit or a cancelled call: nothing the code started outlives the run.
        kill_group(proc.pid)
        try:
            await asyncio.shield(asyncio.wait_for(readers, timeout=10))
        except (TimeoutError, asyncio.CancelledError, Exception):
            readers.cancel()
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
    return Supervised(
        stdout=stdout.text(),
        stderr=stderr.text(),
        stdout_truncated=stdout.truncated,
        stderr_truncated=stderr.truncated,
        returncode=None if stopped else proc.returncode,
        stopped=stopped,
        seconds=time.perf_counter() - started,
    )
