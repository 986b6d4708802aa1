"""Journey 5: a person whose tenant may not use the sandbox asks to run code: a clear refusal, and no run."""

from __future__ import annotations

import re

import httpx
import pytest

from e2e.browser.chat_page import ChatPage
from e2e.browser.journeys import ask, shows_number
from e2e.browser.tabs import Person
from e2e.target import Target

pytestmark = pytest.mark.docker
RUNS = re.compile(r"^sandbox_runs_total\{[^}]*\} (\S+)$", re.MULTILINE)  # servers/sandbox/metrics.py
FIBONACCI_12 = "Run this:\n```python\na, b = 0, 1\nfor _ in range(12):\n    a, b = b, a + b\nprint(a)\n```"
REFUSAL = re.compile(r"not (available|allowed|permitted)|denied|refused|forbidden|may not|cannot|can't", re.IGNORECASE)


def sandbox_runs(target: Target) -> float:
    """Runs the sandbox has started, whatever their outcome (its own /metrics)."""
    assert target.local is not None, "reading the sandbox's run counter needs a local stack"
    metrics = httpx.get(f"{target.local.url('sandbox')}/metrics", timeout=10).text
    counts = RUNS.findall(metrics)
    assert counts, "the sandbox's /metrics has no sandbox_runs_total"
    return sum(float(count) for count in counts)


def test_a_guest_asking_to_run_code_is_refused_and_nothing_runs(tab: ChatPage, guest: Person, target: Target) -> None:
    before = sandbox_runs(target)
    tab.sign_in(guest.email, guest.password)
    answer = ask(tab, FIBONACCI_12)
    assert not shows_number(answer.prose, "144"), f"the guest got the run's output: {answer.prose!r}"
    assert REFUSAL.search(answer.prose), f"the answer is no clear refusal; it reads: {answer.prose!r}"
    assert sandbox_runs(target) == before, "the sandbox ran code for a guest"
