"""The stand-in's rules for choosing tool calls (decide.py)."""

from __future__ import annotations

import pytest

from servers.llm_standin.decide import FIBONACCI_CODE, choose_tool_calls, zone_in
from servers.llm_standin.tests.specs import (
    BUILT_IN,
    CLOCK,
    EXECUTE_CODE,
    ISSUES,
    PLATFORM,
    PYTHON,
    TIMESTAMP,
    function,
    specs,
)
from servers.llm_standin.tools import ToolCall, ToolSpec

FIB = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(10))"
EVERYTHING = specs(*BUILT_IN, *PLATFORM)


def test_the_seed_sentence_calls_the_sandbox_and_the_clock_in_one_turn() -> None:
    calls = choose_tool_calls("Run fibonacci(10) and tell me the time", EVERYTHING)
    assert calls == [
        ToolCall("tool_execute_python_post", {"code": FIBONACCI_CODE.format(n=10)}),
        ToolCall("tool_get_current_time_post", {"timezone": "UTC"}),
    ]


def test_the_generated_fibonacci_code_prints_the_right_value(capsys: pytest.CaptureFixture[str]) -> None:
    exec(FIBONACCI_CODE.format(n=10), {})  # the stand-in's own code template
    assert capsys.readouterr().out == "55\n"


def test_a_fenced_block_is_run_exactly_and_the_zone_is_the_one_named() -> None:
    message = f"Run fibonacci(10):\n```python\n{FIB}\n```\nand tell me the time in Asia/Tokyo"
    assert choose_tool_calls(message, EVERYTHING) == [
        ToolCall("tool_execute_python_post", {"code": FIB + "\n"}),
        ToolCall("tool_get_current_time_post", {"timezone": "Asia/Tokyo"}),
    ]


def test_words_inside_code_do_not_trigger_rules() -> None:
    message = "```\nimport time\nprint('Europe/Paris issues of a/b')\n```"
    assert choose_tool_calls(message, EVERYTHING) == [
        ToolCall("tool_execute_python_post", {"code": "import time\nprint('Europe/Paris issues of a/b')\n"})
    ]


@pytest.mark.parametrize(
    ("message", "zone"),
    [
        ("What's the time in Europe/Berlin?", "Europe/Berlin"),
        ("tell me the time", "UTC"),
        ("What time is it in Tokyo?", "Asia/Tokyo"),
        ("the time in New York please", "America/New_York"),
        ("What time is it in Mars/Olympus?", "Mars/Olympus"),  # passed on: the tool says what is wrong with it
    ],
)
def test_the_timezone_comes_from_the_message_else_utc(message: str, zone: str) -> None:
    assert zone_in(message) == zone
    assert choose_tool_calls(message, EVERYTHING) == [ToolCall("tool_get_current_time_post", {"timezone": zone})]


def test_every_required_argument_is_sent_and_defaults_fill_what_the_message_does_not_say() -> None:
    strict = function(
        "tool_get_current_time_post",
        "time",
        {"timezone": {"type": "string"}, "format": {"type": "string", "default": "iso"}},
        ["timezone", "format"],
    )
    assert choose_tool_calls("the time", specs(strict)) == [
        ToolCall("tool_get_current_time_post", {"timezone": "UTC", "format": "iso"})
    ]


def test_a_tool_whose_required_argument_cannot_be_given_is_not_called() -> None:
    needs_more = function("tool_get_current_time_post", "time", {"timezone": {}, "api_key": {}}, ["api_key"])
    assert choose_tool_calls("what time is it?", specs(needs_more)) == []


def test_the_platforms_tools_win_over_open_webuis_built_ins() -> None:
    tools = specs(TIMESTAMP, EXECUTE_CODE, CLOCK, PYTHON)
    names = [call.name for call in choose_tool_calls("```\nprint(1)\n```\nand the time", tools)]
    assert names == ["tool_execute_python_post", "tool_get_current_time_post"]


def test_get_current_timestamp_is_not_mistaken_for_get_current_time() -> None:
    # Only the built-in offered: used (it takes no timezone), not called with one it does not declare.
    assert choose_tool_calls("what time is it in Asia/Tokyo?", specs(TIMESTAMP)) == [
        ToolCall("get_current_timestamp", {})
    ]


def test_a_tool_that_was_not_offered_is_never_called() -> None:
    assert choose_tool_calls("Run fibonacci(10) and tell me the time", specs(CLOCK)) == [
        ToolCall("tool_get_current_time_post", {"timezone": "UTC"})
    ]
    assert choose_tool_calls("Run fibonacci(10) and tell me the time", []) == []
    assert choose_tool_calls("Tell me a joke", EVERYTHING) == []


def test_issues_of_a_repository() -> None:
    assert choose_tool_calls("List the open issues of octo-org/hello.world", EVERYTHING) == [
        ToolCall("tool_list_issues_post", {"owner": "octo-org", "repo": "hello.world"})
    ]
    assert choose_tool_calls("List the issues of octo-org/hello.world", specs(PYTHON, CLOCK)) == []
    assert [c.name for c in choose_tool_calls("issues of a/b", specs(ISSUES))] == ["tool_list_issues_post"]


def test_fibonacci_phrasings() -> None:
    for message in ("run fibonacci(7)", "What is fibonacci of 7?", "compute the fibonacci number 7"):
        assert choose_tool_calls(message, specs(PYTHON)) == [
            ToolCall("tool_execute_python_post", {"code": FIBONACCI_CODE.format(n=7)})
        ], message


def test_open_webui_prefixes_colliding_names_with_the_server_and_they_still_match() -> None:
    tool = ToolSpec.from_dict(function("time-reference_tool_get_current_time_post", "", {"timezone": {}}, []))
    assert tool.operation == "get_current_time" and tool.platform
    assert choose_tool_calls("the time", [tool]) == [ToolCall(tool.name, {"timezone": "UTC"})]


def test_an_mcp_servers_tools_count_by_the_name_after_the_server_id() -> None:
    # Open WebUI names an MCP connection's tools `<server id>_<tool>`
    clock = function("time_get_current_time", "Current time in a zone", {"timezone": {"type": "string"}}, ["timezone"])
    issues = function("github_list_issues", "Issues", {"owner": {}, "repo": {}}, ["owner", "repo"])
    offered = specs(TIMESTAMP, clock, issues)
    assert choose_tool_calls("the time in Tokyo", offered) == [
        ToolCall("time_get_current_time", {"timezone": "Asia/Tokyo"})
    ]
    assert choose_tool_calls("the issues of acme/app", offered) == [
        ToolCall("github_list_issues", {"owner": "acme", "repo": "app"})
    ]
