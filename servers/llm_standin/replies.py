"""What the stand-in says to a conversation: a tool choice, tool calls, or an answer (see decide.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from servers.llm_standin.decide import (
    ToolCall,
    ToolSpec,
    answer,
    choose_tool_calls,
    legacy_tool_choice,
    results_in_prompt,
    tools_from_legacy_prompt,
)

# Open WebUI's background tasks (chat title, tags, follow-up questions) expect small JSON answers.
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
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def reply(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> Reply:
    system = "\n".join(text_of(m) for m in messages if m.get("role") == "system")
    last_user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)
    user_text = text_of(messages[last_user]) if last_user is not None else ""

    offered = tools_from_legacy_prompt(system)
    if offered is not None:  # Open WebUI asks which tools to call ("Available Tools: [...]")
        query = user_text.rpartition("Query:")[2] if "Query:" in user_text else user_text
        return Reply(legacy_tool_choice(query, offered))

    after_user = messages[last_user + 1 :] if last_user is not None else []
    tool_results = [
        (m.get("name") or m.get("tool_name") or "tool", text_of(m)) for m in after_user if m.get("role") == "tool"
    ]
    if tool_results:  # native tool calling: the results of our calls came back
        return Reply(answer(tool_results))
    if tools:
        calls = choose_tool_calls(user_text, [ToolSpec.from_dict(t) for t in tools])
        if calls:
            return Reply("", calls)

    prompt = system + "\n" + user_text
    results = results_in_prompt(prompt)
    if results:  # Open WebUI ran the tools and put their results in the prompt
        return Reply(answer(results))
    for marker, task_answer in TASK_ANSWERS:
        if "### Task" in prompt and marker in prompt:
            return Reply(json.dumps(task_answer))
    return Reply(answer([]))
