"""What a run returns."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, PrivateAttr

from servers.sandbox.packages import Denial


class StopReason(StrEnum):
    TIMEOUT = "timeout"  # the wall-clock limit: the whole process group was killed
    OUTPUT_LIMIT = "output_limit"  # stdout or stderr passed its cap: the run was killed
    CPU_TIME = "cpu_time"  # RLIMIT_CPU: SIGXCPU
    MEMORY = "memory"  # RLIMIT_AS (MemoryError) or the kernel's OOM killer
    PROCESS_LIMIT = "process_limit"  # RLIMIT_NPROC: fork or thread creation failed
    FILE_SIZE = "file_size"  # RLIMIT_FSIZE: a file grew past the limit
    DISK_QUOTA = "disk_quota"  # the run's private tmpfs is full
    OPEN_FILES = "open_files"  # RLIMIT_NOFILE
    DENIED_PACKAGE = "denied_package"  # a requested package (or a dependency) failed validation: nothing ran
    INSTALL_FAILED = "install_failed"  # the packages could not be installed: nothing ran


class ExecutionResult(BaseModel):
    stdout: str = Field(description="standard output, cut at the output limit")
    stderr: str = Field(description="standard error, cut at the output limit")
    exit_code: int | None = Field(
        description="the program's exit code; negative when a signal killed it; null when the sandbox "
        "stopped it (timeout, output limit) or it never started (package denied or not installed)"
    )
    duration_ms: float = Field(description="wall-clock time of the whole call, installs included")
    timed_out: bool = Field(description="the wall-clock limit stopped the run")
    truncated: bool = Field(description="stdout or stderr was cut at the output limit")
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    stopped_reason: StopReason | None = Field(
        default=None, description="the limit or policy that stopped the run or made it fail, if one did"
    )
    message: str | None = Field(default=None, description="what happened, in words, when something did")
    packages: list[str] = Field(default_factory=list, description="installed wheels (name==version), dependencies too")
    isolation: list[str] = Field(default_factory=list, description="isolation layers this run had")
    _denial: Denial | None = PrivateAttr(default=None)  # behind DENIED_PACKAGE, for metrics

    @property
    def denial(self) -> Denial | None:
        return self._denial


def not_run(reason: StopReason, message: str, *, denial: Denial | None = None) -> ExecutionResult:
    """A result for a run that never started (its duration and isolation are filled in by the caller)."""
    result = ExecutionResult(
        stdout="",
        stderr="",
        exit_code=None,
        duration_ms=0.0,
        timed_out=False,
        truncated=False,
        stopped_reason=reason,
        message=message,
    )
    result._denial = denial
    return result
