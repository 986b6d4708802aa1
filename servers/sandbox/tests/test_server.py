"""The sandbox MCP server: in process (arguments, isolation between runs, the pool, busy, metrics,
refusing to start) and over HTTP (/health, /metrics, execute_python over streamable HTTP)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from mcp.client import Client
from mcp_types import CallToolResult

from servers.common.metrics import ToolMetrics
from servers.common.tests.serving import Serve, scraped
from servers.common.upstream_auth import UpstreamAuth
from servers.sandbox.caller import META_KEY as CALLER_META_KEY
from servers.sandbox.caller import caller_key
from servers.sandbox.layers import NAMESPACES, Layer, SandboxUnavailable
from servers.sandbox.runner import ExecutionResult, PipSettings, RunnerSettings
from servers.sandbox.server import NAME, VERSION, SandboxSettings, create_app, create_server, create_service

SETTINGS = SandboxSettings(max_timeout_seconds=20.0, default_timeout_seconds=10.0, max_concurrent_runs=4)
# Prints the wall-clock start and end of a run that sleeps in between; comparable across processes.
TIMED_SLEEP = "import time\nprint(time.time(), flush=True)\ntime.sleep({seconds})\nprint(time.time())"


def execution(result: CallToolResult) -> ExecutionResult:
    assert not result.is_error, result.content[0].text
    return ExecutionResult.model_validate(result.structured_content)


def error_text(result: CallToolResult) -> str:
    assert result.is_error, f"expected an error result, got {result.structured_content}"
    return result.content[0].text


def sample(metrics: ToolMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def interval(result: CallToolResult) -> tuple[float, float]:
    start, end = map(float, execution(result).stdout.split())
    return start, end


async def execute(code: str, settings: SandboxSettings = SETTINGS, **arguments: Any) -> CallToolResult:
    server, _ = create_server(settings)
    async with Client(server) as client:
        return await client.call_tool("execute_python", {"code": code, **arguments})


async def wait_for_gauge(metrics: ToolMetrics, name: str, value: float, within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while sample(metrics, name) != value:  # noqa: ASYNC110 - polling a gauge another task sets
            await asyncio.sleep(0.01)


# --- listing and happy path -------------------------------------------------------------------


async def test_lists_execute_python_with_code_required() -> None:
    server, _ = create_server(SandboxSettings(max_timeout_seconds=12.0, default_timeout_seconds=3.0))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    assert [tool.name for tool in tools] == ["execute_python"]
    schema = tools[0].input_schema
    assert schema["required"] == ["code"]
    assert set(schema["properties"]) == {"code", "timeout_seconds", "packages"}
    description = schema["properties"]["timeout_seconds"]["description"]
    assert "at most 12 s" in description and "default 3 s" in description
    assert "Not available" in schema["properties"]["packages"]["description"]
    assert "stdin is empty" in tools[0].description
    assert set(tools[0].output_schema["properties"]) == set(ExecutionResult.model_fields)


async def test_execute_python_returns_output_exit_code_and_layers() -> None:
    result = execution(await execute("import sys\nprint(6 * 7)\nprint('warn', file=sys.stderr)"))
    assert (result.stdout, result.stderr, result.exit_code) == ("42\n", "warn\n", 0)
    assert (result.timed_out, result.truncated, result.stopped_reason) == (False, False, None)
    assert {"network_namespace", "seccomp", "rlimits"} <= set(result.isolation)


async def test_fibonacci_of_ten() -> None:
    code = "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\nprint(fibonacci(10))"
    assert execution(await execute(code)).stdout == "55\n"


async def test_failing_code_is_a_successful_tool_call_with_its_exit_code() -> None:
    run = execution(await execute("raise ValueError('boom')"))
    assert run.exit_code == 1
    assert "ValueError: boom" in run.stderr


async def test_the_default_timeout_applies_when_none_is_given() -> None:
    run = execution(await execute("import time\ntime.sleep(30)", replace(SETTINGS, default_timeout_seconds=0.5)))
    assert (run.timed_out, run.stopped_reason) == (True, "timeout")


async def test_an_explicit_timeout_overrides_the_default() -> None:
    settings = replace(SETTINGS, default_timeout_seconds=0.5)
    run = execution(await execute("import time\ntime.sleep(1)\nprint('slept')", settings, timeout_seconds=15))
    assert (run.timed_out, run.stdout) == (False, "slept\n")


async def test_a_timeout_equal_to_the_maximum_is_accepted() -> None:
    settings = SandboxSettings(max_timeout_seconds=7.5, default_timeout_seconds=1.0)
    assert execution(await execute("print('ok')", settings, timeout_seconds=7.5)).stdout == "ok\n"


async def test_the_runner_settings_reach_the_runner() -> None:
    run = execution(
        await execute("print('0123456789abcdef')", SandboxSettings(runner=RunnerSettings(output_limit_bytes=10)))
    )
    assert (run.stdout, run.truncated) == ("0123456789", True)


# --- argument errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout_seconds", "shown"), [(0, "0"), (-1, "-1"), (-0.5, "-0.5"), (20.5, "20.5"), (1000, "1000")]
)
async def test_timeout_out_of_range_is_an_error_result_with_a_clear_message(timeout_seconds: float, shown: str) -> None:
    text = error_text(await execute("print('never runs')", timeout_seconds=timeout_seconds))
    assert f"Invalid 'timeout_seconds': {shown};" in text
    assert "must be > 0 and <= 20" in text


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({}, "code"),
        ({"code": 42}, "code"),
        ({"code": "print(1)", "timeout_seconds": "soon"}, "timeout_seconds"),
        ({"code": "print(1)", "timeout_seconds": [1]}, "timeout_seconds"),
        ({"code": "print(1)", "packages": "six"}, "packages"),
        ({"code": "print(1)", "packages": [1, 2]}, "packages"),
    ],
)
async def test_missing_or_ill_typed_arguments_are_error_results(arguments: dict[str, Any], field: str) -> None:
    server, _ = create_server(SETTINGS)
    async with Client(server) as client:
        text = error_text(await client.call_tool("execute_python", arguments))
    assert field in text
    assert "validation error" in text


async def test_code_over_the_size_limit_is_refused() -> None:
    text = error_text(await execute("x = 1\n" * 100, replace(SETTINGS, max_code_bytes=100)))
    assert "Invalid 'code': 600 bytes; at most 100 bytes" in text


async def test_a_failed_run_does_not_break_the_next_one() -> None:
    server, _ = create_server(SETTINGS)
    async with Client(server) as client:
        crashed = await client.call_tool("execute_python", {"code": "import os\nos._exit(9)"})
        timed_out = await client.call_tool("execute_python", {"code": "while True: pass", "timeout_seconds": 0.5})
        flooded = await client.call_tool("execute_python", {"code": "while True: print('y' * 10_000)"})
        bomb = await client.call_tool(
            "execute_python", {"code": "import os\nwhile True: os.fork()", "timeout_seconds": 3}
        )
        rejected = await client.call_tool("execute_python", {"code": "print(1)", "timeout_seconds": 0})
        healthy = await client.call_tool("execute_python", {"code": "print('still fine')"})
    assert execution(crashed).exit_code == 9
    assert execution(timed_out).timed_out is True
    assert execution(flooded).stopped_reason == "output_limit"
    assert execution(bomb).stopped_reason in ("process_limit", "timeout")
    assert rejected.is_error
    assert (execution(healthy).stdout, execution(healthy).exit_code) == ("still fine\n", 0)


async def test_runs_do_not_share_state() -> None:
    server, _ = create_server(SETTINGS)
    async with Client(server) as client:
        await client.call_tool("execute_python", {"code": "open('note.txt', 'w').write('secret')\nx = 1"})
        second = await client.call_tool(
            "execute_python", {"code": "import os\nprint(os.path.exists('note.txt'), 'x' in globals())"}
        )
    assert execution(second).stdout == "False False\n"


# --- the pool ---------------------------------------------------------------------------------


async def test_runs_beyond_max_concurrent_runs_wait_for_a_free_slot() -> None:
    server, _ = create_server(replace(SETTINGS, max_concurrent_runs=1))
    code = TIMED_SLEEP.format(seconds=0.5)
    async with Client(server) as first_client, Client(server) as second_client:
        first, second = await asyncio.gather(
            first_client.call_tool("execute_python", {"code": code}),
            second_client.call_tool("execute_python", {"code": code}),
        )
    earlier, later = sorted([interval(first), interval(second)])
    assert later[0] >= earlier[1], f"runs overlapped: {earlier} and {later}"


async def test_runs_within_max_concurrent_runs_overlap() -> None:
    """The control for the test above: with two slots both runs are in flight at the same time."""
    server, _ = create_server(replace(SETTINGS, max_concurrent_runs=2))
    code = TIMED_SLEEP.format(seconds=2)
    async with Client(server) as first_client, Client(server) as second_client:
        first, second = await asyncio.gather(
            first_client.call_tool("execute_python", {"code": code}),
            second_client.call_tool("execute_python", {"code": code}),
        )
    earlier, later = sorted([interval(first), interval(second)])
    assert later[0] < earlier[1], f"runs did not overlap: {earlier} and {later}"


async def test_a_run_killed_at_its_timeout_releases_its_slot() -> None:
    server, metrics = create_server(replace(SETTINGS, max_concurrent_runs=1))
    async with asyncio.timeout(60), Client(server) as first_client, Client(server) as second_client:
        stuck = asyncio.create_task(
            first_client.call_tool("execute_python", {"code": "while True:\n    pass", "timeout_seconds": 1})
        )
        await wait_for_gauge(metrics, "sandbox_active_runs", 1)  # the hog holds the only slot
        queued = await second_client.call_tool("execute_python", {"code": "print('my turn')"})
        assert execution(await stuck).timed_out is True
    assert execution(queued).stdout == "my turn\n"


async def test_beyond_the_queue_callers_get_a_clear_busy_error() -> None:
    settings = replace(SETTINGS, max_concurrent_runs=1, max_queued_runs=0)
    server, metrics = create_server(settings)
    async with asyncio.timeout(60), Client(server) as first_client, Client(server) as second_client:
        hog = asyncio.create_task(
            first_client.call_tool("execute_python", {"code": "import time\ntime.sleep(30)", "timeout_seconds": 3})
        )
        await wait_for_gauge(metrics, "sandbox_active_runs", 1)
        busy = await second_client.call_tool("execute_python", {"code": "print(1)"})
        await hog
        after = await second_client.call_tool("execute_python", {"code": "print('free again')"})
    assert "sandbox is busy" in error_text(busy)
    assert "try again" in error_text(busy)
    assert execution(after).stdout == "free again\n"
    assert sample(metrics, "sandbox_runs_total", outcome="busy") == 1


async def test_waiting_past_the_queue_limit_is_busy() -> None:
    settings = replace(SETTINGS, max_concurrent_runs=1, max_queued_runs=4, queue_timeout_seconds=0.3)
    server, metrics = create_server(settings)
    async with asyncio.timeout(60), Client(server) as first_client, Client(server) as second_client:
        hog = asyncio.create_task(
            first_client.call_tool("execute_python", {"code": "import time\ntime.sleep(30)", "timeout_seconds": 3})
        )
        await wait_for_gauge(metrics, "sandbox_active_runs", 1)
        busy = await second_client.call_tool("execute_python", {"code": "print(1)"})
        await hog
    assert "no run slot came free within 0.3 s" in error_text(busy)
    assert sample(metrics, "sandbox_queued_runs") == 0


async def test_each_caller_named_by_the_gateway_has_its_share() -> None:
    """Issue 14, finding 7: one caller's slow runs leave the other slot to another caller, not to its own."""
    settings = replace(SETTINGS, max_concurrent_runs=2, max_runs_per_caller=1, max_queued_per_caller=0)
    server, metrics = create_server(settings)
    hog, other = ({CALLER_META_KEY: {"client": "open-webui", "tenant": "staff", "user": name}} for name in ("a", "b"))
    slow = {"code": "import time\ntime.sleep(30)", "timeout_seconds": 3}
    async with asyncio.timeout(60), Client(server) as client:
        first = asyncio.create_task(client.call_tool("execute_python", slow, meta=hog))
        await wait_for_gauge(metrics, "sandbox_active_runs", 1)
        again = await client.call_tool("execute_python", {"code": "print(1)"}, meta=hog)
        theirs = await client.call_tool("execute_python", {"code": "print(2)"}, meta=other)
        await first
    assert "busy for this caller: 1 of its runs in progress" in error_text(again)
    assert execution(theirs).stdout == "2\n"


