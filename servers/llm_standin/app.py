"""HTTP front of the stand-in: the Ollama API subset Open WebUI uses, and OpenAI chat completions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from servers.llm_standin.replies import Reply, reply

VERSION = "0.32.15-mcpstack-standin"  # answers as the Ollama version the catalog pins
CHUNK_CHARS = 40  # streamed answers arrive in pieces, like a real model's


def create_app(models: list[str]) -> Starlette:
    async def root(_: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def version(_: Request) -> Response:
        return JSONResponse({"version": VERSION})

    async def tags(_: Request) -> Response:
        return JSONResponse({"models": [_model_entry(name) for name in models]})

    async def running(_: Request) -> Response:
        return JSONResponse({"models": []})

    async def show(request: Request) -> Response:
        body = await _json(request)
        name = body.get("model") or body.get("name") or models[0]
        return JSONResponse(
            {
                "modelfile": "",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": _model_entry(name)["details"],
                "model_info": {},
                "capabilities": ["completion", "tools"],
            }
        )

    async def ollama_chat(request: Request) -> Response:
        body = await _json(request)
        model = body.get("model", models[0])
        result = reply(body.get("messages", []), body.get("tools"))
        if body.get("stream", True):
            return StreamingResponse(_ollama_stream(model, result), media_type="application/x-ndjson")
        return JSONResponse({**_ollama_chunk(model, result.content, result), **_ollama_done()})

    async def ollama_generate(request: Request) -> Response:
        body = await _json(request)
        result = reply([{"role": "user", "content": body.get("prompt", "")}])
        return JSONResponse(
            {"model": body.get("model", models[0]), "created_at": _now(), "response": result.content, **_ollama_done()}
        )

    async def openai_models(_: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": 0, "owned_by": "mcpstack-standin"} for name in models
                ],
            }
        )

    async def openai_chat(request: Request) -> Response:
        body = await _json(request)
        model = body.get("model", models[0])
        result = reply(body.get("messages", []), body.get("tools"))
        if body.get("stream", False):
            return StreamingResponse(_openai_stream(model, result), media_type="text/event-stream")
        return JSONResponse(_openai_completion(model, result))

    return Starlette(
        routes=[
            Route("/", root, methods=["GET", "HEAD"]),
            Route("/api/version", version, methods=["GET"]),
            Route("/api/tags", tags, methods=["GET"]),
            Route("/api/ps", running, methods=["GET"]),
            Route("/api/show", show, methods=["POST"]),
            Route("/api/chat", ollama_chat, methods=["POST"]),
            Route("/api/generate", ollama_generate, methods=["POST"]),
            Route("/v1/models", openai_models, methods=["GET"]),
            Route("/v1/chat/completions", openai_chat, methods=["POST"]),
        ]
    )


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _model_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-01-01T00:00:00Z",
        "size": 0,
        "digest": "sha256:" + "0" * 64,
        "details": {"format": "gguf", "family": "standin", "parameter_size": "0B", "quantization_level": "none"},
    }


def _ollama_chunk(model: str, content: str, result: Reply | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if result and result.tool_calls:
        message["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in result.tool_calls]
    return {"model": model, "created_at": _now(), "message": message, "done": False}


def _ollama_done() -> dict[str, Any]:
    return {
        "done": True,
        "done_reason": "stop",
        "total_duration": 1_000_000,
        "load_duration": 0,
        "prompt_eval_count": 1,
        "prompt_eval_duration": 1,
        "eval_count": 1,
        "eval_duration": 1,
    }


async def _ollama_stream(model: str, result: Reply) -> AsyncIterator[bytes]:
    pieces = _pieces(result.content)
    for index, piece in enumerate(pieces):
        yield (json.dumps(_ollama_chunk(model, piece, result if index == 0 else None)) + "\n").encode()
    yield (
        json.dumps(
            {"model": model, "created_at": _now(), "message": {"role": "assistant", "content": ""}, **_ollama_done()}
        )
        + "\n"
    ).encode()


def _openai_completion(model: str, result: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.content or None}
    if result.tool_calls:
        message["tool_calls"] = [_openai_tool_call(i, c) for i, c in enumerate(result.tool_calls)]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if result.tool_calls else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def _openai_stream(model: str, result: Reply) -> AsyncIterator[bytes]:
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
    if result.tool_calls:
        yield event({"tool_calls": [{**_openai_tool_call(i, c), "index": i} for i, c in enumerate(result.tool_calls)]})
    for piece in _pieces(result.content):
        yield event({"content": piece})
    yield event({}, "tool_calls" if result.tool_calls else "stop")
    yield b"data: [DONE]\n\n"


def _openai_tool_call(index: int, call: Any) -> dict[str, Any]:
    return {
        "id": f"call_{index}",
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def _pieces(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]
