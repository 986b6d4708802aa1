"""The time MCP server in process: tool listing, calls, tool errors as results, and its metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from mcp.client import Client
from mcp_types import CallToolResult

from servers.common.metrics import ToolMetrics
from servers.timeserver.server import NAME, VERSION, create_server
from servers.timeserver.tools import TimeConversionResult, TimeResult

TOOLS = {"get_current_time", "convert_time"}


def error_text(result: CallToolResult) -> str:
    assert result.is_error, f"expected an error result, got {result.structured_content}"
    return result.content[0].text


def errors(metrics: ToolMetrics, tool: str, kind: str) -> float | None:
    return metrics.registry.get_sample_value("mcp_tool_errors_total", {"tool": tool, "kind": kind})


def calls(metrics: ToolMetrics, tool: str) -> float | None:
    return metrics.registry.get_sample_value("mcp_tool_calls_total", {"tool": tool})


def latency(metrics: ToolMetrics, tool: str, sample: str = "count", **labels: str) -> float | None:
    return metrics.registry.get_sample_value(f"mcp_tool_call_duration_seconds_{sample}", {"tool": tool, **labels})


async def call(name: str, arguments: dict[str, Any]) -> tuple[CallToolResult, ToolMetrics]:
    """One call against a fresh server, returning the result and that server's metrics."""
    server, metrics = create_server()
    async with Client(server) as client:
        return await client.call_tool(name, arguments), metrics


# --- listing ----------------------------------------------------------------------------------


async def test_lists_both_tools_with_their_required_arguments() -> None:
    server, _ = create_server()
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert tools["get_current_time"].input_schema["required"] == ["timezone"]
    assert set(tools["convert_time"].input_schema["required"]) == {"source_timezone", "time", "target_timezone"}
    for tool in tools.values():
        assert tool.description
        assert all(prop["type"] == "string" for prop in tool.input_schema["properties"].values())
        assert all(prop.get("description") for prop in tool.input_schema["properties"].values())


async def test_output_schemas_describe_the_result_models() -> None:
    server, _ = create_server()
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools["get_current_time"].output_schema["properties"]) == set(TimeResult.model_fields)
    assert set(tools["convert_time"].output_schema["properties"]) == set(TimeConversionResult.model_fields)


async def test_server_identifies_itself_and_its_tools_capability() -> None:
    server, _ = create_server()
    async with Client(server) as client:
        info, instructions, capabilities = client.server_info, client.instructions, client.server_capabilities
    assert info is not None
    assert (info.name, info.version) == (NAME, VERSION)
    assert instructions and "timezone" in instructions
    assert capabilities.tools is not None


async def test_listing_tools_is_not_counted_as_a_tool_call() -> None:
    server, metrics = create_server()
    async with Client(server) as client:
        await client.list_tools()
    assert all(calls(metrics, tool) is None for tool in (*TOOLS, "unknown"))


# --- successful calls -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "offset"),
    [("UTC", timedelta(0)), ("Asia/Kolkata", timedelta(hours=5, minutes=30)), ("Etc/GMT+5", timedelta(hours=-5))],
)
async def test_current_time_returns_a_time_result_with_the_zones_offset(timezone: str, offset: timedelta) -> None:
    result, _ = await call("get_current_time", {"timezone": timezone})
    assert not result.is_error
    parsed = TimeResult.model_validate(result.structured_content)
    assert set(result.structured_content) == set(TimeResult.model_fields)
    assert parsed.timezone == timezone
    moment = datetime.fromisoformat(parsed.datetime)
    assert moment.utcoffset() == offset
    assert parsed.day_of_week == moment.strftime("%A")
    assert parsed.is_dst is False


async def test_structured_and_text_content_agree() -> None:
    result, _ = await call("get_current_time", {"timezone": "Asia/Tokyo"})
    assert TimeResult.model_validate_json(result.content[0].text).model_dump() == result.structured_content


async def test_convert_time_returns_a_conversion_result() -> None:
    result, _ = await call(
        "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Kolkata"}
    )
    assert not result.is_error
    parsed = TimeConversionResult.model_validate(result.structured_content)
    assert parsed.time_difference == "+5.5h"
    source, target = datetime.fromisoformat(parsed.source.datetime), datetime.fromisoformat(parsed.target.datetime)
    assert source == target  # the same instant, written in two zones
    assert (source.hour, source.minute) == (12, 0)
    assert (target.hour, target.minute) == (17, 30)
    assert target.utcoffset() == timedelta(hours=5, minutes=30)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "../etc/passwd", "/etc/localtime", ""])