@pytest.mark.parametrize(
    ("meta", "key"),
    [
        (None, "anonymous"),
        ({}, "anonymous"),
        ({CALLER_META_KEY: {"client": "open-webui", "tenant": "staff", "user": "u-1"}}, "user:staff/u-1"),
        ({CALLER_META_KEY: {"client": "e2e", "tenant": "platform"}}, "client:e2e"),
        ({CALLER_META_KEY: " gateway-named "}, "gateway-named"),
        ({CALLER_META_KEY: {"user": 42}}, "anonymous"),
        ({CALLER_META_KEY: "x" * 1000}, "x" * 300),
    ],
)
def test_the_caller_key(meta: dict[str, Any] | None, key: str) -> None:
    assert caller_key(meta) == key


# --- settings and start-up --------------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    settings = SandboxSettings.from_env(
        {
            "SANDBOX_MAX_TIMEOUT_SECONDS": "12.5",
            "SANDBOX_DEFAULT_TIMEOUT_SECONDS": "2",
            "SANDBOX_MAX_CONCURRENT_RUNS": "3",
            "SANDBOX_MAX_QUEUED_RUNS": "7",
            "SANDBOX_QUEUE_TIMEOUT_SECONDS": "4",
            "SANDBOX_MAX_RUNS_PER_CALLER": "2",
            "SANDBOX_MAX_QUEUED_PER_CALLER": "0",
            "SANDBOX_MAX_CODE_BYTES": "5000",
            "SANDBOX_REQUIRED_LAYERS": "seccomp, network_namespace",
            "SANDBOX_OUTPUT_LIMIT_BYTES": "2048",
            "SANDBOX_MEMORY_LIMIT_BYTES": "1000000",
            "SANDBOX_MAX_PROCESSES": "9",
            "SANDBOX_MAX_FILE_BYTES": "4096",
            "SANDBOX_MAX_OPEN_FILES": "33",
            "SANDBOX_DISK_QUOTA_BYTES": "8192",
            "SANDBOX_DISK_INODES": "300",
            "SANDBOX_LAYERS": "rlimits,seccomp",
            "SANDBOX_RUN_UID": "4242",
            "SANDBOX_PYTHON": "/usr/bin/python3",
            "SANDBOX_PIP": "/opt/sandbox-pip/bin/python -m pip",
            "SANDBOX_PIP_INDEX_URL": "http://pypi:8081/simple",
            "SANDBOX_PIP_TRUSTED_HOST": "pypi",
            "SANDBOX_PIP_CERT": "/nonexistent/ca.pem",
            "SANDBOX_INSTALL_TIMEOUT_SECONDS": "15",
            "SANDBOX_MAX_PACKAGES": "2",
            "SANDBOX_MAX_PACKAGE_BYTES": "1000",
            "SANDBOX_PACKAGE_INODES": "700",
            "SECRET_TOKEN": "ignored",
        }
    )
    assert (settings.max_timeout_seconds, settings.default_timeout_seconds) == (12.5, 2.0)
    assert (settings.max_concurrent_runs, settings.max_queued_runs, settings.queue_timeout_seconds) == (3, 7, 4.0)
    assert (settings.max_runs_per_caller, settings.max_queued_per_caller) == (2, 0)
    assert settings.max_code_bytes == 5000
    assert settings.required_layers == {Layer.SECCOMP, Layer.NETWORK_NAMESPACE}
    assert settings.runner == RunnerSettings(
        python="/usr/bin/python3",
        output_limit_bytes=2048,
        memory_limit_bytes=1_000_000,
        max_processes=9,
        max_file_bytes=4096,
        max_open_files=33,
        disk_quota_bytes=8192,
        disk_inodes=300,
        layers=frozenset({Layer.RLIMITS, Layer.SECCOMP}),
        run_uid=4242,
        pip=PipSettings(
            command=("/opt/sandbox-pip/bin/python", "-m", "pip"),
            index_url="http://pypi:8081/simple",
            trusted_host="pypi",
            cert=None,  # a bundle that does not exist (or is empty) is not passed to pip
            timeout_seconds=15.0,
            max_packages=2,
            max_bytes=1000,
            max_inodes=700,
        ),
    )


