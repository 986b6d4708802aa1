"""A signed user's Open WebUI groups, for tenant rules that match `groups`: asked of Open WebUI itself.

The identity Open WebUI 0.12.4 signs (X-OpenWebUI-User-Jwt, identity.py) carries no groups, and its
`{{USER_GROUPS}}` header placeholder is unsigned (any holder of a forwarding key could write it), so neither is a
source. The gateway asks Open WebUI: `GET /api/v1/users/ID/groups?include_inherited=true` (a subgroup's members
count as the parent's, as in Open WebUI), for the id of the VERIFIED user only. Open WebUI answers another user's
groups to admins only, so the request carries the API key (`sk-...`) of an admin account, read from a mounted
file; the key goes into that request's Authorization header and nowhere else (never a log line, never an answer).

Answers are kept per user for `cache_seconds` (at most `max_cached_users`, least recently used dropped first);
concurrent look-ups of one user share one request. When Open WebUI cannot answer (down, slow, the key refused),
the look-up fails closed: Refusal `identity-unavailable` (503), never "no groups" - that could pick a more
permissive later tenant or the default one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from servers.gateway import problems
from servers.gateway.edge import Refusal
from servers.gateway.settings import UserDirectorySettings

log = logging.getLogger("mcpstack.gateway.user_directory")
RETRY_AFTER_SECONDS = 5
MAX_GROUPS = 1000  # of one user; a longer answer is not Open WebUI's


class UserDirectory:
    def __init__(
        self,
        settings: UserDirectorySettings,
        key: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(
            base_url=settings.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
        )
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()
        self._pending: dict[str, asyncio.Task[frozenset[str]]] = {}

    async def aclose(self) -> None:
        """Close the connections to Open WebUI (the gateway's shutdown)."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    @classmethod
    def from_settings(cls, settings: UserDirectorySettings | None) -> UserDirectory | None:
        if settings is None:
            return None
        try:
            key = Path(settings.key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read the user directory's API key {settings.key_file}: {exc.strerror}") from None
        if not key:
            raise ValueError(f"the user directory's API key file {settings.key_file} is empty")
        return cls(settings, key)

    async def groups(self, user_id: str) -> frozenset[str]:
        """The names of the groups `user_id` (a verified user) belongs to; Refusal 503 when Open WebUI cannot say."""
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > self._clock():
            self._cache.move_to_end(user_id)
            return cached[1]
        task = self._pending.get(user_id)
        if task is None:
            task = asyncio.ensure_future(self._look_up(user_id))
            self._pending[user_id] = task
            task.add_done_callback(lambda _: self._pending.pop(user_id, None))
        return await asyncio.shield(task)  # a caller that goes away does not cancel the others' look-up

    async def _look_up(self, user_id: str) -> frozenset[str]:
        path = f"/api/v1/users/{quote(user_id, safe='')}/groups"
        try:
            answer = await self._http.get(path, params={"include_inherited": "true"})
        except httpx.TimeoutException:
            raise self._unavailable(f"no answer within {self._settings.timeout_seconds:g} s") from None
        except httpx.HTTPError as exc:
            raise self._unavailable(type(exc).__name__) from None
        if answer.status_code != 200:
            raise self._unavailable(f"HTTP {answer.status_code}")
        names = _group_names(answer)
        if names is None:
            raise self._unavailable("an answer that is not a list of groups")
        if self._settings.cache_seconds > 0:
            self._cache[user_id] = (self._clock() + self._settings.cache_seconds, names)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self._settings.max_cached_users:
                self._cache.popitem(last=False)
        return names

    def _unavailable(self, cause: str) -> Refusal:
        log.warning("Open WebUI did not answer a user's groups: %s", cause, extra={"fields": {"cause": cause}})
        return Refusal(
            problems.IDENTITY_UNAVAILABLE,
            f"a tenant rule needs the user's groups and Open WebUI did not answer them ({cause}); retry later",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def _group_names(answer: httpx.Response) -> frozenset[str] | None:
    try:
        body: Any = answer.json()
    except ValueError:
        return None
    if not isinstance(body, list) or len(body) > MAX_GROUPS:
        return None
    if not all(isinstance(group, dict) and isinstance(group.get("name"), str) for group in body):
        return None
    return frozenset(group["name"] for group in body)
