"""The stand-in's HTTP APIs, as Open WebUI calls them."""

from __future__ import annotations

import json

import httpx
import pytest

from servers.llm_standin.app import create_app

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_time",
            "description": "time",
            "parameters": {"type": "object", "properties": {"timezone": {}}},
        },
    }
]


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=create_app(["llama3.2:3b"]))
    async with httpx.AsyncClient(transport=transport, base_url="http://standin") as http:
        yield http


async def test_lists_its_model_both_ways(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/tags")).json()["models"][0]["name"] == "llama3.2:3b"
    assert (await client.get("/v1/models")).json()["data"][0]["id"] == "llama3.2:3b"
    assert "version" in (await client.get("/api/version")).json()


async def test_ollama_chat_streams_ndjson_ending_with_done(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/chat", json={"model": "llama3.2:3b", "messages": [{"role": "user", "content": "hello"}]}
    )
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[-1]["done"] is True
    assert "".join(line["message"]["content"] for line in lines).startswith("I am mcpstack's LLM stand-in")


async def test_ollama_native_tool_calls(client: httpx.AsyncClient) -> None:
    body = {
        "model": "m",
        "stream": False,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": "what time is it in Europe/Berlin?"}],
    }
    message = (await client.post("/api/chat", json=body)).json()["message"]
    assert message["tool_calls"] == [
        {"function": {"name": "get_current_time", "arguments": {"timezone": "Europe/Berlin"}}}
    ]


async def test_openai_tool_call_then_answer_from_the_tool_message(client: httpx.AsyncClient) -> None:
    messages = [{"role": "user", "content": "the time please"}]
    first = (
        await client.post("/v1/chat/completions", json={"model": "m", "messages": messages, "tools": TOOLS})
    ).json()
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"timezone": "UTC"}
    messages += [
        choice["message"],
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "name": "get_current_time",
            "content": '{"timezone": "UTC", "datetime": "2026-11-23T10:00:00+00:00"}',
        },
    ]
    second = (
        await client.post("/v1/chat/completions", json={"model": "m", "messages": messages, "tools": TOOLS})
    ).json()
    assert second["choices"][0]["message"]["content"] == (
        "- get_current_time: the time in UTC is 2026-11-23T10:00:00+00:00"
    )


async def test_openai_stream_is_server_sent_events_ending_with_done(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions", json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    )
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text.startswith("I am mcpstack's LLM stand-in")


async def test_background_tasks_get_json_answers(client: httpx.AsyncClient) -> None:
    body = {
        "model": "m",
        "stream": False,
        "messages": [{"role": "user", "content": '### Task:\nGenerate a title. Output JSON: { "title": "..." }'}],
    }
    content = (await client.post("/api/chat", json=body)).json()["message"]["content"]
    assert json.loads(content) == {"title": "Tool call"}


async def test_tool_results_win_over_background_task_markers(client: httpx.AsyncClient) -> None:
    prompt = (
        "### Task:\nRespond to the user query using the provided context.\n<context>\n"
        '<source id="1" name="github">{"results": [{"number": 1, "title": "Bug"}]}</source>\n</context>'
    )
    body = {"model": "m", "stream": False, "messages": [{"role": "user", "content": prompt}]}
    assert (await client.post("/api/chat", json=body)).json()["message"]["content"] == "- github: #1 Bug"