def test_settings_default_when_the_environment_is_empty() -> None:
    assert SandboxSettings.from_env({}) == SandboxSettings()
    assert SandboxSettings.from_env({"SANDBOX_LAYERS": "all", "SANDBOX_PIP": ""}).runner.layers is None


def test_an_unknown_layer_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown isolation layer.*network_namespce"):
        SandboxSettings.from_env({"SANDBOX_REQUIRED_LAYERS": "seccomp,network_namespce"})


def test_the_transports_served_from_the_environment() -> None:
    assert SandboxSettings.from_env({}).transports == ("streamable-http",)
    both = SandboxSettings.from_env({"SANDBOX_TRANSPORTS": " sse , streamable-http"})
    assert both.transports == ("streamable-http", "sse")
    with pytest.raises(ValueError, match=r"SANDBOX_TRANSPORTS: unknown websocket"):
        SandboxSettings.from_env({"SANDBOX_TRANSPORTS": "sse,websocket"})


def test_the_server_refuses_to_start_without_a_required_layer() -> None:
    settings = SandboxSettings(
        required_layers=frozenset({Layer.SECCOMP, Layer.NETWORK_NAMESPACE, Layer.PID_NAMESPACE}),
        runner=RunnerSettings(layers=frozenset(Layer) - NAMESPACES),
    )
    with pytest.raises(SandboxUnavailable) as refused:
        create_service(settings)
    message = str(refused.value)
    assert message.startswith(
        "refusing to start: required isolation layer(s) missing: network_namespace, pid_namespace"
    )
    assert "docs/sandbox.md" in message


