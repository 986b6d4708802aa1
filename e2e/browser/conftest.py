"""Fixtures of the browser suite: one Chromium for the session, on the same stack as the other e2e suites
(e2e/conftest.py: the dev catalog's stack on free ports); people created through Open WebUI's admin API; a fresh
browser context per tab, each tab's screenshot saved under reports/e2e/browser/ whatever the outcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from e2e.browser.browser import SCREENSHOTS, launch
from e2e.browser.chat_page import ChatPage
from e2e.browser.tabs import Person, Tabs
from e2e.chat.openwebui import OpenWebUI
from e2e.target import Target


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def tabs(browser: Browser, target: Target, request: pytest.FixtureRequest) -> Iterator[Tabs]:
    assert target.open_webui is not None, "this target has no Open WebUI"
    opened = Tabs(browser, target.open_webui.url, request.node.name)
    yield opened
    opened.close(SCREENSHOTS)


@pytest.fixture
def tab(tabs: Tabs) -> ChatPage:
    return tabs.open()


@pytest.fixture(scope="session")
def admin(target: Target) -> Person:
    assert target.open_webui is not None, "this target has no Open WebUI"
    return Person(target.open_webui.email, target.open_webui.password)


def add_person(webui: OpenWebUI, email: str, name: str) -> Person:
    person = Person(email, uuid.uuid4().hex)
    webui.add_user(person.email, person.password, name=name)
    return person


@pytest.fixture(scope="session")
def member(webui: OpenWebUI) -> Person:
    """A regular user of tenant `staff` (e-mail domain example.com: time and code execution)."""
    return add_person(webui, f"member-{uuid.uuid4().hex[:6]}@example.com", "Member")


@pytest.fixture(scope="session")
def guest(webui: OpenWebUI) -> Person:
    """A regular user of tenant `guests` (e-mail domain guest.example.com: the time tools only, no sandbox)."""
    return add_person(webui, f"guest-{uuid.uuid4().hex[:6]}@guest.example.com", "Guest")
