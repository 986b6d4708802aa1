"""The stand-in's documented rules."""

from __future__ import annotations

import json

from servers.llm_standin.decide import (
    NO_TOOL_ANSWER,
    ToolCall,
    ToolSpec,
    answer,
    choose_tool_calls,
    legacy_tool_choice,
    results_in_prompt,
    tools_from_legacy_prompt,
)

PYTHON = ToolSpec(
    "tool_execute_python_post", "Run Python 3 code", {"type": "object", "properties": {"code": {"type": "string"}}}
)
CLOCK = ToolSpec(
    "tool_get_current_time_post",
    "Get the current time",
    {"type": "object", "properties": {"timezone": {"type": "string"}}},
)
ISSUES = ToolSpec("list_issues", "List issues", {"type": "object", "properties": {"owner": {}, "repo": {}}})
FIB = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(10))"


def test_code_block_and_time_request_call_both_tools() -> None:
    message = f"Run fibonacci(10):\n```python\n{FIB}\n```\nand tell me the time in Asia/Tokyo"
    assert choose_tool_calls(message, [CLOCK, PYTHON]) == [
        ToolCall("tool_execute_python_post", {"code": FIB + "\n"}),
        ToolCall("tool_get_current_time_post", {"timezone": "Asia/Tokyo"}),
    ]


def test_time_defaults_to_utc_and_ignores_zones_inside_code() -> None:
    message = "What time is it?\n```\nprint('Europe/Paris')\n```"
    calls = choose_tool_calls(message, [CLOCK])
    assert calls == [ToolCall("tool_get_current_time_post", {"timezone": "UTC"})]


def test_no_rule_no_call_and_no_suitable_tool_no_call() -> None:
    assert choose_tool_calls("Tell me a joke", [PYTHON, CLOCK]) == []
    assert choose_tool_calls("```python\nprint(1)\n```", [CLOCK]) == []  # nothing offered runs Python


def test_issues_of_a_repository() -> None:
    assert choose_tool_calls("List the open issues of octo-org/hello.world", [ISSUES]) == [
        ToolCall("list_issues", {"owner": "octo-org", "repo": "hello.world"})
    ]


def test_open_webui_legacy_prompt_is_recognised_and_answered_in_its_format() -> None:
    prompt = f"Available Tools: {json.dumps([{'name': CLOCK.name, 'description': '', 'parameters': {}}])}\n\nYour task"
    tools = tools_from_legacy_prompt(prompt)
    assert tools is not None and [t.name for t in tools] == [CLOCK.name]
    assert tools_from_legacy_prompt("You are a helpful assistant") is None
    assert json.loads(legacy_tool_choice("the time please", tools)) == {
        "tool_calls": [{"name": CLOCK.name, "parameters": {"timezone": "UTC"}}]
    }


def test_answers_report_every_tool_result() -> None:
    prompt = (
        '<context>\n<source id="1" name="server:sandbox/tool_execute_python_post">'
        '{"stdout": "55\\n", "stderr": "", "exit_code": 0}</source>\n'
        '<source id="2" name="server:time/tool_get_current_time_post">{&quot;timezone&quot;: &quot;UTC&quot;, '
        "&quot;datetime&quot;: &quot;2026-11-23T12:00:00+00:00&quot;}</source>\n</context>"
    )
    results = results_in_prompt(prompt)
    assert [name for name, _ in results] == [
        "server:sandbox/tool_execute_python_post",
        "server:time/tool_get_current_time_post",
    ]
    text = answer(results)
    assert "the code printed 55" in text
    assert "the time in UTC is 2026-11-23T12:00:00+00:00" in text


def test_tool_errors_are_reported_as_errors() -> None:
    problem = json.dumps({"type": "urn:mcpstack:problem:tool-error", "status": 422, "detail": "Invalid timezone X"})
    assert answer([("time", problem)]) == "- time: error: Invalid timezone X"
    assert answer([("time", "{'error': 'HTTP 503'}")]) == "- time: error: HTTP 503"


def test_without_results_the_stand_in_says_what_it_is() -> None:
    assert answer([]) == NO_TOOL_ANSWER


def test_the_example_tag_in_open_webuis_template_is_not_a_result() -> None:
    prompt = (
        "### Task:\nRespond ... only when the <source> tag includes an explicit id attribute** "
        '(e.g., <source id="1">).\n<context>\n<source id="1" name="server:sandbox/tool_execute_python_post">'
        '{"stdout": "55\\n"}</source>\n</context>'
    )
    assert results_in_prompt(prompt) == [("server:sandbox/tool_execute_python_post", '{"stdout": "55\\n"}')]


def test_lists_of_titled_items_are_summarised_by_title() -> None:
    issues = json.dumps({"results": [{"number": 1, "title": "First"}, {"number": 2, "title": "Second"}]})
    assert answer([("github", issues)]) == "- github: #1 First; #2 Second"
