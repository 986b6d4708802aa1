"""A stand-in for Open WebUI's user directory (`GET /api/v1/users/ID/groups`), over httpx's in-process transport:
it answers as Open WebUI 0.12.4 does and records what the gateway asked, so tests can count look-ups."""

from __future__ import annotations

import json

import httpx

from servers.gateway.settings import UserDirectorySettings
from servers.gateway.user_directory import UserDirectory

DIRECTORY_KEY = "sk-directory-0123456789abcdef"
PREFIX = "/api/v1/users/"


class FakeOpenWebUI:
    """Groups by user id; `status`/`body` override the answer (a failing or broken Open WebUI); `down` refuses."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups
        self.asked: list[httpx.Request] = []
        self.status = 200
        self.body: bytes | None = None
        self.down = False
        self.clock = 0.0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.headers.get("authorization") != f"Bearer {DIRECTORY_KEY}":
            return httpx.Response(401, json={"detail": "invalid token"})
        path = request.url.path
        assert path.startswith(PREFIX) and path.endswith("/groups"), path
        user_id = path[len(PREFIX) : -len("/groups")]
        names = self.groups.get(user_id, [])
        body = self.body or json.dumps([{"id": f"g-{n}", "name": n, "membership_type": "direct"} for n in names])
        return httpx.Response(self.status, content=body, headers={"content-type": "application/json"})

    def directory(self, key: str = DIRECTORY_KEY, **settings: object) -> UserDirectory:
        config = UserDirectorySettings.model_validate({"url": "http://open-webui:8080", "key_file": "-", **settings})
        return UserDirectory(config, key, transport=httpx.MockTransport(self.handle), clock=lambda: self.clock)
