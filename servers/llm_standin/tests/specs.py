"""Tool specs as Open WebUI 0.12.4 offers them in native function calling (OpenAI `tools`): the platform's
tool servers' operations (mcpo operationIds) and Open WebUI's own built-in tools."""

from __future__ import annotations

from typing import Any

from servers.llm_standin.tools import ToolSpec


def function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


STRING = {"type": "string"}
PYTHON = function(
    "tool_execute_python_post",
    "Run Python 3 code in an isolated sandbox and return its stdout, stderr and exit code.",
    {"code": {**STRING, "title": "Code"}, "timeout_seconds": {"type": "number", "default": 10}},
    ["code"],
)
CLOCK = function(
    "tool_get_current_time_post",
    "Get the current time in a specific timezone",
    {"timezone": {**STRING, "description": "IANA timezone name"}},
    ["timezone"],
)
CONVERT = function(
    "tool_convert_time_post",
    "Convert time between timezones",
    {"source_timezone": STRING, "time": STRING, "target_timezone": STRING},
    ["source_timezone", "time", "target_timezone"],
)
ISSUES = function(
    "tool_list_issues_post",
    "List issues in a GitHub repository",
    {"owner": STRING, "repo": STRING, "state": {**STRING, "enum": ["open", "closed", "all"]}},
    ["owner", "repo"],
)
# Open WebUI's built-ins (utils/tools.py get_builtin_tools): plain names, no mcpo operationId.
TIMESTAMP = function("get_current_timestamp", "Get the current Unix timestamp and the UTC date and time.", {}, [])
EXECUTE_CODE = function("execute_code", "Execute Python code in the code interpreter.", {"code": STRING}, ["code"])
SEARCH_CHATS = function("search_chats", "Search the user's previous chats.", {"query": STRING}, ["query"])

PLATFORM = [CLOCK, CONVERT, PYTHON, ISSUES]
BUILT_IN = [TIMESTAMP, EXECUTE_CODE, SEARCH_CHATS]


def specs(*tools: dict[str, Any]) -> list[ToolSpec]:
    return [ToolSpec.from_dict(tool) for tool in tools]
