"""One chat turn in Open WebUI 0.12.4's default (native) function calling, through its API as the browser
sends it, and the turn as Open WebUI stores it.

The browser posts /api/chat/completions with `stream: true`, its socket's `session_id`, `parent_id: null`
(a new chat), the new user message (`user_message`) and the id of the assistant message to fill (`id`),
and the tools selected in the chat (`tool_ids`: the model's default tools, `info.meta.toolIds`). With a
session id and a chat id, Open WebUI answers at once (`{"status": true, "chat_id": ...}`: it creates the
chat) and runs the turn in the background: it gives the LLM OpenAI `tools` (the tool servers' operations
plus its built-in tools), runs the `tool_calls` the LLM returns against the tool servers, sends the results
back as `tool` messages until the LLM answers, and streams events to the user's socket room while storing
the turn in the chat: the answer as `content`, and the calls and their results as `output` items
(`function_call`, `function_call_output`, `message`). Without a session id, the tool calls come back to the
caller unexecuted; an API caller reads the turn from GET /api/v1/chats/{id} once the message is `done`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolRun:
    """One tool call of a turn and what the tool returned (the text the LLM got)."""

    name: str
    arguments: dict[str, Any]
    output: str
    status: str


@dataclass(frozen=True)
class Turn:
    chat_id: str
    message: dict[str, Any]  # the assistant message as stored in the chat's history

    @property
    def answer(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def output(self) -> list[dict[str, Any]]:
        return list(self.message.get("output") or [])

    @property
    def runs(self) -> list[ToolRun]:
        outputs = {
            item.get("call_id"): "".join(part.get("text", "") for part in item.get("output") or [])
            for item in self.output
            if item.get("type") == "function_call_output"
        }
        return [
            ToolRun(
                item["name"],
                json.loads(item.get("arguments") or "{}"),
                outputs.get(item["call_id"], ""),
                item.get("status", ""),
            )
            for item in self.output
            if item.get("type") == "function_call"
        ]

    @property
    def rounds(self) -> list[list[str]]:
        """The tool names the LLM asked for, per assistant turn (consecutive calls before their results)."""
        rounds: list[list[str]] = []
        previous = None
        for item in self.output:
            if item.get("type") == "function_call":
                if previous != "function_call":
                    rounds.append([])
                rounds[-1].append(item["name"])
            previous = item.get("type")
        return rounds

    def run_of(self, operation: str) -> ToolRun:
        """The call of a tool by its own name (`get_current_time` for `tool_get_current_time_post`)."""
        found = [run for run in self.runs if operation in run.name]
        assert found, f"no call of {operation} in this turn; calls: {[run.name for run in self.runs]}"
        return found[0]


@dataclass(frozen=True)
class NewChatRequest:
    model: str
    message: str
    tool_ids: list[str]
    user_message_id: str
    reply_id: str

    @classmethod
    def create(cls, model: str, message: str, tool_ids: list[str]) -> NewChatRequest:
        return cls(model, message, tool_ids, str(uuid.uuid4()), str(uuid.uuid4()))

    def body(self) -> dict[str, Any]:
        user_message = {
            "id": self.user_message_id,
            "parentId": None,
            "childrenIds": [],
            "role": "user",
            "content": self.message,
            "timestamp": int(time.time()),
            "models": [self.model],
        }
        return {
            "model": self.model,
            "stream": True,
            "messages": [{"role": "user", "content": self.message}],
            "params": {},  # no `function_calling`: Open WebUI's default, native
            "tool_ids": self.tool_ids,
            "features": {},
            "variables": {},
            "session_id": f"e2e-{uuid.uuid4().hex[:12]}",  # the browser's is its socket id
            "id": self.reply_id,
            "parent_id": None,
            "user_message": user_message,
            "background_tasks": {"title_generation": True, "tags_generation": False, "follow_up_generation": False},
        }
