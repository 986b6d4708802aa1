"""The whole flow of the design, on real containers: user -> Open WebUI -> LLM -> tool calls -> gateway
-> MCP servers -> answer. Against a real LLM these hold as long as it "calls the obvious tool"; locally
the LLM is the stand-in test double (servers/llm_standin)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from e2e.chat.openwebui import OpenWebUI, OpenWebUIError, answer_of
from e2e.target import Target

pytestmark = pytest.mark.chat
FIBONACCI = (
    "Run fibonacci(10):\n```python\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    "print(fib(10))\n```\nand tell me the time in Europe/Berlin."
)
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def tool_results(completion: dict) -> dict[str, str]:
    """Tool name -> result Open WebUI obtained from the gateway (its `sources` with tool_result)."""
    return {
        source["source"]["name"]: source["document"][0]
        for source in completion.get("sources", [])
        if source.get("tool_result")
    }


def test_every_gateway_route_is_a_tool_server_in_open_webui(webui: OpenWebUI, target: Target) -> None:
    assert set(webui.tool_ids()) == {f"server:{route}" for route in target.gateway.gateway.routes}


@pytest.mark.smoke
def test_fibonacci_and_the_time_come_back_from_the_real_tools(webui: OpenWebUI, model: str) -> None:
    """'Run fibonacci(10) and tell me the time': the answer has the sandbox's output and a current time."""
    completion = webui.complete(FIBONACCI, ["server:sandbox", "server:time"], model)
    results = tool_results(completion)
    code = next(text for name, text in results.items() if "execute_python" in name)
    clock = next(text for name, text in results.items() if "current_time" in name)
    assert '"stdout": "55\\n"' in code  # the sandbox really ran the code
    answer = answer_of(completion)
    assert "55" in answer
    stamps = TIMESTAMP.findall(answer)
    assert stamps, answer
    moment = datetime.fromisoformat(stamps[0])
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=2)
    assert moment.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Berlin, winter or summer
    assert stamps[0] in clock


def test_a_tool_error_reaches_the_answer_as_an_error_without_hanging(webui: OpenWebUI, model: str) -> None:
    started = time.monotonic()
    completion = webui.complete("What time is it in Mars/Olympus?", ["server:time"], model)
    assert time.monotonic() - started < 30
    answer = answer_of(completion)
    assert "error" in answer.lower()
    assert "Mars/Olympus" in answer


def test_the_chat_users_identity_reaches_the_gateway_and_its_tenant_applies(
    webui: OpenWebUI, model: str, target: Target
) -> None:
    email, password = f"guest-{uuid.uuid4().hex[:6]}@guest.example.com", uuid.uuid4().hex
    webui.add_user(email, password, name="Guest")
    guest = OpenWebUI.sign_in(webui.url, email, password)
    try:
        denied_before = denied_guest_calls(target)
        clock = guest.complete("What time is it?", ["server:time"], model)
        code = guest.complete("```python\nprint(6 * 7)\n```", ["server:sandbox"], model)
    finally:
        guest.close()
    assert TIMESTAMP.search(answer_of(clock))  # guests may use the time tools
    # but not the sandbox: no "42" of its output (as a word: the error's correlation ID is hex and may contain 42)
    assert not re.search(r"\b42\b", answer_of(code)) and "error" in answer_of(code).lower()
    assert denied_guest_calls(target) == denied_before + 1  # refused by the gateway as tenant "guests"


def denied_guest_calls(target: Target) -> float:
    metrics = httpx.get(f"{target.gateway_url}/metrics", timeout=10).text
    line = next(
        (ln for ln in metrics.splitlines() if ln.startswith('gateway_denied_total{reason="tenant",tenant="guests"}')),
        None,
    )
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


@pytest.mark.docker  # restarts a container
def test_chats_survive_an_open_webui_restart(webui: OpenWebUI, model: str, target: Target) -> None:
    if target.local is None:
        pytest.fail("restarting Open WebUI needs a local stack")
    completion = webui.complete("What time is it?", ["server:time"], model)
    chat_id = webui.save_chat("persistence check", "What time is it?", answer_of(completion), model)
    target.local.restart("open-webui")
    assert target.open_webui is not None
    again = OpenWebUI.sign_in(target.local.url("open-webui"), target.open_webui.email, target.open_webui.password)
    try:
        saved = again.chat(chat_id)
    except OpenWebUIError as exc:
        pytest.fail(f"the chat is gone after the restart: {exc}")
    finally:
        again.close()
    contents = [m["content"] for m in saved["chat"]["messages"]]
    assert contents == ["What time is it?", answer_of(completion)]
