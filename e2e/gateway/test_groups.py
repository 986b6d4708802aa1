"""Issue 14, deliverable 3: tenant rules that match Open WebUI groups, taken from a verified source.

A real Open WebUI 0.12.4 (the project's image, the catalog's environment, API keys enabled and restricted to the
user endpoints) with a dedicated admin account whose API key is the gateway's directory key, a group with one
member and a user outside it. The gateway pipeline runs in process (tests/gateway/stub_mcpo.py stands in for
mcpo) with a tenant rule `match: {groups: [Research Team]}` and its user directory pointing at that Open WebUI.
End users are signed as Open WebUI signs them (utils/headers.py `_mint_forward_user_jwt`), with their real ids.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from servers.gateway.metrics import GatewayMetrics
from servers.gateway.settings import GatewaySettings
from tests.gateway.identities import SIGNING_KEY, signed_user
from tests.gateway.stub_mcpo import assert_problem, auth, build, stub_upstreams

pytestmark = pytest.mark.docker
GROUP = "Research Team"
ADMIN = "admin@example.com"
ALLOWED_ENDPOINTS = "/api/v1/users"  # every Open WebUI API key may call these endpoints only


@dataclass
class OpenWebUI:
    container: Any
    url: str
    directory_key: str
    admin_password: str
    member: str  # user ids
    outsider: str

    def directory(self) -> httpx.Client:
        """Open WebUI as the gateway's directory key reaches it."""
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.directory_key}"}, timeout=30)

    def set_member(self, group_id: str, user_id: str, member: bool) -> None:
        """Adds `user_id` to the group or removes it, as Open WebUI's admin does."""
        token = _signin(self.url, ADMIN, self.admin_password)
        answer = httpx.post(
            f"{self.url}/api/v1/groups/id/{group_id}/users/{'add' if member else 'remove'}",
            json={"user_ids": [user_id]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        answer.raise_for_status()


def _env() -> dict[str, str]:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    env = dict(catalog.services["open-webui"].env)
    return {
        **env,
        "WEBUI_SECRET_KEY": secrets.token_urlsafe(32),
        "WEBUI_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "FORWARD_USER_INFO_HEADER_JWT_SECRET": SIGNING_KEY,
        # What a user directory needs of Open WebUI (docs/gateway.md): API keys, limited to the user endpoints.
        "ENABLE_API_KEYS": "true",
        "ENABLE_API_KEYS_ENDPOINT_RESTRICTIONS": "true",
        "API_KEYS_ALLOWED_ENDPOINTS": ALLOWED_ENDPOINTS,
    }


def _wait_healthy(url: str, container: Any) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        container.reload()
        assert container.status == "running", container.logs(tail=30).decode()
        time.sleep(1)
    raise AssertionError("Open WebUI did not become healthy in 240 s")


def _signin(url: str, email: str, password: str) -> str:
    answer = httpx.post(f"{url}/api/v1/auths/signin", json={"email": email, "password": password}, timeout=30)
    answer.raise_for_status()
    return answer.json()["token"]


def _add_user(session: httpx.Client, name: str, role: str) -> tuple[str, str]:
    password = secrets.token_urlsafe(12)
    body = {"name": name, "email": f"{name}@elsewhere.test", "password": password, "role": role}
    answer = session.post("/api/v1/auths/add", json=body)
    answer.raise_for_status()
    return answer.json()["id"], password


def _prepare(url: str, admin_password: str) -> tuple[str, str, str]:
    """(directory key, member id, outsider id): a dedicated admin for the gateway, its API key, a group."""
    session = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {_signin(url, ADMIN, admin_password)}"}, timeout=30
    )
    with session:
        directory_id, directory_password = _add_user(session, "gateway-directory", "admin")
        member, _ = _add_user(session, "member", "user")
        outsider, _ = _add_user(session, "outsider", "user")
        group = session.post("/api/v1/groups/create", json={"name": GROUP, "description": "e2e"})
        group.raise_for_status()
        added = session.post(f"/api/v1/groups/id/{group.json()['id']}/users/add", json={"user_ids": [member]})
        added.raise_for_status()
    token = _signin(url, "gateway-directory@elsewhere.test", directory_password)
    key = httpx.post(f"{url}/api/v1/auths/api_key", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    key.raise_for_status()
    assert directory_id
    return key.json()["api_key"], member, outsider


@pytest.fixture(scope="module")
def open_webui() -> Iterator[OpenWebUI]:
    client = docker.from_env()
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "dev")
    service = catalog.services["open-webui"]
    env = _env()
    container = client.containers.run(
        f"{service.image.repository}:{service.image.tag}",
        service.command,
        name=f"mcpstack-e2e-groups-{secrets.token_hex(4)}",
        environment=env,
        ports={"8080/tcp": ("127.0.0.1", None)},
        detach=True,
    )
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, container)
        key, member, outsider = _prepare(url, env["WEBUI_ADMIN_PASSWORD"])
        yield OpenWebUI(container, url, key, env["WEBUI_ADMIN_PASSWORD"], member, outsider)
    finally:
        container.remove(force=True)


