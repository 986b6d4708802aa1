"""The stand-in's answers from tool results: one readable sentence each, errors quoting the tool's message."""

from __future__ import annotations

import json

from servers.llm_standin.answers import ToolResult, answer
from servers.llm_standin.decide import FIBONACCI_CODE, NO_TOOL_ANSWER

RUN = json.dumps({"stdout": "55\n", "stderr": "", "exit_code": 0, "timed_out": False})
TIME = json.dumps({"timezone": "Asia/Tokyo", "datetime": "2026-11-30T12:00:00+09:00", "is_dst": False})
PROBLEM = {
    "type": "urn:mcpstack:problem:tool-error",
    "title": "The tool reported an error",
    "status": 422,
    "detail": "Error executing tool get_current_time: Invalid timezone: 'Mars/Olympus'",
    "correlation_id": "0f3a",
}


def test_the_seed_answer_has_fibonaccis_value_and_the_time() -> None:
    text = answer(
        [
            ToolResult("tool_execute_python_post", RUN, {"code": FIBONACCI_CODE.format(n=10)}),
            ToolResult("tool_get_current_time_post", TIME, {"timezone": "Asia/Tokyo"}),
        ]
    )
    assert text == (
        "fibonacci(10) = 55 (computed in the sandbox).\n\n"
        "Right now the time in Asia/Tokyo is 2026-11-30T12:00:00+09:00."
    )


def test_other_code_reports_what_it_printed() -> None:
    assert answer([ToolResult("tool_execute_python_post", RUN, {"code": "print(55)\n"})]) == (
        "The sandbox ran the code; it printed: 55"
    )
    failed = json.dumps({"stdout": "", "stderr": "Traceback...\nZeroDivisionError: division by zero", "exit_code": 1})
    assert answer([ToolResult("tool_execute_python_post", failed)]) == (
        'The code failed in the sandbox (exit code 1): "ZeroDivisionError: division by zero".'
    )


def test_a_tool_error_as_open_webui_hands_it_over_is_a_sentence_quoting_the_tool() -> None:
    native = json.dumps({"error": f"HTTP error 422: {json.dumps(PROBLEM)}"})  # execute_tool_server's error
    legacy = str({"error": f"HTTP error 422: {json.dumps(PROBLEM)}"})  # str(dict) in the legacy prompt
    for text in (native, legacy, json.dumps(PROBLEM)):
        sentence = answer([ToolResult("tool_get_current_time_post", text)])
        assert sentence == "The get_current_time tool reported an error: \"Invalid timezone: 'Mars/Olympus'\"."


def test_a_refusal_says_so() -> None:
    problem = {**PROBLEM, "status": 403, "detail": "tenant 'guests' may not call sandbox/execute_python"}
    text = json.dumps({"error": f"HTTP error 403: {json.dumps(problem)}"})
    assert answer([ToolResult("server:sandbox/tool_execute_python_post", text)]) == (
        "The execute_python tool refused the request: \"tenant 'guests' may not call sandbox/execute_python\"."
    )


def test_nested_and_validation_errors_are_unwrapped() -> None:
    mcpo = {"detail": {"message": "Unexpected error", "error": "500: {'message': \"Invalid timezone: 'X/Y'\"}"}}
    assert answer([ToolResult("tool_get_current_time_post", json.dumps(mcpo))]) == (
        "The get_current_time tool reported an error: \"Invalid timezone: 'X/Y'\"."
    )
    fastapi = {"detail": [{"loc": ["body", "timezone"], "msg": "Field required", "type": "missing"}]}
    assert answer([ToolResult("tool_get_current_time_post", json.dumps(fastapi))]) == (
        'The get_current_time tool reported an error: "timezone: Field required".'
    )


def test_listed_issues_by_title() -> None:
    issues = json.dumps({"results": [{"number": 1, "title": "First"}, {"number": 2, "title": "Second"}]})
    result = ToolResult("tool_list_issues_post", issues, {"owner": "octo-org", "repo": "mcpstack"})
    assert answer([result]) == "octo-org/mcpstack has 2 issues: #1 First; #2 Second."


def test_anything_else_is_shown_shortened() -> None:
    text = answer([ToolResult("tool_other_post", "x" * 1000)])
    assert text.startswith("The other tool returned: xxx") and text.endswith("...") and len(text) < 450


def test_without_results_the_stand_in_says_what_it_is() -> None:
    assert answer([]) == NO_TOOL_ANSWER
    assert "test double" in NO_TOOL_ANSWER
