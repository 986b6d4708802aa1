"""What a person asks and what the page must then show. Each check raises an AssertionError that names what is
missing and quotes what the page showed, so a failed journey reads as a sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from e2e.browser.chat_page import ChatPage

SEED = "Run fibonacci(10) and tell me the time"
FIBONACCI_10 = "55"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")
CLOCK_SKEW = timedelta(minutes=2)


@dataclass(frozen=True)
class Answer:
    prose: str  # what the model said, without the tool-call blocks
    tool_calls: str  # the tool-call blocks Open WebUI rendered, expanded (inputs and outputs)


def ask(chat: ChatPage, message: str) -> Answer:
    """Sends `message` in the open chat and reads the finished answer off the page."""
    chat.send(message)
    chat.wait_for_answer()
    prose = chat.answer_prose()
    return Answer(prose, chat.open_tool_calls())


def shows_number(text: str, number: str) -> bool:
    """`number` as a number of its own in `text` (not inside 155, 2.55 or an identifier); a full stop may follow."""
    return re.search(rf"(?<![\w.]){re.escape(number)}(?!\w)(?!\.\d)", text) is not None


def expect_number(answer: Answer, number: str, what: str) -> None:
    assert shows_number(answer.prose, number), f"the answer shows no {number} ({what}); it reads: {answer.prose!r}"


def expect_current_time(answer: Answer, offset: timedelta | None = None) -> datetime:
    """A timestamp within minutes of now in the answer (at the given UTC offset, if one is asked for)."""
    stamps = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in TIMESTAMP.findall(answer.prose)]
    assert stamps, f"the answer shows no time (no ISO timestamp); it reads: {answer.prose!r}"
    current = [s for s in stamps if abs(datetime.now(UTC) - s) < CLOCK_SKEW]
    assert current, f"the answer shows no current time (it shows {[s.isoformat() for s in stamps]}, now: {_now()})"
    if offset is not None:
        matching = [s for s in current if s.utcoffset() == offset]
        assert matching, (
            f"the answer shows no time at UTC{_offset(offset)} (it shows {[s.isoformat() for s in current]}); "
            f"it reads: {answer.prose!r}"
        )
        return matching[0]
    return current[0]


def expect_tool_calls(answer: Answer, *names: str) -> None:
    """Open WebUI rendered a tool-call block for each tool (by a part of its name, e.g. "execute_python")."""
    assert answer.tool_calls, f"the answer shows no tool-call details; it reads: {answer.prose!r}"
    missing = [name for name in names if name not in answer.tool_calls]
    assert not missing, f"the tool-call details name no {' or '.join(missing)}; they read: {answer.tool_calls!r}"


def check_fibonacci_and_the_time(chat: ChatPage) -> Answer:
    """The seed sentence in a new chat, no toggle touched: fibonacci(10) from the sandbox and a current time."""
    chat.new_chat()
    answer = ask(chat, SEED)
    expect_number(answer, FIBONACCI_10, "fibonacci(10) from the sandbox")
    expect_current_time(answer)
    expect_tool_calls(answer, "execute_python", "current_time")
    assert f'"stdout": "{FIBONACCI_10}' in answer.tool_calls, (
        f"the sandbox's tool-call output shows no stdout {FIBONACCI_10}; it reads: {answer.tool_calls!r}"
    )
    return answer


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
