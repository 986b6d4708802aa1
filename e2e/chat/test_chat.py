"""The whole flow of the design, on real containers: user -> Open WebUI -> LLM -> tool calls -> gateway
-> MCP servers -> answer, in Open WebUI's default (native) function calling as the browser drives it
(`OpenWebUI.ask`), and in its legacy function calling (`OpenWebUI.complete`). Against a real LLM these hold as
long as it "calls the obvious tool"; locally the LLM is the stand-in test double (servers/llm_standin)."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from e2e.chat.openwebui import OpenWebUI, OpenWebUIError, answer_of
from e2e.target import Target
from mcpstack.catalog.models import LlmService, OpenWebUIService
from mcpstack.generate.open_webui import tool_ids

pytestmark = pytest.mark.chat
SEED = "Run fibonacci(10) and tell me the time"
FIB_CODE = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint(fib(10))"
CODE_AND_TOKYO = f"Run this:\n```python\n{FIB_CODE}\n```\nand tell me the time in Asia/Tokyo."
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


def current_moment(answer: str) -> datetime:
    """The first timestamp of an answer, checked to be now (within 2 minutes)."""
    stamps = TIMESTAMP.findall(answer)
    assert stamps, f"no timestamp in the answer: {answer!r}"
    moment = datetime.fromisoformat(stamps[0])
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=2), answer
    return moment


def open_webui_name(target: Target) -> str:
    return next(n for n, s in target.catalog.services.items() if isinstance(s, OpenWebUIService))


@pytest.mark.smoke
def test_open_webui_offers_the_platforms_tools_switched_on(webui: OpenWebUI, model: str, target: Target) -> None:
    """A new chat starts with the platform's tools on (the model's default tools), test-only routes not offered."""
    offered = tool_ids(target.catalog, open_webui_name(target))
    hidden = {f"server:{r}" for r, route in target.gateway.gateway.routes.items() if not route.offer_to_users}
    assert set(webui.tool_ids()) == set(offered)
    assert webui.default_tool_ids(model) == offered
    assert hidden and not hidden & set(webui.tool_ids())


def test_the_model_says_whether_it_is_a_test_double(webui: OpenWebUI, model: str, target: Target) -> None:
    entry = next(m for m in webui.model_entries() if m["id"] == model)
    llm = target.catalog.services[target.catalog.services[open_webui_name(target)].open_webui.llm]
    assert isinstance(llm, LlmService)
    description = entry["info"]["meta"]["description"]
    if llm.local_only:  # the stand-in in place of Ollama
        assert entry["name"] == f"{model} (test double)" and "TEST DOUBLE" in description
    else:
        assert entry["name"] == model and "test double" not in description.lower()


@pytest.mark.smoke
def test_the_seed_sentence_in_open_webuis_default_mode(webui: OpenWebUI, model: str) -> None:
    """'Run fibonacci(10) and tell me the time' (default mode): the answer has the sandbox's output and a current time.

    Sent as the browser sends it: native function calling, the model's default tools, a new chat."""
    turn = webui.ask(SEED, model)
    assert len(turn.rounds) == 1, f"expected both calls in one turn: {turn.rounds}"
    assert sorted(name.removesuffix("_post") for name in turn.rounds[0]) == [
        "tool_execute_python",
        "tool_get_current_time",
    ]
    assert json.loads(turn.run_of("execute_python").output)["stdout"] == "55\n"  # the sandbox really ran it
    clock = json.loads(turn.run_of("get_current_time").output)
    assert re.search(r"\b55\b", without_times(turn.answer)), turn.answer
    current_moment(turn.answer)
    assert clock["datetime"] in turn.answer


def test_a_code_block_runs_as_written_and_the_time_is_tokyos(webui: OpenWebUI, model: str) -> None:
    turn = webui.ask(CODE_AND_TOKYO, model)
    code = turn.run_of("execute_python")
    assert code.arguments == {"code": FIB_CODE + "\n"}
    assert json.loads(code.output)["stdout"] == "55\n"
    assert turn.run_of("get_current_time").arguments == {"timezone": "Asia/Tokyo"}
    assert "55" in turn.answer
    assert current_moment(turn.answer).utcoffset() == timedelta(hours=9)


