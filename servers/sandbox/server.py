"""Assembles the sandbox MCP server and its HTTP app.

One tool, `execute_python(code, timeout_seconds?, packages?)`: packages are installed for that run
only (runs share nothing, so a separate install tool would have nothing to install into). Runs go
through a bounded pool; beyond it they wait in a bounded queue for a limited time, then get a
"busy" tool error. /health reports the isolation layers and the pool; /metrics has the sandbox's
metrics next to the tool-call metrics.
"""

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field
from starlette.applications import Starlette

from servers.common.http import Transport, build_http_app
from servers.common.metrics import ToolMetrics
from servers.common.upstream_auth import UpstreamAuth, from_env
from servers.sandbox.caller import caller_key
from servers.sandbox.layers import Layer, check_required, parse_layers
from servers.sandbox.metrics import SandboxMetrics
from servers.sandbox.pool import Busy, RunPool
from servers.sandbox.runner import ExecutionResult, PipSettings, RunnerSettings, Sandbox

TRANSPORTS: tuple[Transport, ...] = ("streamable-http", "sse")
DEFAULT_TRANSPORTS: tuple[Transport, ...] = ("streamable-http",)  # SSE only when asked for (SANDBOX_TRANSPORTS)
NAME = "mcpstack-sandbox"
VERSION = "0.2.0"
logger = logging.getLogger("mcpstack.sandbox")


def _int(env: dict[str, str], key: str, default: int) -> int:
    return int(env[key]) if env.get(key, "").strip() else default


def _optional_int(env: dict[str, str], key: str) -> int | None:
    return int(env[key]) if env.get(key, "").strip() else None


def _float(env: dict[str, str], key: str, default: float) -> float:
    return float(env[key]) if env.get(key, "").strip() else default


def _transports(env: dict[str, str]) -> tuple[Transport, ...]:
    """SANDBOX_TRANSPORTS: the HTTP transports to serve, comma-separated (default: streamable HTTP only)."""
    names = {name.strip() for name in env.get("SANDBOX_TRANSPORTS", "").split(",") if name.strip()}
    chosen = tuple(transport for transport in TRANSPORTS if transport in names)
    if unknown := sorted(names - set(chosen)):
        raise ValueError(f"SANDBOX_TRANSPORTS: unknown {', '.join(unknown)}; known: {', '.join(TRANSPORTS)}")
    return chosen or DEFAULT_TRANSPORTS


def _pip_settings(env: dict[str, str]) -> PipSettings | None:
    command = env.get("SANDBOX_PIP", "").split()
    if not command:
        return None
    cert = env.get("SANDBOX_PIP_CERT") or None
    if cert and not (Path(cert).is_file() and Path(cert).stat().st_size > 0):
        cert = None  # an empty bundle: pip's own is enough on this machine
    return PipSettings(
        command=tuple(command),
        index_url=env.get("SANDBOX_PIP_INDEX_URL") or None,
        trusted_host=env.get("SANDBOX_PIP_TRUSTED_HOST") or None,
        cert=cert,
        timeout_seconds=_float(env, "SANDBOX_INSTALL_TIMEOUT_SECONDS", PipSettings.timeout_seconds),
        max_packages=_int(env, "SANDBOX_MAX_PACKAGES", PipSettings.max_packages),
        max_bytes=_int(env, "SANDBOX_MAX_PACKAGE_BYTES", PipSettings.max_bytes),
        max_inodes=_int(env, "SANDBOX_PACKAGE_INODES", PipSettings.max_inodes),
    )