def test_the_server_starts_with_every_required_layer() -> None:
    required = frozenset(Layer) - {Layer.SEPARATE_USER, Layer.PRIVATE_PROC}
    service = create_service(SandboxSettings(required_layers=required))
    assert required <= service.sandbox.layers


# --- metrics ----------------------------------------------------------------------------------


async def test_metrics_count_runs_by_outcome_and_calls() -> None:
    # packages on, with a pip that does not exist: denials come before pip is ever started
    runner = RunnerSettings(memory_limit_bytes=256 * 1024 * 1024, pip=PipSettings(command=("/nonexistent/pip",)))
    server, metrics = create_server(replace(SETTINGS, runner=runner))
    async with Client(server) as client:
        for arguments in (
            {"code": "import time\ntime.sleep(0.3)"},
            {"code": "raise SystemExit(1)"},
            {"code": "while True: pass", "timeout_seconds": 0.5},
            {"code": "bytearray(2 ** 31)"},
            {"code": "print(1)", "packages": ["reqeusts"]},
            {"code": "print(1)", "packages": ["numpy>=1"]},
            {"code": "print(1)", "timeout_seconds": -1},
        ):
            await client.call_tool("execute_python", arguments)
    assert sample(metrics, "mcp_tool_calls_total", tool="execute_python") == 7
    # Only the rejected call is a tool error; code that fails is still a successful execution.
    assert sample(metrics, "mcp_tool_errors_total", tool="execute_python", kind="tool_error") == 1
    expected = {"ok": 1, "error": 1, "timeout": 1, "memory": 1, "denied_package": 2, "busy": 0, "internal_error": 0}
    assert {outcome: sample(metrics, "sandbox_runs_total", outcome=outcome) for outcome in expected} == expected
    assert sample(metrics, "sandbox_package_denials_total", reason="typosquat") == 1
    assert sample(metrics, "sandbox_package_denials_total", reason="invalid_version") == 1
    assert sample(metrics, "sandbox_package_denials_total", reason="blocklisted") == 0
    assert sample(metrics, "sandbox_run_duration_seconds_count", outcome="ok") == 1
    assert sample(metrics, "sandbox_run_duration_seconds_sum", outcome="ok") >= 0.3
    assert (sample(metrics, "sandbox_active_runs"), sample(metrics, "sandbox_queued_runs")) == (0, 0)


