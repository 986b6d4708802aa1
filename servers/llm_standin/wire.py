"""A reply on the wire: Ollama's /api/chat (NDJSON when streamed) and OpenAI's chat completions (server-sent
events when streamed), tool calls included as each API carries them.

Every tool call has an id unique to its reply and its own `index`: Open WebUI merges streamed tool-call
deltas by index (utils/middleware.py) and maps Ollama's calls by `index`/`function.index`, so two calls of
one turn must never share one. Streamed OpenAI calls arrive as real models send them: the id and name first,
the arguments in pieces.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from servers.llm_standin.replies import Reply
from servers.llm_standin.tools import ToolCall

CHUNK_CHARS = 40  # streamed answers arrive in pieces, like a real model's
OLLAMA_DONE = {
    "done": True,
    "done_reason": "stop",
    "total_duration": 1_000_000,
    "load_duration": 0,
    "prompt_eval_count": 1,
    "prompt_eval_duration": 1,
    "eval_count": 1,
    "eval_duration": 1,
}


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _call_ids(reply: Reply) -> list[str]:
    return [f"call_{uuid.uuid4().hex[:16]}" for _ in reply.tool_calls]


def pieces(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


# -- Ollama --------------------------------------------------------------------------------------------


def _ollama_message(content: str, calls: list[ToolCall], ids: list[str]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {"id": ids[i], "function": {"index": i, "name": c.name, "arguments": c.arguments}}
            for i, c in enumerate(calls)
        ]
    return message


def ollama_response(model: str, reply: Reply) -> dict[str, Any]:
    message = _ollama_message(reply.content, reply.tool_calls, _call_ids(reply))
    return {"model": model, "created_at": now(), "message": message, **OLLAMA_DONE}


async def ollama_stream(model: str, reply: Reply) -> AsyncIterator[bytes]:
    ids = _call_ids(reply)
    for index, piece in enumerate(pieces(reply.content)):
        message = _ollama_message(piece, reply.tool_calls if index == 0 else [], ids)
        yield (json.dumps({"model": model, "created_at": now(), "message": message, "done": False}) + "\n").encode()
    last = {"model": model, "created_at": now(), "message": {"role": "assistant", "content": ""}, **OLLAMA_DONE}
    yield (json.dumps(last) + "\n").encode()


# -- OpenAI --------------------------------------------------------------------------------------------


def _openai_call(call_id: str, call: ToolCall) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}


def openai_completion(model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = [_openai_call(i, c) for i, c in zip(_call_ids(reply), reply.tool_calls, strict=True)]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def openai_stream(model: str, reply: Reply) -> AsyncIterator[bytes]:
    identifier, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {
            "id": identifier,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    yield event({"role": "assistant", "content": ""})
    for index, (call_id, call) in enumerate(zip(_call_ids(reply), reply.tool_calls, strict=True)):
        start = {"index": index, "id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        yield event({"tool_calls": [start]})
        for piece in pieces(json.dumps(call.arguments)):
            yield event({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    if reply.content:
        for piece in pieces(reply.content):
            yield event({"content": piece})
    yield event({}, "tool_calls" if reply.tool_calls else "stop")
    yield b"data: [DONE]\n\n"
