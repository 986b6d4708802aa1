"""A browser tab watched for what a failure message needs: its visible text and its errors.

Chromium aborts the requests in flight when the host's network interfaces change (net::ERR_NETWORK_CHANGED), and
Docker adds and removes interfaces whenever a container starts or stops on the machine. Open WebUI then shows its
"500: Internal Error" page. A person would reload; so do `goto` and `expect_visible`, once, and only for that cause.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

PAGE_TIMEOUT_S = 30
SHOWN_CHARS = 800
NETWORK_CHANGED = "ERR_NETWORK_CHANGED"
ERROR_PAGE = "500: Internal Error"


class PageWatch:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []  # uncaught exceptions and console errors, in order
        self._reloaded_at = 0  # errors before this index were answered by a reload already
        page.on("pageerror", lambda error: self.errors.append(f"uncaught {error}"))
        page.on("console", lambda message: self._console(message.type, message.text))

    def _console(self, kind: str, text: str) -> None:
        if kind == "error":
            self.errors.append(f"console: {text[:300]}")

    def shown(self, selector: str = "body") -> str:
        """The visible text of the page (or of `selector`), shortened, and its last errors."""
        try:
            text = " ".join(self.page.locator(selector).first.inner_text(timeout=2_000).split())
        except PlaywrightError as exc:
            text = f"(nothing: {exc.message.splitlines()[0]})"
        text = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
        return text + (f" (page errors: {' | '.join(self.errors[-3:])})" if self.errors else "")

    def goto(self, url: str) -> None:
        """Opens `url`; once more if Chromium aborted the navigation because the network changed."""
        try:
            self.page.goto(url)
        except PlaywrightError as exc:
            if NETWORK_CHANGED not in exc.message:
                raise
            self.page.goto(url)

    def expect_visible(self, locator: Locator, what: str, timeout_s: float = PAGE_TIMEOUT_S) -> None:
        """Waits until `locator` shows; fails at once on Open WebUI's error page (after one reload if the network
        changed under Chromium)."""
        error_page = self.page.get_by_text(ERROR_PAGE)
        try:
            locator.or_(error_page).first.wait_for(state="visible", timeout=timeout_s * 1000)
        except PlaywrightError:
            raise AssertionError(
                f"{what} did not show within {timeout_s:.0f} s at {self.page.url}; the page shows: {self.shown()}"
            ) from None
        if not error_page.is_visible():
            return
        if any(NETWORK_CHANGED in error for error in self.errors[self._reloaded_at :]):
            self._reloaded_at = len(self.errors)
            self.page.reload()
            self.expect_visible(locator, what, timeout_s)
            return
        raise AssertionError(f"Open WebUI showed its error page instead of {what}: {self.shown()}")
