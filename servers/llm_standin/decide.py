"""The stand-in's documented rules. Pure functions: text and tool specs in, tool calls or text out.

Choosing tools (from the user's latest message and the tools offered):
1. A fenced code block (```python ... ``` or ``` ... ```) -> the first tool that runs Python code
   (its name or description mentions "python" and it takes a string `code`), with the block as `code`.
2. The word "time", "clock" or "date" -> the first tool whose name contains "current_time", with the
   first IANA timezone written in the message (e.g. "Asia/Tokyo") as `timezone`, else "UTC".
3. "issues" together with an "owner/repo" -> the first tool whose name contains "list_issues", with
   `owner` and `repo`.
Several rules may fire for one message; no rule firing means no tool call.

Answering: every tool result the prompt carries (Open WebUI's <source name=...>...</source> blocks,
or OpenAI/Ollama `tool` messages) is reported on its own line: a run's stdout, a time's datetime and
timezone, an error's message, the titles of a list of items (e.g. issues), or else the result itself
(shortened). Without tool results the answer
says which rules it knows.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

FENCED_CODE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
TIMEZONE = re.compile(r"\b(UTC|[A-Z][A-Za-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b")
TIME_WORDS = re.compile(r"\b(time|clock|date)\b", re.IGNORECASE)
REPOSITORY = re.compile(r"\b([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)\b")
# A <source> element whose body holds no other <source> tag: Open WebUI's prompt template also
# mentions `<source id="1">` as an example, with no closing tag.
SOURCE = re.compile(r"<source\b([^>]*)>((?:(?!<source\b).)*?)</source>", re.DOTALL)
SOURCE_NAME = re.compile(r'\bname="([^"]*)"')
RESULT_PREVIEW = 400
NO_TOOL_ANSWER = (
    "I am mcpstack's LLM stand-in, a test double. I call a Python tool for a fenced code block, "
    "a time tool when you ask for the time, and an issues tool for 'issues of owner/repo'."
)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def properties(self) -> dict[str, Any]:
        return self.parameters.get("properties", {}) if isinstance(self.parameters, dict) else {}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> ToolSpec:
        function = spec.get("function", spec)  # OpenAI wraps the spec in {"type": "function", "function": ...}
        return cls(function.get("name", ""), function.get("description") or "", function.get("parameters") or {})


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


def choose_tool_calls(message: str, tools: list[ToolSpec]) -> list[ToolCall]:
    calls = []
    code = FENCED_CODE.search(message)
    if code and (tool := _first(tools, _runs_python)):
        calls.append(ToolCall(tool.name, {"code": code.group(1).strip() + "\n"}))
    if TIME_WORDS.search(message) and (tool := _first(tools, lambda t: "current_time" in t.name)):
        zone = TIMEZONE.search(_without_code(message))
        calls.append(ToolCall(tool.name, {"timezone": zone.group(1) if zone else "UTC"}))
    repository = REPOSITORY.search(_without_code(message))
    if "issues" in message.lower() and repository and (tool := _first(tools, lambda t: "list_issues" in t.name)):
        calls.append(ToolCall(tool.name, {"owner": repository.group(1), "repo": repository.group(2)}))
    return calls


def _runs_python(tool: ToolSpec) -> bool:
    mentions = "python" in tool.name.lower() or "python" in tool.description.lower()
    return mentions and tool.properties.get("code", {}).get("type") == "string"


def _first(tools: list[ToolSpec], wanted: Any) -> ToolSpec | None:
    return next((tool for tool in tools if wanted(tool)), None)


def _without_code(message: str) -> str:
    return FENCED_CODE.sub(" ", message)


def tools_from_legacy_prompt(system_prompt: str) -> list[ToolSpec] | None:
    """The tool specs of Open WebUI's function-calling prompt ('Available Tools: [...]'), if it is one."""
    marker = system_prompt.find("Available Tools:")
    if marker < 0:
        return None
    start = system_prompt.find("[", marker)
    try:
        specs, _ = json.JSONDecoder().raw_decode(system_prompt[start:])
    except (ValueError, json.JSONDecodeError):
        return []
    return [ToolSpec.from_dict(spec) for spec in specs if isinstance(spec, dict)]


def legacy_tool_choice(message: str, tools: list[ToolSpec]) -> str:
    """The JSON answer Open WebUI's legacy function calling expects."""
    calls = choose_tool_calls(message, tools)
    return json.dumps({"tool_calls": [{"name": c.name, "parameters": c.arguments} for c in calls]})


def results_in_prompt(text: str) -> list[tuple[str, str]]:
    """(tool name, result text) of every <source> block in a prompt."""
    results = []
    for attributes, body in SOURCE.findall(text):
        name = SOURCE_NAME.search(attributes)
        results.append((html.unescape(name.group(1)) if name else "tool", html.unescape(body.strip())))
    return results


def answer(results: list[tuple[str, str]]) -> str:
    if not results:
        return NO_TOOL_ANSWER
    return "\n".join(f"- {name}: {_describe(body)}" for name, body in results)


def _describe(body: str) -> str:
    value = _parse(body)
    if isinstance(value, dict):
        if "error" in value or "detail" in value or value.get("status", 200) >= 400:
            message = value.get("detail") or value.get("error") or value.get("title")
            return f"error: {message}"
        if "stdout" in value:
            output = str(value.get("stdout", "")).strip() or "(no output)"
            failed = value.get("exit_code") not in (0, None)
            return f"the code printed {output}" + (f" (exit code {value['exit_code']})" if failed else "")
        if "datetime" in value:
            return f"the time in {value.get('timezone', 'UTC')} is {value['datetime']}"
        value = value.get("results", value)  # mcpo wraps list results as {"results": [...]}
    if isinstance(value, list) and value and all(isinstance(v, dict) and "title" in v for v in value):
        return "; ".join(f"#{v.get('number', '?')} {v['title']}" for v in value)
    text = body if len(body) <= RESULT_PREVIEW else body[:RESULT_PREVIEW] + "..."
    return text


def _parse(body: str) -> Any:
    for candidate in (body, body.replace("'", '"')):
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return None
