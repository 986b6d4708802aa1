"""HTTP front of the stand-in: the Ollama API subset Open WebUI uses, and OpenAI chat completions.

Models keep the ids the catalog configures (what Open WebUI sends back in requests) but are listed with a
display name that says what they are, e.g. "llama3.2:3b (test double)": Ollama's tags carry it as `name`
(Open WebUI shows `name` and uses `model` as the id), OpenAI's model list as `name` beside `id`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from servers.llm_standin import wire
from servers.llm_standin.replies import reply

VERSION = "0.32.15-mcpstack-standin"  # answers as the Ollama version the catalog pins
DISPLAY_SUFFIX = " (test double)"


def display_name(model: str) -> str:
    return model + DISPLAY_SUFFIX


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
            return StreamingResponse(wire.ollama_stream(model, result), media_type="application/x-ndjson")
        return JSONResponse(wire.ollama_response(model, result))

    async def ollama_generate(request: Request) -> Response:
        body = await _json(request)
        result = reply([{"role": "user", "content": body.get("prompt", "")}])
        return JSONResponse(
            {"model": body.get("model", models[0]), "created_at": wire.now(), "response": result.content}
            | wire.OLLAMA_DONE
        )

    async def openai_models(_: Request) -> Response:
        data = [
            {"id": name, "name": display_name(name), "object": "model", "created": 0, "owned_by": "mcpstack-standin"}
            for name in models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def openai_chat(request: Request) -> Response:
        body = await _json(request)
        model = body.get("model", models[0])
        result = reply(body.get("messages", []), body.get("tools"))
        if body.get("stream", False):
            return StreamingResponse(wire.openai_stream(model, result), media_type="text/event-stream")
        return JSONResponse(wire.openai_completion(model, result))

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


def _model_entry(name: str) -> dict[str, Any]:
    return {
        "name": display_name(name),
        "model": name,
        "modified_at": "2026-01-01T00:00:00Z",
        "size": 0,
        "digest": "sha256:" + "0" * 64,
        "details": {"format": "gguf", "family": "standin", "parameter_size": "0B", "quantization_level": "none"},
    }