@dataclass(frozen=True)
class SandboxSettings:
    max_timeout_seconds: float = 30.0
    default_timeout_seconds: float = 10.0
    max_concurrent_runs: int = 4
    max_queued_runs: int = 16
    queue_timeout_seconds: float = 10.0
    max_runs_per_caller: int | None = None  # a caller's share of the pool (None: the whole pool)
    max_queued_per_caller: int | None = None  # and of the queue (None: the whole queue)
    max_code_bytes: int = 100_000
    required_layers: frozenset[Layer] = frozenset()
    transports: tuple[Transport, ...] = DEFAULT_TRANSPORTS  # /mcp; "sse": /sse too
    runner: RunnerSettings = field(default_factory=RunnerSettings)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "SandboxSettings":
        env = dict(os.environ if env is None else env)
        runner = RunnerSettings
        return cls(
            max_timeout_seconds=_float(env, "SANDBOX_MAX_TIMEOUT_SECONDS", cls.max_timeout_seconds),
            default_timeout_seconds=_float(env, "SANDBOX_DEFAULT_TIMEOUT_SECONDS", cls.default_timeout_seconds),
            max_concurrent_runs=_int(env, "SANDBOX_MAX_CONCURRENT_RUNS", cls.max_concurrent_runs),
            max_queued_runs=_int(env, "SANDBOX_MAX_QUEUED_RUNS", cls.max_queued_runs),
            queue_timeout_seconds=_float(env, "SANDBOX_QUEUE_TIMEOUT_SECONDS", cls.queue_timeout_seconds),
            max_runs_per_caller=_optional_int(env, "SANDBOX_MAX_RUNS_PER_CALLER"),
            max_queued_per_caller=_optional_int(env, "SANDBOX_MAX_QUEUED_PER_CALLER"),
            max_code_bytes=_int(env, "SANDBOX_MAX_CODE_BYTES", cls.max_code_bytes),
            required_layers=parse_layers(env.get("SANDBOX_REQUIRED_LAYERS") or "") or frozenset(),
            transports=_transports(env),
            runner=RunnerSettings(
                python=env.get("SANDBOX_PYTHON", ""),
                output_limit_bytes=_int(env, "SANDBOX_OUTPUT_LIMIT_BYTES", runner.output_limit_bytes),
                scratch_root=env.get("SANDBOX_SCRATCH_ROOT") or None,
                memory_limit_bytes=_int(env, "SANDBOX_MEMORY_LIMIT_BYTES", runner.memory_limit_bytes),
                max_processes=_int(env, "SANDBOX_MAX_PROCESSES", runner.max_processes),
                max_file_bytes=_int(env, "SANDBOX_MAX_FILE_BYTES", runner.max_file_bytes),
                max_open_files=_int(env, "SANDBOX_MAX_OPEN_FILES", runner.max_open_files),
                disk_quota_bytes=_int(env, "SANDBOX_DISK_QUOTA_BYTES", runner.disk_quota_bytes),
                disk_inodes=_int(env, "SANDBOX_DISK_INODES", runner.disk_inodes),
                layers=parse_layers(env.get("SANDBOX_LAYERS")),
                run_uid=_int(env, "SANDBOX_RUN_UID", runner.run_uid),
                pip=_pip_settings(env),
            ),
        )


@dataclass
class SandboxService:
    """What create_server builds: the MCP server, its metrics, and the sandbox behind the tool."""

    server: MCPServer[Any]
    metrics: ToolMetrics
    sandbox: Sandbox
    pool: RunPool
    settings: SandboxSettings

    async def health(self) -> dict[str, Any]:
        return {
            "isolation": {
                "layers": sorted(self.sandbox.layers),
                "required": sorted(self.settings.required_layers),
                "unavailable": dict(sorted(self.sandbox.host.missing.items())),
            },
            "runs": {
                "active": self.pool.active,
                "queued": self.pool.queued,
                "max_concurrent": self.pool.max_active,
                "max_queued": self.pool.max_queued,
                "max_per_caller": self.pool.max_active_per_caller,
                "max_queued_per_caller": self.pool.max_queued_per_caller,
                "callers": len(self.pool.shares()),
            },
            "packages": self.settings.runner.pip is not None,
        }


