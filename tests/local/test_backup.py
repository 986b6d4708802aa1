"""Backup and restore of Open WebUI's data in a local stack: a chat deleted after the backup is back after the
restore (one Open WebUI start, plus the restart the restore does)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.cli import app
from mcpstack.local.stack import LocalStack

pytestmark = pytest.mark.docker
runner = CliRunner()


def sign_in(url: str, password: str, wait: float = 180) -> httpx.Client:
    deadline = httpx.Timeout(10)
    for _ in range(int(wait)):
        try:
            response = httpx.post(
                f"{url}/api/v1/auths/signin", json={"email": "admin@example.com", "password": password}, timeout=10
            )
            if response.status_code == 200:
                token = response.json()["token"]
                return httpx.Client(base_url=url, timeout=deadline, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"cannot sign in to {url}")


def new_chat(client: httpx.Client, title: str) -> str:
    message = {"id": str(uuid.uuid4()), "parentId": None, "childrenIds": [], "role": "user", "content": "hello"}
    chat = {"title": title, "models": [], "messages": [message], "history": {"currentId": message["id"]}}
    response = client.post("/api/v1/chats/new", json={"chat": chat})
    response.raise_for_status()
    return response.json()["id"]


def test_a_chat_deleted_after_a_backup_is_back_after_the_restore(tmp_path: Path) -> None:
    stack = LocalStack(
        load_catalog(DEFAULT_CONFIG_DIR, "dev"),
        name=f"mcpstack-backup-{uuid.uuid4().hex[:6]}",
        fixed_host_ports=False,
        log=lambda _: None,
    )
    try:
        stack.up(build=False, timeout=240)
        password = stack.secrets.value("webui-admin-password")
        with sign_in(stack.url("open-webui"), password) as client:
            chat_id = new_chat(client, "kept by the backup")
            archive = tmp_path / "open-webui.tar.gz"
            backed_up = runner.invoke(app, ["backup", "--stack", stack.name, "--out", str(archive)])
            assert backed_up.exit_code == 0, backed_up.output
            assert archive.stat().st_size > 0
            client.delete(f"/api/v1/chats/{chat_id}").raise_for_status()
            assert client.get(f"/api/v1/chats/{chat_id}").status_code in (401, 404)

        restored = runner.invoke(app, ["restore", str(archive), "--stack", stack.name])
        assert restored.exit_code == 0, restored.output
        assert "Open WebUI restarted" in restored.stdout
        with sign_in(stack.url("open-webui"), password) as client:  # the host port may change on restart
            chat = client.get(f"/api/v1/chats/{chat_id}")
            assert chat.status_code == 200, chat.text
            assert chat.json()["chat"]["title"] == "kept by the backup"
    finally:
        stack.down(volumes=True)
        stack.purge_state()
