"""Real Open WebUI users under load (loadtests/webui_users.py): accounts created through Open WebUI's admin API, each
signed in with its own token, chatting through Open WebUI's API, which calls the gateway with each user signed.
A short bounded run against the e2e session's local stack (127.0.0.1): 4 users, 20 s measured - about a minute."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from e2e.target import Target
from mcpstack.capacity.webui_load import run_webui_load, table
from mcpstack.local.stack import LocalStack

pytestmark = pytest.mark.docker
USERS = 4


def test_open_webui_users_chat_with_tools_as_themselves(stack: LocalStack, target: Target, tmp_path: Path) -> None:
    load = run_webui_load(stack, tmp_path, users=USERS, seconds=20, log=print)
    print(table(load))  # the figures, in the test log
    assert load.run.record.errors == []
    assert set(load.chats) == {"chat/time/get_current_time", "chat/sandbox/execute_python"}
    turns = sum(figures.requests for figures in load.chats.values())
    for name, figures in load.chats.items():
        assert figures.failures == 0, (name, [r for r in load.run.record.requests if r[4]][:3])
    assert turns >= USERS
    people = {r[5] for r in load.run.record.requests}
    assert len(people) == USERS and all(str(p).endswith("@example.com") for p in people)
    # The gateway saw each turn's tool call from Open WebUI's key as a verified user of the staff tenant (their
    # e-mail domain): plain identity headers could not have chosen that tenant.
    assert load.gateway.client_requests.get("open-webui/staff", 0) >= turns
    assert load.gateway.mean_latency_ms["time/get_current_time"] > 0
    # The accounts were removed again.
    assert target.open_webui is not None
    admin = httpx.post(
        f"{target.open_webui.url}/api/v1/auths/signin",
        json={"email": target.open_webui.email, "password": target.open_webui.password},
        timeout=30,
    ).json()["token"]
    listed = httpx.get(
        f"{target.open_webui.url}/api/v1/users/", headers={"Authorization": f"Bearer {admin}"}, timeout=30
    ).json()
    emails = {u["email"] for u in (listed.get("users", []) if isinstance(listed, dict) else listed)}
    assert not emails & people