def create_service(settings: SandboxSettings | None = None) -> SandboxService:
    """Probe the host, refuse to start without the required layers, and build the server."""
    settings = settings or SandboxSettings.from_env()
    sandbox = Sandbox.create(settings.runner)
    check_required(sandbox.layers, settings.required_layers, sandbox.host.missing)
    logger.info(
        "isolation layers: %s",
        ", ".join(sorted(sandbox.layers)),
        extra={
            "fields": {
                "layers": sorted(sandbox.layers),
                "required": sorted(settings.required_layers),
                "unavailable": sandbox.host.missing,
            }
        },
    )
    metrics = ToolMetrics(NAME, VERSION)
    sandbox_metrics = SandboxMetrics(metrics.registry)
    sandbox_metrics.set_layers(sandbox.layers, settings.required_layers)
    sandbox_metrics.capacity.set(settings.max_concurrent_runs)
    pool = RunPool(
        settings.max_concurrent_runs,
        settings.max_queued_runs,
        settings.queue_timeout_seconds,
        on_change=sandbox_metrics.pool_changed,
        max_active_per_caller=settings.max_runs_per_caller,
        max_queued_per_caller=settings.max_queued_per_caller,
    )
    server: MCPServer[Any] = MCPServer(
        NAME,
        version=VERSION,
        middleware=[metrics.middleware()],
        instructions="Runs Python 3 code in an isolated sandbox (no network, no persistence between runs) and "
        "returns its stdout, stderr, exit code and duration. Packages can be installed for one run.",
    )
    pip = settings.runner.pip
    package_help = (
        f"PyPI packages to install for this run only, at most {pip.max_packages}: 'name' or 'name==version'. "
        "Wheels only; known-malicious and look-alike (typosquatting) names are refused."
        if pip
        else "Not available on this server: any package is refused."
    )

    @server.tool(
        description="Run Python 3 code in a fresh, isolated process and return its output. Print what you want to "
        "see. stdin is empty (input() raises EOFError): put any input in the code. There is no network, "
        "only the run's working directory is writable, and nothing persists between runs.",
        annotations=ToolAnnotations(title="Run Python", read_only_hint=False, open_world_hint=False),
    )
    async def execute_python(
        code: Annotated[str, Field(description="Python 3 source code to run")],
        timeout_seconds: Annotated[
            float | None,
            Field(
                description=f"wall-clock limit, at most {settings.max_timeout_seconds:g} s "
                f"(default {settings.default_timeout_seconds:g} s); package installs have their own limit"
            ),
        ] = None,
        packages: Annotated[list[str] | None, Field(description=package_help)] = None,
        ctx: Context | None = None,
    ) -> ExecutionResult:
        timeout = settings.default_timeout_seconds if timeout_seconds is None else timeout_seconds
        if not 0 < timeout <= settings.max_timeout_seconds:
            raise ToolError(
                f"Invalid 'timeout_seconds': {timeout:g}; it must be > 0 and <= {settings.max_timeout_seconds:g}"
            )
        size = len(code.encode("utf-8", errors="surrogatepass"))
        if size > settings.max_code_bytes:
            raise ToolError(f"Invalid 'code': {size} bytes; at most {settings.max_code_bytes} bytes")
        started = time.perf_counter()
        caller = caller_key(ctx.request_context.meta if ctx else None)
        try:
            async with pool.slot(caller):
                result = await sandbox.run(code, timeout, packages or ())
        except Busy as busy:
            sandbox_metrics.record_failure("busy", time.perf_counter() - started)
            raise ToolError(str(busy)) from None
        except Exception:
            # One run's failure never takes the server down; the details go to the log, not the caller.
            logger.exception("sandbox run failed")
            sandbox_metrics.record_failure("internal_error", time.perf_counter() - started)
            raise ToolError("internal sandbox error: the run did not complete (logged)") from None
        sandbox_metrics.record(result, time.perf_counter() - started)
        return result

    metrics.known_tools.add("execute_python")
    return SandboxService(server, metrics, sandbox, pool, settings)


def create_server(settings: SandboxSettings | None = None) -> tuple[MCPServer[Any], ToolMetrics]:
    service = create_service(settings)
    return service.server, service.metrics


def create_app(
    settings: SandboxSettings | None = None, auth: UpstreamAuth | None = None
) -> tuple[MCPServer[Any], Starlette]:
    """`auth`: who may call the MCP endpoint (default: from the environment, checked before the host is probed)."""
    auth = auth if auth is not None else from_env()
    service = create_service(settings)
    app = build_http_app(
        service.server,
        registry=service.metrics.registry,
        transports=service.settings.transports,
        health=service.health,
        auth=auth,
    )
    return service.server, app
