"""The stand-in's answer from tool results: one readable sentence per result (the rules are in decide.py)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from servers.llm_standin.decide import NO_TOOL_ANSWER
from servers.llm_standin.tools import ToolSpec

PREVIEW_CHARS = 400
STATUS_PREFIX = re.compile(r"^(?:HTTP error )?(\d{3}):\s*(.*)$", re.DOTALL | re.IGNORECASE)
FIBONACCI_PRINT = re.compile(r"print\(fibonacci\((\d+)\)\)\s*$")
MCP_PREFIX = re.compile(r"^Error executing tool \S+:\s*")  # the MCP SDK's wrapping of a tool's own message
MESSAGE_KEYS = ("detail", "error", "message", "msg", "title")
REFUSED = (401, 403)


@dataclass(frozen=True)
class ToolResult:
    name: str  # as called: `tool_get_current_time_post`, or Open WebUI's `server:time/tool_get_current_time_post`
    text: str
    arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ToolSpec(self.name.rpartition("/")[2]).operation


def answer(results: list[ToolResult]) -> str:
    if not results:
        return NO_TOOL_ANSWER
    return "\n\n".join(sentence(result) for result in results)


def sentence(result: ToolResult) -> str:
    value = parse(result.text)
    failure = failure_of(value)
    if failure is not None:
        status, message = failure
        message = MCP_PREFIX.sub("", message)
        verb = "refused the request" if status in REFUSED else "reported an error"
        return f'The {result.label} tool {verb}: "{message}".'
    if isinstance(value, dict) and "stdout" in value:
        return _run(value, result.arguments)
    if isinstance(value, dict) and "datetime" in value:
        return f"Right now the time in {value.get('timezone', 'UTC')} is {value['datetime']}."
    items = value.get("results", value) if isinstance(value, dict) else value  # mcpo wraps lists as {"results"}
    if isinstance(items, list) and all(isinstance(item, dict) and "title" in item for item in items):
        return _listed(items, result)
    text = result.text if len(result.text) <= PREVIEW_CHARS else result.text[:PREVIEW_CHARS] + "..."
    return f"The {result.label} tool returned: {text}"


def _run(value: dict[str, Any], arguments: dict[str, Any]) -> str:
    output = str(value.get("stdout") or "").strip()
    if value.get("timed_out"):
        return "The code ran out of time in the sandbox and was stopped."
    if value.get("exit_code") not in (0, None):
        errors = str(value.get("stderr") or "").strip().splitlines()
        reason = f': "{errors[-1]}"' if errors else ""
        return f"The code failed in the sandbox (exit code {value['exit_code']}){reason}."
    fibonacci = FIBONACCI_PRINT.search(str(arguments.get("code", "")))
    if fibonacci and output:
        return f"fibonacci({fibonacci.group(1)}) = {output} (computed in the sandbox)."
    if not output:
        return "The sandbox ran the code; it printed nothing."
    if "\n" in output:
        return f"The sandbox ran the code; it printed:\n\n```\n{output}\n```"
    return f"The sandbox ran the code; it printed: {output}"


def _listed(items: list[dict[str, Any]], result: ToolResult) -> str:
    noun = ("issue" if "issue" in result.label else "item") + ("" if len(items) == 1 else "s")
    owner, repo = result.arguments.get("owner"), result.arguments.get("repo")
    subject = f"{owner}/{repo} has" if owner and repo else f"The {result.label} tool found"
    if not items:
        return f"{subject} no {noun}."
    titles = "; ".join(f"#{item.get('number', '?')} {item['title']}" for item in items)
    return f"{subject} {len(items)} {noun}: {titles}."


def parse(text: str) -> Any:
    """JSON, or a Python literal (Open WebUI's legacy prompt carries `str(dict)`), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    if text.lstrip()[:1] in ("{", "["):
        try:
            return ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            pass
    return text


def failure_of(value: Any) -> tuple[int | None, str] | None:
    """(HTTP status if known, the tool's own message) when a result is an error, else None."""
    if isinstance(value, str):
        if value.strip().lower().startswith("error:"):
            return _message(value.strip()[6:])
        return None
    if not isinstance(value, dict):
        return None
    is_problem = str(value.get("type", "")).startswith("urn:") or isinstance(value.get("status"), int)
    if value.get("error") or (is_problem and value.get("status", 500) >= 400) or set(value) == {"detail"}:
        return _message(value)
    return None


def _message(value: Any, depth: int = 0) -> tuple[int | None, str]:
    """The innermost human message of an error, unwrapping 'HTTP error 422: {json}' and nested bodies."""
    if depth > 5:
        return None, str(value)
    if isinstance(value, str):
        prefixed = STATUS_PREFIX.match(value.strip())
        if not prefixed:
            return None, value.strip()
        inner = parse(prefixed.group(2))
        status, message = _message(inner, depth + 1) if not isinstance(inner, str) else (None, inner.strip())
        return status or int(prefixed.group(1)), message
    if isinstance(value, list):  # FastAPI's validation errors: [{"loc": [...], "msg": ...}]
        parts = [_validation(item) for item in value]
        return None, "; ".join(part for part in parts if part)
    if isinstance(value, dict):
        status = value.get("status") if isinstance(value.get("status"), int) else None
        for key in MESSAGE_KEYS:
            if value.get(key):
                inner_status, message = _message(value[key], depth + 1)
                return status or inner_status, message
    return None, json.dumps(value) if not isinstance(value, str) else value


def _validation(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    location = [str(part) for part in item.get("loc", []) if part not in ("body", "query", "path")]
    return f"{'.'.join(location)}: {item.get('msg', '')}" if location else str(item.get("msg", ""))
