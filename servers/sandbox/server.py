"""Assembles the sandbox MCP server and its HTTP app."""

import asyncio
import os
from dataclasses import dataclass, field
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from starlette.applications import Starlette

from servers.common.http import build_http_app
from servers.common.metrics import ToolMetrics
from servers.sandbox.runner import ExecutionResult, RunnerSettings, run_python

NAME = "mcpstack-sandbox"
VERSION = "0.1.0"


@dataclass(frozen=True)
class SandboxSettings:
    max_timeout_seconds: float = 30.0
    default_timeout_seconds: float = 10.0
    max_concurrent_runs: int = 4
    runner: RunnerSettings = field(default_factory=RunnerSettings)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "SandboxSettings":
        env = dict(os.environ if env is None else env)
        return cls(
            max_timeout_seconds=float(env.get("SANDBOX_MAX_TIMEOUT_SECONDS", cls.max_timeout_seconds)),
            default_timeout_seconds=float(env.get("SANDBOX_DEFAULT_TIMEOUT_SECONDS", cls.default_timeout_seconds)),
            max_concurrent_runs=int(env.get("SANDBOX_MAX_CONCURRENT_RUNS", cls.max_concurrent_runs)),
            runner=RunnerSettings(
                output_limit_bytes=int(env.get("SANDBOX_OUTPUT_LIMIT_BYTES", RunnerSettings.output_limit_bytes)),
            ),
        )


def create_server(settings: SandboxSettings | None = None) -> tuple[MCPServer[Any], ToolMetrics]:
    settings = settings or SandboxSettings.from_env()
    metrics = ToolMetrics(NAME, VERSION)
    slots = asyncio.Semaphore(settings.max_concurrent_runs)
    server: MCPServer[Any] = MCPServer(
        NAME,
        version=VERSION,
        middleware=[metrics.middleware()],
        instructions="Runs Python 3 code and returns its stdout, stderr, exit code and duration.",
    )

    @server.tool(
        description="Run Python 3 code in a fresh child process and return its output. "
        "Print what you want to see; stdin is empty."
    )
    async def execute_python(
        code: Annotated[str, Field(description="Python 3 source code to run")],
        timeout_seconds: Annotated[
            float | None,
            Field(
                description=f"wall-clock limit, at most {settings.max_timeout_seconds:g} s "
                f"(default {settings.default_timeout_seconds:g} s)"
            ),
        ] = None,
    ) -> ExecutionResult:
        timeout = settings.default_timeout_seconds if timeout_seconds is None else timeout_seconds
        if not 0 < timeout <= settings.max_timeout_seconds:
            raise ToolError(
                f"Invalid 'timeout_seconds': {timeout:g}; it must be > 0 and <= {settings.max_timeout_seconds:g}"
            )
        async with slots:
            return await run_python(code, timeout, settings.runner)

    metrics.known_tools.add("execute_python")
    return server, metrics


def create_app(settings: SandboxSettings | None = None) -> tuple[MCPServer[Any], Starlette]:
    server, metrics = create_server(settings)
    return server, build_http_app(server, registry=metrics.registry, transports=("streamable-http",))