def test_a_tool_error_is_a_readable_sentence(webui: OpenWebUI, model: str) -> None:
    started = time.monotonic()
    turn = webui.ask("What time is it in Mars/Olympus?", model)
    assert time.monotonic() - started < 30
    assert turn.run_of("get_current_time").status == "failed"
    assert "Invalid timezone" in turn.answer and "Mars/Olympus" in turn.answer
    assert not re.search(r"[{}]|urn:mcpstack|correlation", turn.answer), f"a dump, not a sentence: {turn.answer}"


def test_the_chat_users_identity_reaches_the_gateway_and_its_tenant_applies(
    webui: OpenWebUI, model: str, target: Target
) -> None:
    email, password = f"guest-{uuid.uuid4().hex[:6]}@guest.example.com", uuid.uuid4().hex
    webui.add_user(email, password, name="Guest")
    guest = OpenWebUI.sign_in(webui.url, email, password)
    try:
        denied_before = denied_guest_calls(target)
        turn = guest.ask(SEED, model)
    finally:
        guest.close()
    current_moment(turn.answer)  # guests may use the time tools
    # but not the sandbox: refused by the gateway as tenant "guests", and said so in the answer
    assert turn.run_of("execute_python").status == "failed"
    assert "refused" in turn.answer and not re.search(r"\b55\b", without_times(turn.answer)), turn.answer
    assert denied_guest_calls(target) == denied_before + 1


TIMES = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?|\b\d{1,2}:\d{2}(?::\d{2})?\b")


def without_times(text: str) -> str:
    """The answer without its timestamps: 03:55:37 must not pass for (or hide) fibonacci(10)'s 55."""
    return TIMES.sub("<time>", text)


def denied_guest_calls(target: Target) -> float:
    metrics = httpx.get(f"{target.gateway_url}/metrics", timeout=10).text
    line = next(
        (ln for ln in metrics.splitlines() if ln.startswith('gateway_denied_total{reason="tenant",tenant="guests"}')),
        None,
    )
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


def test_legacy_function_calling_fibonacci_and_the_time(webui: OpenWebUI, model: str) -> None:
    """Legacy mode (`params.function_calling: legacy`): Open WebUI asks the LLM for a JSON tool choice."""
    completion = webui.complete(FIBONACCI, ["server:sandbox", "server:time"], model)
    results = tool_results(completion)
    code = next(text for name, text in results.items() if "execute_python" in name)
    clock = next(text for name, text in results.items() if "current_time" in name)
    assert '"stdout": "55\\n"' in code  # the sandbox really ran the code
    answer = answer_of(completion)
    assert "55" in answer
    moment = current_moment(answer)
    assert moment.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Berlin, winter or summer
    assert TIMESTAMP.findall(answer)[0] in clock


def test_legacy_function_calling_tool_error(webui: OpenWebUI, model: str) -> None:
    started = time.monotonic()
    completion = webui.complete("What time is it in Mars/Olympus?", ["server:time"], model)
    assert time.monotonic() - started < 30
    answer = answer_of(completion)
    assert "reported an error" in answer and "Mars/Olympus" in answer
    assert "{" not in answer, answer


@pytest.mark.docker  # restarts a container
def test_chats_survive_an_open_webui_restart(webui: OpenWebUI, model: str, target: Target) -> None:
    if target.local is None:
        pytest.fail("restarting Open WebUI needs a local stack")
    turn = webui.ask("What time is it?", model)  # a chat Open WebUI itself stored
    target.local.restart("open-webui")
    assert target.open_webui is not None
    again = OpenWebUI.sign_in(target.local.url("open-webui"), target.open_webui.email, target.open_webui.password)
    try:
        saved = again.chat(turn.chat_id)
    except OpenWebUIError as exc:
        pytest.fail(f"the chat is gone after the restart: {exc}")
    finally:
        again.close()
    messages = saved["chat"]["history"]["messages"]
    assert [m["content"] for m in messages.values()] == ["What time is it?", turn.answer]
    assert current_moment(turn.answer)
