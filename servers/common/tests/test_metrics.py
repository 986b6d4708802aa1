"""The tool-metrics middleware on its own: how each outcome of a tools/call is classified and recorded."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

from servers.common.metrics import CORRELATION_META_KEY, UNKNOWN_TOOL, ToolMetrics


def request(method: str = "tools/call", **params: Any) -> ServerRequestContext[Any, Any]:
    # The middleware reads only the method and params; no session is needed to exercise it.
    return ServerRequestContext(
        session=None,  # type: ignore[arg-type]
        lifespan_context={},
        protocol_version="2025-06-18",
        method=method,
        params=params,
    )


def metrics_for(*tools: str) -> ToolMetrics:
    metrics = ToolMetrics("svc", "1.2.3")
    metrics.known_tools.update(tools)
    return metrics


def value(metrics: ToolMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def returning(result: HandlerResult) -> CallNext:
    async def call_next(_: ServerRequestContext[Any, Any]) -> HandlerResult:
        return result

    return call_next


def raising(error: Exception) -> CallNext:
    async def call_next(_: ServerRequestContext[Any, Any]) -> HandlerResult:
        raise error

    return call_next


def a_validation_error() -> ValidationError:
    class Params(BaseModel):
        name: str

    try:
        Params.model_validate({})
    except ValidationError as error:
        return error
    raise AssertionError("unreachable")


OK_RESULT = CallToolResult(content=[TextContent(type="text", text="fine")])
ERROR_RESULT = CallToolResult(content=[TextContent(type="text", text="bad input")], is_error=True)


@pytest.mark.parametrize(
    "result",
    [OK_RESULT, {"content": [], "isError": False}, {"content": []}],
    ids=["model", "wire-dict", "wire-dict-without-isError"],
)
async def test_a_successful_call_is_counted_and_timed_without_errors(result: HandlerResult) -> None:
    metrics = metrics_for("echo")
    returned = await metrics.middleware()(request(name="echo", arguments={}), returning(result))
    assert returned is result
    assert value(metrics, "mcp_tool_calls_total", tool="echo") == 1
    assert value(metrics, "mcp_tool_call_duration_seconds_count", tool="echo") == 1
    assert value(metrics, "mcp_tool_errors_total", tool="echo", kind="tool_error") is None


@pytest.mark.parametrize("result", [ERROR_RESULT, {"content": [], "isError": True}], ids=["model", "wire-dict"])
async def test_an_error_result_is_a_tool_error(result: HandlerResult) -> None:
    metrics = metrics_for("echo")
    await metrics.middleware()(request(name="echo"), returning(result))
    assert value(metrics, "mcp_tool_errors_total", tool="echo", kind="tool_error") == 1
    assert value(metrics, "mcp_tool_calls_total", tool="echo") == 1


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (a_validation_error(), "invalid_params"),
        (MCPError(code=INVALID_PARAMS, message="nope"), "protocol_error"),
        (RuntimeError("crash"), "error"),
    ],
)
async def test_a_raised_failure_is_recorded_by_kind_and_re_raised(error: Exception, kind: str) -> None:
    metrics = metrics_for("echo")
    with pytest.raises(type(error)):
        await metrics.middleware()(request(name="echo"), raising(error))
    assert value(metrics, "mcp_tool_errors_total", tool="echo", kind=kind) == 1
    assert value(metrics, "mcp_tool_calls_total", tool="echo") == 1
    assert value(metrics, "mcp_tool_call_duration_seconds_count", tool="echo") == 1


@pytest.mark.parametrize("name", ["not-registered", None, 42, ["echo"], "echo "])
async def test_only_registered_tool_names_become_labels(name: Any) -> None:
    metrics = metrics_for("echo")
    await metrics.middleware()(request(name=name), returning(OK_RESULT))
    assert value(metrics, "mcp_tool_calls_total", tool=UNKNOWN_TOOL) == 1
    assert value(metrics, "mcp_tool_calls_total", tool="echo") is None


@pytest.mark.parametrize("method", ["tools/list", "initialize", "resources/read"])
async def test_other_methods_pass_through_unrecorded(method: str) -> None:
    metrics = metrics_for("echo")
    result = {"tools": []}
    assert await metrics.middleware()(request(method, name="echo"), returning(result)) is result
    assert value(metrics, "mcp_tool_calls_total", tool="echo") is None
    assert value(metrics, "mcp_tool_calls_total", tool=UNKNOWN_TOOL) is None


async def test_a_call_without_params_is_recorded_as_unknown() -> None:
    metrics = metrics_for("echo")
    context = request()
    context.params = None
    await metrics.middleware()(context, returning(OK_RESULT))
    assert value(metrics, "mcp_tool_calls_total", tool=UNKNOWN_TOOL) == 1


async def test_the_log_line_carries_outcome_and_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcpstack.tools")
    metrics = metrics_for("echo")
    await metrics.middleware()(request(name="echo", _meta={CORRELATION_META_KEY: "corr-9"}), returning(ERROR_RESULT))
    await metrics.middleware()(request(name="echo", _meta="not a dict"), returning(OK_RESULT))
    first, second = (record.fields for record in caplog.records if record.name == "mcpstack.tools")
    assert (first["tool"], first["outcome"], first["correlation_id"]) == ("echo", "tool_error", "corr-9")
    assert (second["outcome"], second["correlation_id"]) == ("ok", "-")
    assert first["duration_ms"] >= 0


def test_server_info_gauge_is_set_and_registries_are_per_instance() -> None:
    first, second = ToolMetrics("a", "1"), ToolMetrics("b", "2")  # no duplicate-metric error between them
    assert value(first, "mcp_server_info", server="a", version="1") == 1
    assert value(first, "mcp_server_info", server="b", version="2") is None
    assert value(second, "mcp_server_info", server="b", version="2") == 1
