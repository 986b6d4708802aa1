"""Journey 6: a chat is still there after a page reload and after Open WebUI restarts."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from e2e.browser.chat_page import RESPONSE, ChatPage
from e2e.browser.journeys import ask, expect_current_time
from e2e.browser.tabs import Person
from e2e.target import Target

pytestmark = pytest.mark.docker
QUESTION = "What's the time in Europe/Berlin?"


def expect_chat_shown(tab: ChatPage, answer: str, when: str) -> None:
    tab.expect_visible(tab.page.locator(RESPONSE), f"the chat's answer {when}")
    shown = tab.shown("#messages-container")
    assert QUESTION in shown, f"{when}, the chat does not show the question; it shows: {shown}"
    assert answer in " ".join(tab.answer_prose().split()), f"{when}, the chat shows another answer: {shown}"


def test_a_chat_survives_a_reload_and_an_open_webui_restart(tab: ChatPage, member: Person, target: Target) -> None:
    assert target.local is not None, "restarting Open WebUI needs a local stack"
    tab.sign_in(member.email, member.password)
    answer = ask(tab, QUESTION)
    expect_current_time(answer)
    chat_path = urlsplit(tab.page.url).path
    assert chat_path.startswith("/c/"), f"the chat got no address of its own: {tab.page.url}"
    said = " ".join(answer.prose.split())
    tab.page.reload()
    expect_chat_shown(tab, said, "after a reload")
    target.local.restart("open-webui")
    tab.open(chat_path)  # the person comes back to the chat's address
    expect_chat_shown(tab, said, "after Open WebUI restarted")
