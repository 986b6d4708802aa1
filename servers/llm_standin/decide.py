"""The stand-in's documented rules: which tools it calls for a message, and how it answers.

Choosing tools. It reads the latest user message and the tools the request offers (OpenAI `tools` in
native function calling, or the `Available Tools: [...]` list of Open WebUI's legacy prompt) and calls
nothing else. Outside fenced code blocks, the message may ask for:
1. Running code. A fenced code block (```python ... ``` or ``` ... ```) -> a Python tool with exactly that
   code as `code`. Without a block, "fibonacci(N)", "fibonacci of N" or "fibonacci number N" -> a Python tool that
   computes fibonacci(N) (fibonacci(0) = 0, fibonacci(1) = 1) and prints it. A Python tool declares a
   string `code` and mentions Python in its name or description (the sandbox's `execute_python`).
2. The time: the word "time", "clock" or "date" -> a `get_current_time` tool (else Open WebUI's built-in
   `get_current_timestamp`), with `timezone`: the first IANA zone written in the message ("Asia/Tokyo",
   "UTC"), else a city written after "in", "at" or "for" that names a zone ("in Tokyo" -> "Asia/Tokyo", where
   the zone database is installed), else "UTC".
3. Issues: "issue" or "issues" with an "owner/repo" -> a `list_issues` tool with `owner` and `repo`.
A tool matches by its own name: mcpo's operationIds `tool_<name>_post` (as Open WebUI names a tool server's
tools, with `<server>_` in front when two servers share a name) count as `<name>`, and so does `<server>_<name>`
(as Open WebUI names an MCP server's tools). For each rule the
platform's tools (mcpo operations) are tried before Open WebUI's built-ins, in the order offered, and the
first one whose JSON schema gets a value for every required argument is called: from the message, else the
schema's default or its only enum value; arguments the schema does not declare are left out. Every rule that
fires adds its call to the same assistant turn ("Run fibonacci(10) and tell me the time": the Python tool and
the time tool, in that order). No rule fires: no tool call, and the answer says what the stand-in is.

Answering. Once tool results are in the conversation (native: the `tool` messages after the latest user
message, matched to the calls by `tool_call_id`; legacy: Open WebUI's `<source name=...>` blocks) it answers
from all of them, one sentence per result, in order (answers.py): a run's output ("fibonacci(10) = 55
(computed in the sandbox)." for its own fibonacci code, else "The sandbox ran the code; it printed: ..."), the
time ("Right now the time in Asia/Tokyo is <datetime>."), the titles of listed issues, or else the result
itself, shortened. A result that is an error (Open WebUI's `{"error": "HTTP error 422: {...}"}`, a
problem+json body, a failed run) becomes a sentence naming the tool and quoting the tool's own message, never
the JSON: `The get_current_time tool reported an error: "Invalid timezone ..."`; a refusal (HTTP 401/403)
reads `The execute_python tool refused the request: "..."`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from servers.llm_standin.tools import ToolCall, ToolSpec, platform_first

FENCED_CODE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
FIBONACCI = re.compile(r"\bfibonacci\s*(?:\(\s*(\d{1,5})\s*\)|(?:number\s+|of\s+)(\d{1,5})\b)", re.IGNORECASE)
TIME_WORDS = re.compile(r"\b(time|clock|date)\b", re.IGNORECASE)
IANA_ZONE = re.compile(r"\b(UTC|GMT|[A-Z][A-Za-z]+(?:/[A-Z][A-Za-z_+-]*[A-Za-z]){1,2})\b")
PLACE = re.compile(r"\b(?:in|at|for)\s+([A-Z][a-z]+(?:[ _][A-Z][a-z]+)*)")
ISSUES = re.compile(r"\bissues?\b", re.IGNORECASE)
REPOSITORY = re.compile(r"\b([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]*[A-Za-z0-9_-])")
ZONE_AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
FIBONACCI_CODE = """def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


print(fibonacci({n}))
"""
NO_TOOL_ANSWER = (
    "I am mcpstack's LLM stand-in, a test double, not a language model. I run a fenced code block or "
    "fibonacci(N) with a Python tool, ask a time tool when you ask for the time (in a zone such as "
    "Asia/Tokyo), and list the issues of owner/repo with an issues tool."
)


def choose_tool_calls(message: str, tools: list[ToolSpec]) -> list[ToolCall]:
    """The tool calls for a user message, in rule order (code, time, issues); only offered tools."""
    prose = FENCED_CODE.sub(" ", message)
    calls = []
    code = _code_to_run(message, prose)
    if code is not None and (call := _call(tools, _runs_python, {"code": code})):
        calls.append(call)
    if TIME_WORDS.search(prose):
        known = {"timezone": zone_in(prose)}
        call = _call(tools, _tells_time("get_current_time"), known) or _call(
            tools, _tells_time("get_current_timestamp"), known
        )
        if call:
            calls.append(call)
    repository = REPOSITORY.search(prose) if ISSUES.search(prose) else None
    if repository:
        known = {"owner": repository.group(1), "repo": repository.group(2)}
        if call := _call(tools, lambda tool: tool.offers("list_issues"), known):
            calls.append(call)
    return calls


def _code_to_run(message: str, prose: str) -> str | None:
    block = FENCED_CODE.search(message)
    if block:
        return block.group(1).strip("\n") + "\n"
    fibonacci = FIBONACCI.search(prose)
    if fibonacci:
        return FIBONACCI_CODE.format(n=int(fibonacci.group(1) or fibonacci.group(2)))
    return None


def _call(tools: list[ToolSpec], wanted: Callable[[ToolSpec], bool], known: dict[str, Any]) -> ToolCall | None:
    for tool in platform_first([tool for tool in tools if wanted(tool)]):
        arguments = tool.arguments(known)
        if arguments is not None:
            return ToolCall(tool.name, arguments)
    return None


def _runs_python(tool: ToolSpec) -> bool:
    mentions = "python" in tool.name.lower() or "python" in tool.description.lower()
    code = tool.properties.get("code")
    return mentions and isinstance(code, dict) and code.get("type", "string") == "string"


def _tells_time(operation: str) -> Callable[[ToolSpec], bool]:
    return lambda tool: tool.offers(operation)


def zone_in(text: str) -> str:
    """The first IANA zone written in the text, else the zone of a city named after in/at/for, else UTC."""
    written = IANA_ZONE.search(text)
    if written:
        return written.group(1)
    for place in PLACE.findall(text):
        zone = city_zones().get(place.replace("_", " "))
        if zone:
            return zone
    return "UTC"


@cache
def city_zones() -> dict[str, str]:
    """'Tokyo' -> 'Asia/Tokyo', 'New York' -> 'America/New_York', from the installed zone database."""
    zones: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        area, _, city = zone.rpartition("/")
        if area.split("/")[0] in ZONE_AREAS:
            zones.setdefault(city.replace("_", " "), zone)
    return zones
