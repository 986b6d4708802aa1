"""A verified user's groups, asked of Open WebUI with the directory's key: cached per user (bounded), shared by
concurrent look-ups, and failing closed (503 identity-unavailable) whenever Open WebUI cannot answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from servers.gateway import problems
from servers.gateway.edge import Refusal
from servers.gateway.settings import UserDirectorySettings
from servers.gateway.user_directory import UserDirectory
from tests.gateway.fake_directory import DIRECTORY_KEY, FakeOpenWebUI


async def test_the_groups_of_a_user_come_from_open_webui_with_the_key() -> None:
    webui = FakeOpenWebUI({"u/1": ["Research", "Staff"]})
    assert await webui.directory().groups("u/1") == {"Research", "Staff"}
    (asked,) = webui.asked
    assert asked.url.raw_path == b"/api/v1/users/u%2F1/groups?include_inherited=true"  # one path segment
    assert asked.headers["authorization"] == f"Bearer {DIRECTORY_KEY}"
    assert await webui.directory().groups("nobody") == frozenset()


async def test_answers_are_cached_per_user_for_cache_seconds() -> None:
    webui = FakeOpenWebUI({"u-1": ["Research"]})
    directory = webui.directory(cache_seconds=60)
    await directory.groups("u-1")
    webui.groups["u-1"] = []  # removed from the group in Open WebUI
    webui.clock = 59.0
    assert await directory.groups("u-1") == {"Research"}
    assert len(webui.asked) == 1
    webui.clock = 61.0
    assert await directory.groups("u-1") == frozenset()
    assert len(webui.asked) == 2
    uncached = webui.directory(cache_seconds=0)
    await uncached.groups("u-1")
    await uncached.groups("u-1")
    assert len(webui.asked) == 4


async def test_the_cache_holds_at_most_max_cached_users() -> None:
    webui = FakeOpenWebUI({})
    directory = webui.directory(max_cached_users=2)
    for user in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" arrives
        await directory.groups(user)
    assert len(webui.asked) == 3
    await directory.groups("a")
    await directory.groups("c")
    assert len(webui.asked) == 3
    await directory.groups("b")
    assert len(webui.asked) == 4


async def test_concurrent_look_ups_of_one_user_share_one_request() -> None:
    webui = FakeOpenWebUI({"u-1": ["Research"]})
    directory = webui.directory()
    answers = await asyncio.gather(*(directory.groups("u-1") for _ in range(20)))
    assert answers == [frozenset({"Research"})] * 20
    assert len(webui.asked) == 1


@pytest.mark.parametrize(
    ("status", "body", "down", "key", "cause"),
    [
        (500, None, False, DIRECTORY_KEY, "HTTP 500"),
        (200, None, False, "sk-revoked-key", "HTTP 401"),  # a key Open WebUI no longer accepts
        (200, b"<html>", False, DIRECTORY_KEY, "not a list of groups"),
        (200, b'{"detail": "x"}', False, DIRECTORY_KEY, "not a list of groups"),
        (200, b'[{"id": "g"}]', False, DIRECTORY_KEY, "not a list of groups"),
        (200, None, True, DIRECTORY_KEY, "ConnectError"),
    ],
)
async def test_when_open_webui_cannot_answer_the_look_up_fails_closed(
    status: int, body: bytes | None, down: bool, key: str, cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    webui = FakeOpenWebUI({"u-1": ["Research"]})
    webui.status, webui.body, webui.down = status, body, down
    directory = webui.directory(key=key)
    with caplog.at_level(logging.INFO), pytest.raises(Refusal) as refused:
        await directory.groups("u-1")
    assert refused.value.kind is problems.IDENTITY_UNAVAILABLE and refused.value.kind.status == 503
    assert cause in refused.value.detail and refused.value.headers == {"Retry-After": "5"}
    assert key not in refused.value.detail and key not in caplog.text
    assert cause in caplog.text
    webui.status, webui.body, webui.down = 200, None, False  # Open WebUI answers again
    assert await webui.directory().groups("u-1") == {"Research"}
    if key == DIRECTORY_KEY:
        assert await directory.groups("u-1") == {"Research"}  # the failure was not cached
        assert len(webui.asked) == 3


async def test_a_slow_open_webui_fails_closed_within_timeout_seconds() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=[])

    settings = UserDirectorySettings(url="http://open-webui:8080", key_file="-", timeout_seconds=0.2)
    directory = UserDirectory(settings, DIRECTORY_KEY, transport=_TimingOut(slow))
    started = asyncio.get_running_loop().time()
    with pytest.raises(Refusal, match=r"no answer within 0\.2 s"):
        await directory.groups("u-1")
    assert asyncio.get_running_loop().time() - started < 2


class _TimingOut(httpx.AsyncBaseTransport):
    """A transport that honours the request's read timeout as a real connection would."""

    def __init__(self, handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> None:
        self._handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]["read"]
        try:
            return await asyncio.wait_for(self._handler(request), timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None


def test_the_key_file_must_exist_and_hold_a_key(tmp_path: Path) -> None:
    assert UserDirectory.from_settings(None) is None
    settings = UserDirectorySettings(url="http://open-webui:8080", key_file=str(tmp_path / "key"))
    with pytest.raises(ValueError, match="cannot read"):
        UserDirectory.from_settings(settings)
    (tmp_path / "key").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        UserDirectory.from_settings(settings)
    (tmp_path / "key").write_text(DIRECTORY_KEY + "\n")
    assert isinstance(UserDirectory.from_settings(settings), UserDirectory)
