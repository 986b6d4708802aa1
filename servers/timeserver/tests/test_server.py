"""The time MCP server in process: tool listing, calls, tool errors as results, and its metrics."""

from __future__ import annotations

from datetime import datetime, timedelta

from mcp.client import Client

from servers.timeserver.server import create_server


async def test_lists_both_tools_with_their_required_arguments() -> None:
    server, _ = create_server()
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"get_current_time", "convert_time"}
    assert tools["get_current_time"].input_schema["required"] == ["timezone"]
    assert set(tools["convert_time"].input_schema["required"]) == {"source_timezone", "time", "target_timezone"}
    assert tools["get_current_time"].output_schema is not None  # structured results


async def test_call_returns_structured_content() -> None:
    server, _ = create_server()
    async with Client(server) as client:
        result = await client.call_tool("get_current_time", {"timezone": "Asia/Kolkata"})
    assert not result.is_error
    assert result.structured_content["timezone"] == "Asia/Kolkata"
    moment = datetime.fromisoformat(result.structured_content["datetime"])
    assert moment.utcoffset() == timedelta(hours=5, minutes=30)


async def test_tool_errors_and_bad_arguments_are_error_results_not_crashes() -> None:
    server, metrics = create_server()
    async with Client(server) as client:
        bad_zone = await client.call_tool("get_current_time", {"timezone": "Mars/Olympus"})
        missing = await client.call_tool("get_current_time", {})
        wrong_type = await client.call_tool(
            "convert_time", {"source_timezone": "UTC", "time": 1230, "target_timezone": "UTC"}
        )
        still_fine = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert bad_zone.is_error and "Mars/Olympus" in bad_zone.content[0].text
    assert missing.is_error and "timezone" in missing.content[0].text
    assert wrong_type.is_error
    assert not still_fine.is_error
    sample = metrics.registry.get_sample_value
    assert sample("mcp_tool_calls_total", {"tool": "get_current_time"}) == 3
    assert sample("mcp_tool_errors_total", {"tool": "get_current_time", "kind": "tool_error"}) == 2
    assert sample("mcp_tool_errors_total", {"tool": "convert_time", "kind": "tool_error"}) == 1
    assert sample("mcp_tool_call_duration_seconds_count", {"tool": "get_current_time"}) == 3


async def test_unknown_tool_names_are_counted_under_one_label() -> None:
    server, metrics = create_server()
    async with Client(server) as client:
        for name in ("x1", "x2", "x3"):
            await client.call_tool(name, {})
    sample = metrics.registry.get_sample_value
    assert sample("mcp_tool_calls_total", {"tool": "unknown"}) == 3
    assert sample("mcp_tool_calls_total", {"tool": "x1"}) is None
