"""Journey 1: the admin and a regular user (created by the admin through the API) sign in; nobody can sign up."""

from __future__ import annotations

import httpx
import pytest

from e2e.browser.chat_page import ChatPage
from e2e.browser.tabs import Person, Tabs
from e2e.target import Target

pytestmark = pytest.mark.docker


def test_the_admin_and_a_regular_user_sign_in(tabs: Tabs, admin: Person, member: Person) -> None:
    for label, person in (("admin", admin), ("user", member)):
        chat = tabs.open(label)
        chat.sign_in(person.email, person.password)
        assert chat.page.url.rstrip("/") == chat.url, f"{label} signed in but landed on {chat.page.url}"


def test_no_sign_up_page_is_exposed(tab: ChatPage, target: Target) -> None:
    tab.open_sign_in()
    shown = tab.shown()
    assert "Sign in" in shown, f"the /auth page shows no sign-in form; it shows: {shown}"
    assert tab.page.get_by_text("Sign up", exact=True).count() == 0, f"the /auth page offers 'Sign up': {shown}"
    assert "Sign up to" not in shown, f"the /auth page is a sign-up page: {shown}"
    assert target.open_webui is not None
    response = httpx.post(
        f"{target.open_webui.url}/api/v1/auths/signup",
        json={"name": "Intruder", "email": "intruder@example.com", "password": "Intruder-123"},
        timeout=30,
    )
    assert response.status_code == 403, f"sign-up was not refused: {response.status_code} {response.text[:200]}"
