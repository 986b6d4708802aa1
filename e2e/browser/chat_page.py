"""Open WebUI 0.12.4 as a person uses it: the sign-in page, the chat input and the answers, read from the page.

Every wait is bounded; a failed wait raises an AssertionError that says what the page showed instead.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from e2e.browser.watch import PageWatch

ANSWER_TIMEOUT_S = 60
# The tool-call blocks Open WebUI renders in an answer: one call (id "...-tool-call": "View Result from NAME") or
# several consecutive ones (id "...-detail-group-N", summarised as "Explored NAME, NAME", holding one block per call).
CALL = '[id$="-tool-call"]'
GROUP = f'[id*="-detail-group"]:not({CALL})'
TOOL_CALLS = f"{GROUP}, {CALL}:not({GROUP} {CALL})"
RESPONSE = '#messages-container div[id^="message-"]:has(#response-content-container)'
# The answer without its tool-call blocks: what the model said to the person.
PROSE_JS = """element => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll('[id*="-detail-group"], [id$="-tool-call"]').forEach(block => block.remove());
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}"""
PASTE_JS = """([selector, text]) => {
    const input = document.querySelector(selector);
    input.focus();
    const data = new DataTransfer();
    data.setData('text/plain', text);
    input.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""


class ChatPage:
    """One browser tab on Open WebUI, signed in or not."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url.rstrip("/")
        self.watch = PageWatch(page)

    def shown(self, selector: str = "body") -> str:
        return self.watch.shown(selector)

    def expect_visible(self, locator: Locator, what: str) -> None:
        self.watch.expect_visible(locator, what)

    def open(self, path: str) -> None:
        """Opens a page of Open WebUI by its path ("/", "/auth", "/c/<chat id>")."""
        self.watch.goto(f"{self.url}{path}")

    # -- signing in ------------------------------------------------------------------------------

    def open_sign_in(self) -> None:
        self.open("/auth")
        self.expect_visible(self.page.locator("#email"), "the sign-in form (e-mail field)")

    def sign_in(self, email: str, password: str) -> None:
        """Signs in through the form; lands on a new chat with the message box ready."""
        self.open_sign_in()
        self.page.locator("#email").fill(email)
        self.page.locator("#password").fill(password)
        self.page.locator('#auth-page button[type="submit"]').click()
        self.expect_visible(self.page.locator("#chat-input"), f"the chat input after signing in as {email}")
        self.dismiss_changelog()

    def dismiss_changelog(self) -> None:
        """An admin's first visit opens "What's new" over the chat; a person closes it."""
        okay = self.page.get_by_role("button", name="Okay, Let's Go!")
        try:
            okay.wait_for(state="visible", timeout=1_000)
        except PlaywrightError:
            return
        okay.click()
        okay.wait_for(state="hidden", timeout=5_000)

    # -- chatting --------------------------------------------------------------------------------

    def new_chat(self) -> None:
        self.open("/")
        self.expect_visible(self.page.locator("#chat-input"), "the chat input of a new chat")
        self.dismiss_changelog()

    def send(self, message: str) -> None:
        """Pastes `message` into the message box (as a person pastes code) and sends it with Enter."""
        self.page.evaluate(PASTE_JS, ["#chat-input", message])
        self.page.locator("#chat-input").press("Enter")
        self.expect_visible(self.page.locator(RESPONSE), f"an answer to {message!r}")

    def last_answer(self) -> Locator:
        return self.page.locator(RESPONSE).last

    def wait_for_answer(self, timeout_s: float = ANSWER_TIMEOUT_S) -> None:
        """Until the latest answer is finished: its action buttons (Copy) appear only then."""
        try:
            self.last_answer().locator(".copy-response-button").wait_for(state="visible", timeout=timeout_s * 1000)
        except PlaywrightError:
            shown = self.shown("#messages-container")
            message = f"the answer did not finish within {timeout_s:.0f} s; the chat shows: {shown}"
            raise AssertionError(message) from None

    def answer_prose(self) -> str:
        """What the model said in the latest answer, without the tool-call blocks."""
        return self.last_answer().locator("#response-content-container").evaluate(PROSE_JS).strip()

    def tool_calls(self) -> Locator:
        return self.last_answer().locator(TOOL_CALLS)

    def open_tool_calls(self) -> str:
        """Expands every tool-call block of the latest answer (inputs, outputs) and returns their text."""
        for group in self.last_answer().locator(f'{GROUP} [aria-expanded="false"]').all():
            group.click()
        self.page.wait_for_timeout(500)  # the group slides open
        for call in self.last_answer().locator(f'{CALL} > div[role="button"]').all():
            call.click()
        self.page.wait_for_timeout(500)  # the blocks slide open
        return "\n".join(block.inner_text() for block in self.tool_calls().all())
