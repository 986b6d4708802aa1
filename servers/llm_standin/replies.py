"""What the stand-in says to a conversation: tool calls, a legacy tool choice, or an answer (rules: decide.py).

In order: Open WebUI's legacy tool-choice prompt gets its JSON choice; tool results after the latest user
message (native function calling's `tool` messages) get the answer from all of them; offered `tools` get
the calls the rules choose; results in the prompt (legacy `<source>` blocks) get the answer from them;
Open WebUI's background tasks (title, tags, follow-ups) get the small JSON they expect; anything else gets
the stand-in's self-description.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from servers.llm_standin import legacy
from servers.llm_standin.answers import ToolResult, answer
from servers.llm_standin.decide import choose_tool_calls
from servers.llm_standin.tools import ToolCall, ToolSpec

TASK_ANSWERS = (
    ('"follow_ups"', {"follow_ups": []}),
    ('"tags"', {"tags": ["tools"]}),
    ('"title"', {"title": "Tool call"}),
)


@dataclass(frozen=True)
class Reply:
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # multimodal parts
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def reply(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> Reply:
    system = "\n".join(text_of(m) for m in messages if m.get("role") == "system")
    last_user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)
    user_text = text_of(messages[last_user]) if last_user is not None else ""

    offered = legacy.offered_tools(system)
    if offered is not None:
        return Reply(legacy.tool_choice(legacy.query_of(user_text), offered))

    results = tool_results(messages[last_user + 1 :] if last_user is not None else messages)
    if results:
        return Reply(answer(results))
    if tools:
        calls = choose_tool_calls(user_text, [ToolSpec.from_dict(t) for t in tools if isinstance(t, dict)])
        if calls:
            return Reply("", calls)

    prompt = system + "\n" + user_text
    in_prompt = legacy.results_in_prompt(prompt)
    if in_prompt:
        return Reply(answer(in_prompt))
    for marker, task_answer in TASK_ANSWERS:
        if "### Task" in prompt and marker in prompt:
            return Reply(json.dumps(task_answer))
    return Reply(answer([]))


def tool_results(turn: list[dict[str, Any]]) -> list[ToolResult]:
    """The `tool` messages of a turn, each with the name and arguments of the call it answers."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for message in turn:
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            calls[str(call.get("id"))] = (str(function.get("name", "")), _arguments(function.get("arguments")))
    results = []
    for message in turn:
        if message.get("role") != "tool":
            continue
        name, arguments = calls.get(str(message.get("tool_call_id")), ("", {}))
        label = message.get("name") or message.get("tool_name") or name or "tool"
        results.append(ToolResult(label, text_of(message), arguments))
    return results


def _arguments(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}
