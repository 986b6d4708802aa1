"""The stand-in's HTTP APIs, as Open WebUI 0.12.4 calls them: native function calling round trips, streamed
and not, over the OpenAI and the Ollama API."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from servers.llm_standin.app import create_app
from servers.llm_standin.tests.specs import BUILT_IN, PLATFORM

SEED = "Run fibonacci(10) and tell me the time"
TOOLS = BUILT_IN + PLATFORM
RESULTS = {
    "tool_execute_python_post": '{"stdout": "55\\n", "stderr": "", "exit_code": 0, "timed_out": false}',
    "tool_get_current_time_post": '{"timezone": "UTC", "datetime": "2026-11-30T10:00:00+00:00", "is_dst": false}',
}


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=create_app(["llama3.2:3b"]))
    async with httpx.AsyncClient(transport=transport, base_url="http://standin") as http:
        yield http


async def test_models_keep_their_id_and_are_shown_as_a_test_double(client: httpx.AsyncClient) -> None:
    tag = (await client.get("/api/tags")).json()["models"][0]
    assert (tag["model"], tag["name"]) == ("llama3.2:3b", "llama3.2:3b (test double)")
    model = (await client.get("/v1/models")).json()["data"][0]
    assert (model["id"], model["name"]) == ("llama3.2:3b", "llama3.2:3b (test double)")
    assert "version" in (await client.get("/api/version")).json()


def openai_stream_message(text: str) -> tuple[dict[str, Any], str]:
    """The assistant message of a streamed completion, tool-call deltas merged by index as Open WebUI does."""
    events = [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    content, calls, finish = "", {}, None
    for event in events[:-1]:
        choice = json.loads(event)["choices"][0]
        content += choice["delta"].get("content") or ""
        for delta in choice["delta"].get("tool_calls") or []:
            call = calls.setdefault(delta["index"], {"id": None, "function": {"name": "", "arguments": ""}})
            call["id"] = delta.get("id") or call["id"]
            call["function"]["name"] += delta.get("function", {}).get("name") or ""
            call["function"]["arguments"] += delta.get("function", {}).get("arguments") or ""
        finish = choice["finish_reason"] or finish
    message = {"role": "assistant", "content": content, "tool_calls": [calls[i] for i in sorted(calls)]}
    return message, finish


@pytest.mark.parametrize("stream", [True, False])
async def test_openai_native_round_trip_calls_both_tools_then_answers_from_both(
    client: httpx.AsyncClient, stream: bool
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": SEED}]
    body = {"model": "llama3.2:3b", "stream": stream, "tools": TOOLS, "messages": messages}
    response = await client.post("/v1/chat/completions", json=body)
    if stream:
        assistant, finish = openai_stream_message(response.text)
    else:
        choice = response.json()["choices"][0]
        assistant, finish = choice["message"], choice["finish_reason"]
    assert finish == "tool_calls"
    calls = assistant["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["tool_execute_python_post", "tool_get_current_time_post"]
    assert len({c["id"] for c in calls}) == 2
    assert json.loads(calls[1]["function"]["arguments"]) == {"timezone": "UTC"}
    # Open WebUI's follow-up: the tool results as `tool` messages, with the call ids only (no names)
    messages += [assistant] + [
        {"role": "tool", "tool_call_id": c["id"], "content": RESULTS[c["function"]["name"]]} for c in calls
    ]
    second = await client.post("/v1/chat/completions", json={**body, "messages": messages})
    answer = openai_stream_message(second.text)[0]["content"] if stream else second.json()["choices"][0]["message"]
    text = answer if stream else answer["content"]
    assert text == (
        "fibonacci(10) = 55 (computed in the sandbox).\n\nRight now the time in UTC is 2026-11-30T10:00:00+00:00."
    )


async def test_ollama_native_stream_carries_distinct_indexed_calls(client: httpx.AsyncClient) -> None:
    body = {"model": "llama3.2:3b", "tools": TOOLS, "messages": [{"role": "user", "content": SEED}]}
    lines = [json.loads(line) for line in (await client.post("/api/chat", json=body)).text.splitlines()]
    assert lines[-1]["done"] is True
    calls = [call for line in lines for call in line["message"].get("tool_calls", [])]
    assert [(c["function"]["index"], c["function"]["name"]) for c in calls] == [
        (0, "tool_execute_python_post"),
        (1, "tool_get_current_time_post"),
    ]
    assert calls[1]["function"]["arguments"] == {"timezone": "UTC"} and calls[0]["id"] != calls[1]["id"]
    # the follow-up as Open WebUI converts it for Ollama: arguments as objects, tool messages by call id
    messages = [
        body["messages"][0],
        {"role": "assistant", "content": "", "tool_calls": calls},
        *({"role": "tool", "tool_call_id": c["id"], "content": RESULTS[c["function"]["name"]]} for c in calls),
    ]
    second = await client.post("/api/chat", json={**body, "stream": False, "messages": messages})
    assert "fibonacci(10) = 55" in second.json()["message"]["content"]


async def test_ollama_chat_without_tools_streams_the_self_description(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"model": "m", "messages": [{"role": "user", "content": "hello"}]})
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert "".join(line["message"]["content"] for line in lines).startswith("I am mcpstack's LLM stand-in")


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
        '<source id="1" name="server:github/tool_list_issues_post">'
        '{"results": [{"number": 1, "title": "Bug"}]}</source>\n</context>'
    )
    body = {"model": "m", "stream": False, "messages": [{"role": "user", "content": prompt}]}
    assert (await client.post("/api/chat", json=body)).json()["message"]["content"] == (
        "The list_issues tool found 1 issue: #1 Bug."
    )
