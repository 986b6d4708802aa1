"""Browser tabs of one test and the people who sign in to them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext

from e2e.browser.browser import VIEWPORT
from e2e.browser.chat_page import ChatPage


@dataclass(frozen=True)
class Person:
    email: str
    password: str


@dataclass
class Tabs:
    """Browser tabs of one test, each in its own context (own cookies and local storage: its own person)."""

    browser: Browser
    url: str
    name: str
    opened: list[tuple[str, BrowserContext, ChatPage]] = field(default_factory=list)

    def open(self, label: str = "") -> ChatPage:
        context = self.browser.new_context(viewport=VIEWPORT)
        chat = ChatPage(context.new_page(), self.url)
        self.opened.append((label, context, chat))
        return chat

    def close(self, directory: Path) -> None:
        """Saves each tab's screenshot as directory/TEST[-LABEL].png, then closes it."""
        directory.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", self.name)
        for label, context, chat in self.opened:
            try:
                chat.page.screenshot(path=directory / f"{name}{'-' + label if label else ''}.png", full_page=True)
            finally:
                context.close()
