"""A small client for Open WebUI's HTTP API, as a user (or the harness) drives it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

# Open WebUI asks the LLM which tools to call and then calls them itself ("legacy" function calling);
# native function calling hands the tool calls back to an API caller unexecuted.
FUNCTION_CALLING = {"function_calling": "legacy"}


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
        return [model["id"] for model in self._check(self._http.get("/api/models"))["data"]]

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
            "params": FUNCTION_CALLING,
            "messages": [{"role": "user", "content": message}],
        }
        return self._check(self._http.post("/api/chat/completions", json=body))

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