async def test_invalid_timezone_is_an_error_result_with_the_clear_message(timezone: str) -> None:
    result, _ = await call("get_current_time", {"timezone": timezone})
    text = error_text(result)
    assert f"Invalid timezone in 'timezone': {timezone!r}" in text
    assert result.structured_content is None


async def test_malformed_time_is_an_error_result_naming_the_value() -> None:
    result, _ = await call("convert_time", {"source_timezone": "UTC", "time": "25:00", "target_timezone": "UTC"})
    assert "Invalid time in 'time': '25:00'" in error_text(result)


async def test_convert_time_names_the_wrong_timezone_argument() -> None:
    result, _ = await call("convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Nowhere"})
    assert "'target_timezone': 'Nowhere'" in error_text(result)


@pytest.mark.parametrize(
    ("name", "arguments", "field"),
    [
        ("get_current_time", {}, "timezone"),
        ("get_current_time", {"timezone": 5}, "timezone"),
        ("get_current_time", {"timezone": None}, "timezone"),
        ("convert_time", {"source_timezone": "UTC", "target_timezone": "UTC"}, "time"),
        ("convert_time", {"source_timezone": "UTC", "time": 1230, "target_timezone": "UTC"}, "time"),
        ("convert_time", {"source_timezone": ["UTC"], "time": "12:00", "target_timezone": "UTC"}, "source_timezone"),
    ],
)
async def test_missing_or_ill_typed_arguments_are_error_results_naming_the_field(
    name: str, arguments: dict[str, Any], field: str
) -> None:
    result, _ = await call(name, arguments)
    text = error_text(result)
    assert field in text
    assert "validation error" in text


async def test_the_server_keeps_serving_after_errors() -> None:
    server, _ = create_server()
    async with Client(server) as client:
        await client.call_tool("get_current_time", {"timezone": "Mars/Olympus"})
        await client.call_tool("get_current_time", {})
        await client.call_tool("no_such_tool", {})
        result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert not result.is_error
    assert result.structured_content["timezone"] == "UTC"


async def test_unknown_tool_is_an_error_result() -> None:
    result, _ = await call("no_such_tool", {"timezone": "UTC"})
    assert "Unknown tool: no_such_tool" in error_text(result)


# --- metrics ----------------------------------------------------------------------------------


async def test_metrics_count_calls_errors_and_latency_per_tool() -> None:
    server, metrics = create_server()
    async with Client(server) as client:
        await client.call_tool("get_current_time", {"timezone": "UTC"})
        await client.call_tool("get_current_time", {"timezone": "Mars/Olympus"})  # the tool raises
        await client.call_tool("get_current_time", {})  # arguments rejected
        await client.call_tool("convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"})
        await client.call_tool("convert_time", {"source_timezone": "UTC", "time": 1230, "target_timezone": "UTC"})
    assert calls(metrics, "get_current_time") == 3
    assert calls(metrics, "convert_time") == 2
    # This SDK turns rejected arguments into an is_error result, like an error the tool raises.
    assert errors(metrics, "get_current_time", "tool_error") == 2
    assert errors(metrics, "convert_time", "tool_error") == 1
    assert errors(metrics, "get_current_time", "invalid_params") is None
    assert latency(metrics, "get_current_time") == 3
    assert latency(metrics, "convert_time") == 2
    assert latency(metrics, "get_current_time", "bucket", le="+Inf") == 3
    assert latency(metrics, "get_current_time", "sum") > 0


async def test_successful_calls_record_no_errors() -> None:
    _, metrics = await call("get_current_time", {"timezone": "UTC"})
    assert calls(metrics, "get_current_time") == 1
    for kind in ("tool_error", "invalid_params", "protocol_error", "error"):
        assert errors(metrics, "get_current_time", kind) is None


async def test_server_info_gauge_names_server_and_version() -> None:
    server, metrics = create_server()
    assert metrics.registry.get_sample_value("mcp_server_info", {"server": NAME, "version": server.version}) == 1


async def test_unknown_tool_names_are_counted_under_one_label() -> None:
    server, metrics = create_server()
    async with Client(server) as client:
        for name in ("x1", "x2", "x3"):
            await client.call_tool(name, {})
    assert calls(metrics, "unknown") == 3
    assert errors(metrics, "unknown", "tool_error") == 3
    assert latency(metrics, "unknown") == 3
    labels = {sample.labels.get("tool") for family in metrics.registry.collect() for sample in family.samples} - {None}
    assert labels == {"unknown"}


async def test_each_server_has_its_own_registry() -> None:
    first_server, first = create_server()
    _, second = create_server()
    async with Client(first_server) as client:
        await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert calls(first, "get_current_time") == 1
    assert calls(second, "get_current_time") is None
