"""Real Open WebUI users under load (loadtests/webui_users.py): accounts created through Open WebUI's admin API, each
signed in with its own token, chatting through Open WebUI's API, which calls the gateway with each user signed.
A short bounded run against the e2e session's local stack (127.0.0.1): 4 users, 20 s measured - about a minute."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from e2e.capacity.loadtest_command import MCPSTACK
from e2e.target import Target
from mcpstack import REPO_ROOT
from mcpstack.local.stack import LocalStack

pytestmark = pytest.mark.docker
USERS = 4


def test_open_webui_users_chat_with_tools_as_themselves(stack: LocalStack, target: Target, tmp_path: Path) -> None:
    """`mcpstack loadtest --scenario webui-users` as an operator runs it, against the suite's stack."""
    run = ("--scenario", "webui-users", "--stack", stack.name, "--users", str(USERS), "--duration", "20s")
    done = subprocess.run(
        [str(MCPSTACK), "loadtest", *run, "--report", str(tmp_path), "--output", "json"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    load = json.loads(done.stdout)
    print(done.stderr[-2000:])  # the run's log, in the test log
    assert done.returncode == 0, done.stderr[-3000:]
    assert load == json.loads((tmp_path / "report.json").read_text())
    assert "| chat turn with |" in (tmp_path / "report.md").read_text()
    assert load["passed"] is True and load["errors"] == []
    assert set(load["chats"]) == {"chat/time/get_current_time", "chat/sandbox/execute_python"}
    turns = sum(figures["requests"] for figures in load["chats"].values())
    assert all(figures["failures"] == 0 for figures in load["chats"].values()), load["chats"]
    assert turns >= USERS
    requests = json.loads((tmp_path / "requests.json").read_text())["requests"]
    people = {r[5] for r in requests}
    assert len(people) == USERS and all(str(p).endswith("@example.com") for p in people)
    # The gateway saw each turn's tool call from Open WebUI's key as a verified user of the staff tenant (their
    # e-mail domain): plain identity headers could not have chosen that tenant.
    assert load["gateway"]["client_requests"].get("open-webui/staff", 0) >= turns
    assert load["gateway"]["mean_latency_ms"]["time/get_current_time"] > 0
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