def gateway_settings(tmp_path: Path, directory_url: str, directory_key: str, cache_seconds: float) -> GatewaySettings:
    files = {"open-webui": "k-open-webui-0123456789", "signing-key": SIGNING_KEY, "directory": directory_key}
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
    return GatewaySettings.model_validate(
        {
            "routes": {"time": {"required": True}},
            "clients": {"open-webui": {"key_file": str(tmp_path / "open-webui"), "forwards_user_identity": True}},
            "tenants": [
                {"name": "staff", "match": {"email_domains": ["staff.test"]}, "tools": {"time": "*"}},
                {"name": "research", "match": {"groups": [GROUP]}, "tools": {"time": ["get_current_time"]}},
            ],
            "user_identity_secret_file": str(tmp_path / "signing-key"),
            "user_directory": {
                "url": directory_url,
                "key_file": str(tmp_path / "directory"),
                "cache_seconds": cache_seconds,
                "timeout_seconds": 3,
            },
        }
    )


@pytest.fixture
async def gateway(tmp_path: Path, open_webui: OpenWebUI) -> AsyncIterator[httpx.AsyncClient]:
    settings = gateway_settings(tmp_path, open_webui.url, open_webui.directory_key, cache_seconds=0)
    app = build(settings, stub_upstreams(), GatewayMetrics())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http


def as_user(user_id: str, email: str = "", **extra: str) -> dict[str, str]:
    return {**auth("open-webui"), "X-OpenWebUI-User-Jwt": signed_user(user_id, email), **extra}


async def call(gateway: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await gateway.post("/time/get_current_time", json={"timezone": "UTC"}, headers=headers)


async def test_a_group_rule_admits_the_member_and_refuses_the_outsider(
    gateway: httpx.AsyncClient, open_webui: OpenWebUI
) -> None:
    member = await call(gateway, as_user(open_webui.member, "member@elsewhere.test"))
    assert member.status_code == 200, member.text
    assert member.json() == {"called": "/time/get_current_time"}
    outsider = await call(gateway, as_user(open_webui.outsider, "outsider@elsewhere.test"))
    assert assert_problem(outsider, 403, "forbidden")["detail"] == "no tenant admits this user"


async def test_a_forged_groups_header_changes_nothing(gateway: httpx.AsyncClient, open_webui: OpenWebUI) -> None:
    # Open WebUI's unsigned {{USER_GROUPS}} custom header, or the member's id, asserted by a key holder
    forged = as_user(open_webui.outsider, "outsider@elsewhere.test", **{"X-OpenWebUI-User-Groups": GROUP})
    assert_problem(await call(gateway, forged), 403, "forbidden")
    plain = {**auth("open-webui"), "X-OpenWebUI-User-Id": open_webui.member, "X-OpenWebUI-User-Groups": GROUP}
    assert_problem(await call(gateway, plain), 403, "forbidden")


async def test_membership_is_read_from_open_webui_each_time_without_a_cache(
    gateway: httpx.AsyncClient, open_webui: OpenWebUI
) -> None:
    with open_webui.directory() as directory:
        groups = directory.get(f"/api/v1/users/{open_webui.member}/groups").json()
        group_id = next(g["id"] for g in groups if g["name"] == GROUP)
        # the directory key can read users and nothing else (API_KEYS_ALLOWED_ENDPOINTS)
        assert directory.get("/api/v1/groups/").status_code == 403
    outsider = as_user(open_webui.outsider, "outsider@elsewhere.test")
    open_webui.set_member(group_id, open_webui.outsider, member=True)
    try:
        assert (await call(gateway, outsider)).status_code == 200
    finally:
        open_webui.set_member(group_id, open_webui.outsider, member=False)
    assert_problem(await call(gateway, outsider), 403, "forbidden")


async def test_with_open_webui_stopped_a_group_dependent_call_fails_closed(
    gateway: httpx.AsyncClient, open_webui: OpenWebUI
) -> None:
    open_webui.container.stop(timeout=5)  # the module's last test: Open WebUI stays down
    started = time.monotonic()
    body = assert_problem(
        await call(gateway, as_user(open_webui.member, "member@elsewhere.test")), 503, "identity-unavailable"
    )
    assert time.monotonic() - started < 5
    assert "Open WebUI did not answer" in body["detail"] and open_webui.directory_key not in body["detail"]
    # a call decided before any group rule (staff's e-mail domain) never asks Open WebUI
    staff = await call(gateway, as_user("s-1", "sam@staff.test"))
    assert staff.status_code == 200, staff.text
