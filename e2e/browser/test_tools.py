"""Journeys 2-4: a person's chat in Open WebUI's default (native) function-calling mode, no toggle touched."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from e2e.browser.chat_page import ChatPage
from e2e.browser.journeys import (
    ask,
    check_fibonacci_and_the_time,
    expect_current_time,
    expect_number,
    expect_tool_calls,
)
from e2e.browser.tabs import Person

pytestmark = pytest.mark.docker
TOKYO = timedelta(hours=9)
# 1 + 4 + 9 + 16 + 25 + 36 = 91
CODE_AND_TOKYO = "Please run this:\n```python\nprint(sum(n * n for n in range(1, 7)))\n```\nand the time in Asia/Tokyo"


def test_the_seed_sentence_shows_fibonacci_and_the_time(tab: ChatPage, member: Person) -> None:
    """'Run fibonacci(10) and tell me the time' in the browser: 55 from the sandbox, a current time, the tool calls."""
    tab.sign_in(member.email, member.password)
    check_fibonacci_and_the_time(tab)


def test_a_code_block_and_the_time_in_tokyo(tab: ChatPage, member: Person) -> None:
    tab.sign_in(member.email, member.password)
    answer = ask(tab, CODE_AND_TOKYO)
    expect_number(answer, "91", "the code's output from the sandbox")
    expect_current_time(answer, offset=TOKYO)
    expect_tool_calls(answer, "execute_python", "current_time")


def test_a_tool_error_reads_as_a_sentence(tab: ChatPage, member: Person) -> None:
    tab.sign_in(member.email, member.password)
    answer = ask(tab, "What's the time in Mars/Olympus?")
    assert "Mars/Olympus" in answer.prose, f"the answer does not mention Mars/Olympus; it reads: {answer.prose!r}"
    assert "error" in answer.prose.lower() or "unknown" in answer.prose.lower(), (
        f"the answer does not say that the time tool failed; it reads: {answer.prose!r}"
    )
    assert '{"detail"' not in answer.prose, f"the answer shows the error's JSON; it reads: {answer.prose!r}"
    assert not re.search(r"[{}]", answer.prose), f"the answer shows a JSON dump; it reads: {answer.prose!r}"
    expect_tool_calls(answer, "current_time")
