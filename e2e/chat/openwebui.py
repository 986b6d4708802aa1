"""A small client for Open WebUI's HTTP API, as a user (or the harness) drives it.

`ask` chats the way the browser does, in Open WebUI's default (native) function calling (e2e/chat/native.py);
`complete` in its legacy function calling, kept as an API test of that mode."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from e2e.chat.native import NewChatRequest, Turn

# Open WebUI asks the LLM which tools to call and then calls them itself ("legacy" function calling);
# native function calling hands the tool calls back to an API caller unexecuted unless the request
# carries a session and a chat (`ask`).
LEGACY = {"function_calling": "legacy"}


class OpenWebUIError(RuntimeError):
    pass


class OpenWebUI:
    def __init__(self, url: str, token: str, timeout: float = 60) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    @classmethod
    def sign_in(cls, url: str, email: str, password: str, wait: float = 60) -> OpenWebUI:
        deadline = time.monotonic() + wait
        while True:
            try:
                response = httpx.post(
                    f"{url}/api/v1/auths/signin", json={"email": email, "password": password}, timeout=10
                )
                if response.status_code == 200:
                    return cls(url, response.json()["token"])
                failure = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                failure = str(exc)
            if time.monotonic() > deadline:
                raise OpenWebUIError(f"cannot sign in to {url} as {email}: {failure}")
            time.sleep(1)

    def close(self) -> None:
        self._http.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise OpenWebUIError(
                f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
            )
        return response.json()

    def tool_ids(self) -> list[str]:
        return [tool["id"] for tool in self._check(self._http.get("/api/v1/tools/"))]

    def models(self) -> list[str]:
        return [model["id"] for model in self.model_entries()]

    def model_entries(self) -> list[dict[str, Any]]:
        """/api/models as the browser reads it: id, display name, `info.meta` (description, default tools)."""
        return self._check(self._http.get("/api/models"))["data"]

    def default_tool_ids(self, model: str) -> list[str]:
        """The tools a new chat with this model starts with, as the browser selects them: the model's
        `info.meta.toolIds` that name a tool the user can see."""
        entry = next(m for m in self.model_entries() if m["id"] == model)
        visible = set(self.tool_ids())
        return [i for i in ((entry.get("info") or {}).get("meta") or {}).get("toolIds") or [] if i in visible]

    def add_user(self, email: str, password: str, name: str = "E2E user") -> None:
        self._check(
            self._http.post(
                "/api/v1/auths/add", json={"name": name, "email": email, "password": password, "role": "user"}
            )
        )

    def complete(self, message: str, tool_ids: list[str], model: str) -> dict[str, Any]:
        """One chat turn with the given tools enabled; returns the completion (with `sources`)."""
        body = {
            "model": model,
            "stream": False,
            "tool_ids": tool_ids,
            "params": LEGACY,
            "messages": [{"role": "user", "content": message}],
        }
        return self._check(self._http.post("/api/chat/completions", json=body))

    def ask(self, message: str, model: str, tool_ids: list[str] | None = None, wait: float = 60) -> Turn:
        """One turn of a new chat in native function calling, as the browser sends it (default: the model's
        default tools); returns the turn once Open WebUI has stored it as done."""
        request = NewChatRequest.create(model, message, self.default_tool_ids(model) if tool_ids is None else tool_ids)
        started = self._check(self._http.post("/api/chat/completions", json=request.body()))
        chat_id = started.get("chat_id")
        if not chat_id:
            raise OpenWebUIError(f"no chat started: {started}")
        deadline = time.monotonic() + wait
        while True:
            stored = self.chat(chat_id)["chat"]["history"]["messages"].get(request.reply_id) or {}
            if stored.get("error"):
                raise OpenWebUIError(f"chat {chat_id}: {stored['error']}")
            if stored.get("done"):
                return Turn(chat_id, stored)
            if time.monotonic() > deadline:
                raise OpenWebUIError(f"chat {chat_id}: no answer after {wait:.0f} s; so far: {stored}")
            time.sleep(0.3)

    def save_chat(self, title: str, question: str, answer: str, model: str) -> str:
        user_id, reply_id = str(uuid.uuid4()), str(uuid.uuid4())
        messages = [
            {"id": user_id, "parentId": None, "childrenIds": [reply_id], "role": "user", "content": question},
            {
                "id": reply_id,
                "parentId": user_id,
                "childrenIds": [],
                "role": "assistant",
                "content": answer,
                "model": model,
            },
        ]
        chat = {
            "title": title,
            "models": [model],
            "messages": messages,
            "history": {"currentId": reply_id, "messages": {m["id"]: m for m in messages}},
        }
        return self._check(self._http.post("/api/v1/chats/new", json={"chat": chat}))["id"]

    def chat(self, chat_id: str) -> dict[str, Any]:
        return self._check(self._http.get(f"/api/v1/chats/{chat_id}"))


def answer_of(completion: dict[str, Any]) -> str:
    return completion["choices"][0]["message"]["content"] or ""
