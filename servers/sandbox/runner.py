"""Runs one piece of Python code in a child process, with a wall-clock timeout and an output cap.

First version: the child runs in its own session (process group) with a scrubbed environment in
a scratch directory deleted afterwards. Namespaces, rlimits and a separate user are the hardened
sandbox's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

CHUNK = 4096


class StopReason(StrEnum):
    TIMEOUT = "timeout"
    OUTPUT_LIMIT = "output_limit"


class ExecutionResult(BaseModel):
    stdout: str
    stderr: str
    exit_code: int | None = Field(description="process exit code; negative for a signal, None if killed by us")
    duration_ms: float
    timed_out: bool
    truncated: bool = Field(description="stdout or stderr was cut at the output limit")
    stopped_reason: StopReason | None = Field(
        default=None, description="why the sandbox stopped the run early, if it did"
    )


@dataclass(frozen=True)
class RunnerSettings:
    python: str = sys.executable
    output_limit_bytes: int = 64 * 1024
    scratch_root: str | None = None


class _CappedOutput:
    """Collects a stream up to a shared byte budget; signals when the budget is exceeded."""

    def __init__(self, budget: list[int], exceeded: asyncio.Event) -> None:
        self._budget = budget
        self._exceeded = exceeded
        self.data = bytearray()

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(CHUNK):
            room = self._budget[0]
            self.data += chunk[:room]
            self._budget[0] = max(0, room - len(chunk))
            if len(chunk) > room:
                self._exceeded.set()
                return

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


async def run_python(code: str, timeout_seconds: float, settings: RunnerSettings) -> ExecutionResult:
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=settings.scratch_root))
    try:
        (scratch / "main.py").write_text(code, encoding="utf-8")
        return await _run(scratch, timeout_seconds, settings)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def _run(scratch: Path, timeout_seconds: float, settings: RunnerSettings) -> ExecutionResult:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        settings.python,
        "-I",
        "-B",
        "main.py",
        cwd=scratch,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_scrubbed_env(scratch),
        start_new_session=True,  # own process group: a timeout kills everything the code spawned
    )
    assert proc.stdout is not None and proc.stderr is not None
    budget, exceeded = [settings.output_limit_bytes], asyncio.Event()
    stdout, stderr = _CappedOutput(budget, exceeded), _CappedOutput(budget, exceeded)
    readers = asyncio.gather(stdout.drain(proc.stdout), stderr.drain(proc.stderr), proc.wait())
    limit_hit = asyncio.ensure_future(exceeded.wait())
    reason: StopReason | None = None
    try:
        done, _ = await asyncio.wait({readers, limit_hit}, timeout=timeout_seconds, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            reason = StopReason.TIMEOUT
        elif limit_hit in done:
            reason = StopReason.OUTPUT_LIMIT
    finally:
        limit_hit.cancel()
        if reason is not None or proc.returncode is None:
            _kill_group(proc.pid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(readers, timeout=5)
    return ExecutionResult(
        stdout=stdout.text(),
        stderr=stderr.text(),
        exit_code=None if reason else proc.returncode,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        timed_out=reason is StopReason.TIMEOUT,
        truncated=reason is StopReason.OUTPUT_LIMIT,
        stopped_reason=reason,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _scrubbed_env(scratch: Path) -> dict[str, str]:
    # Nothing from the server's environment (tokens, service config) reaches user code.
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "TMPDIR": str(scratch),
    }