def test_metrics_show_the_isolation_layers_and_which_are_required() -> None:
    service = create_service(
        SandboxSettings(
            required_layers=frozenset({Layer.SECCOMP}), runner=RunnerSettings(layers=frozenset({Layer.SECCOMP}))
        )
    )
    metrics = service.metrics
    assert sample(metrics, "sandbox_isolation_layer", layer="seccomp", required="true") == 1
    assert sample(metrics, "sandbox_isolation_layer", layer="process_group", required="false") == 1
    assert sample(metrics, "sandbox_isolation_layer", layer="network_namespace", required="false") == 0
    assert sample(metrics, "sandbox_max_concurrent_runs") == service.settings.max_concurrent_runs


async def test_packages_through_the_tool(pip_settings: PipSettings) -> None:
    server, metrics = create_server(replace(SETTINGS, runner=RunnerSettings(pip=pip_settings)))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        installed = await client.call_tool(
            "execute_python",
            {"code": "import mcpstack_demo\nprint(mcpstack_demo.greet())", "packages": ["mcpstack-demo"]},
        )
        blocked = await client.call_tool("execute_python", {"code": "print(1)", "packages": ["mcpstack-wrapper"]})
    assert "at most 5" in tools[0].input_schema["properties"]["packages"]["description"]
    assert execution(installed).stdout == "hello from a wheel\n"
    assert execution(installed).packages == ["mcpstack-demo==2.0.0"]
    assert execution(blocked).stopped_reason == "denied_package"
    assert sample(metrics, "sandbox_package_denials_total", reason="blocklisted_dependency") == 1


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def base_url(serve: Serve) -> str:
    _, app = create_app(SETTINGS, auth=UpstreamAuth.disabled())  # the credential: servers/common/tests
    return serve(app)


