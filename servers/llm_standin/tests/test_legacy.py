"""Open WebUI's legacy function calling, as the stand-in reads and answers it."""

from __future__ import annotations

import json

from servers.llm_standin import legacy
from servers.llm_standin.replies import reply
from servers.llm_standin.tests.specs import CLOCK, PYTHON


def test_the_tool_choice_prompt_is_recognised_and_answered_in_its_format() -> None:
    prompt = f"Available Tools: {json.dumps([CLOCK['function'], PYTHON['function']])}\n\nYour task is to choose"
    messages = [
        {"role": "system", "content": prompt},
        {"role": "user", "content": 'History:\nUSER: """hi"""\nQuery: Run fibonacci(10) and tell me the time'},
    ]
    choice = json.loads(reply(messages).content)
    assert [(c["name"], sorted(c["parameters"])) for c in choice["tool_calls"]] == [
        ("tool_execute_python_post", ["code"]),
        ("tool_get_current_time_post", ["timezone"]),
    ]
    assert legacy.offered_tools("You are a helpful assistant") is None


def test_results_in_the_prompt_are_answered() -> None:
    prompt = (
        '<context>\n<source id="1" name="server:sandbox/tool_execute_python_post">'
        '{"stdout": "55\\n", "stderr": "", "exit_code": 0}</source>\n'
        '<source id="2" name="server:time/tool_get_current_time_post">{&quot;timezone&quot;: &quot;UTC&quot;, '
        "&quot;datetime&quot;: &quot;2026-11-23T12:00:00+00:00&quot;}</source>\n</context>"
    )
    assert reply([{"role": "user", "content": prompt}]).content == (
        "The sandbox ran the code; it printed: 55\n\nRight now the time in UTC is 2026-11-23T12:00:00+00:00."
    )


def test_the_example_tag_in_open_webuis_template_is_not_a_result() -> None:
    prompt = (
        "### Task:\nRespond ... only when the <source> tag includes an explicit id attribute** "
        '(e.g., <source id="1">).\n<context>\n<source id="1" name="server:sandbox/tool_execute_python_post">'
        '{"stdout": "55\\n"}</source>\n</context>'
    )
    results = legacy.results_in_prompt(prompt)
    assert [(r.name, r.text) for r in results] == [("server:sandbox/tool_execute_python_post", '{"stdout": "55\\n"}')]
