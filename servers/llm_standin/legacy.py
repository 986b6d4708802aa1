"""Open WebUI's legacy function calling (`params.function_calling = "legacy"`), as the stand-in reads it.

Open WebUI first asks which tools to call: a system prompt `Available Tools: [<specs>]` and a user message
ending in `Query: <the person's message>`; it expects `{"tool_calls": [{"name": ..., "parameters": {...}}]}`.
It then calls the tools itself and asks for the answer with the results in the prompt, one
`<source id=".." name="<tool id>/<tool name>">result</source>` block each.
"""

from __future__ import annotations

import html
import json
import re

from servers.llm_standin.answers import ToolResult
from servers.llm_standin.decide import choose_tool_calls
from servers.llm_standin.tools import ToolSpec

MARKER = "Available Tools:"
# A <source> element whose body holds no other <source> tag: Open WebUI's prompt template also
# mentions `<source id="1">` as an example, with no closing tag.
SOURCE = re.compile(r"<source\b([^>]*)>((?:(?!<source\b).)*?)</source>", re.DOTALL)
SOURCE_NAME = re.compile(r'\bname="([^"]*)"')


def offered_tools(system_prompt: str) -> list[ToolSpec] | None:
    """The tool specs of Open WebUI's tool-choice prompt, or None if the prompt is not one."""
    marker = system_prompt.find(MARKER)
    if marker < 0:
        return None
    start = system_prompt.find("[", marker)
    try:
        specs, _ = json.JSONDecoder().raw_decode(system_prompt[start:])
    except ValueError:
        return []
    return [ToolSpec.from_dict(spec) for spec in specs if isinstance(spec, dict)]


def query_of(user_text: str) -> str:
    """The person's message inside the tool-choice prompt's user message."""
    return user_text.rpartition("Query:")[2] if "Query:" in user_text else user_text


def tool_choice(message: str, tools: list[ToolSpec]) -> str:
    """The JSON answer Open WebUI's legacy function calling expects."""
    calls = choose_tool_calls(message, tools)
    return json.dumps({"tool_calls": [{"name": c.name, "parameters": c.arguments} for c in calls]})


def results_in_prompt(text: str) -> list[ToolResult]:
    """The tool results of every <source> block in a prompt."""
    results = []
    for attributes, body in SOURCE.findall(text):
        name = SOURCE_NAME.search(attributes)
        results.append(ToolResult(html.unescape(name.group(1)) if name else "tool", html.unescape(body.strip())))
    return results