def test_health_reports_the_layers_and_the_pool(base_url: str) -> None:
    response = httpx.get(base_url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "server", "version")} == {"status": "ok", "server": NAME, "version": VERSION}
    assert {"process_group", "scrubbed_env", "rlimits", "seccomp", "network_namespace"} <= set(
        body["isolation"]["layers"]
    )
    assert body["isolation"]["required"] == []
    assert set(body["isolation"]["unavailable"]).isdisjoint(body["isolation"]["layers"])
    assert body["runs"] == {
        "active": 0,
        "queued": 0,
        "max_concurrent": 4,
        "max_queued": 16,
        "max_per_caller": 4,
        "max_queued_per_caller": 16,
        "callers": 0,
    }
    assert body["packages"] is False


def test_metrics_over_http_before_any_call(base_url: str) -> None:
    response = httpx.get(base_url + "/metrics")
    assert response.status_code == 200
    assert f'mcp_server_info{{server="{NAME}",version="{VERSION}"}} 1.0' in response.text
    assert "mcp_tool_calls_total{" not in response.text
    assert scraped(base_url, "sandbox_runs_total", outcome="ok") == 0
    assert scraped(base_url, "sandbox_isolation_layer", layer="seccomp", required="false") == 1


def test_only_streamable_http_is_served(base_url: str) -> None:
    assert httpx.get(base_url + "/sse").status_code == 404


async def test_execute_python_over_streamable_http_is_counted_in_metrics(base_url: str) -> None:
    async with Client(base_url + "/mcp") as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("execute_python", {"code": "print(sum(range(10)))"})
        rejected = await client.call_tool("execute_python", {"code": "print(1)", "timeout_seconds": 0})
    assert names == ["execute_python"]
    run = execution(result)
    assert (run.stdout, run.exit_code) == ("45\n", 0)
    assert "Invalid 'timeout_seconds': 0;" in error_text(rejected)
    assert scraped(base_url, "mcp_tool_calls_total", tool="execute_python") == 2
    assert scraped(base_url, "mcp_tool_errors_total", tool="execute_python", kind="tool_error") == 1
    assert scraped(base_url, "sandbox_runs_total", outcome="ok") == 1
