"""Real Open WebUI users chatting with tools: the load enters by Open WebUI's front door, not the gateway's.

Before the users start, the admin (its e-mail and password from the runner: the stack's secrets) creates a bounded
set of ordinary accounts through Open WebUI's admin API (`POST /api/v1/auths/add`), and each account signs in with
its own password (`POST /api/v1/auths/signin`) for a token of its own. Every virtual user then is one of those
people: it asks the stand-in LLM a question that needs a tool (`POST /api/chat/completions`, legacy function
calling, the route's tool server enabled), so Open WebUI itself calls the gateway with its key and the user signed
(X-OpenWebUI-User-Jwt): the gateway sees a verified user in the tenant that user's e-mail domain chooses, in a
rate-limit bucket of its own. A call counts as a success only when the tool's own result is in the answer. After
the run the accounts are deleted again. The recorded latency is one chat turn with one tool call, as a person sees
it: Open WebUI, two LLM rounds (the tool choice, the answer) and the gateway call.
"""

# ruff: noqa: S311 - random picks load, not secrets
from __future__ import annotations

import os
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

import gevent
import httpx
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

from loadtests.common import RUN, THINK_MAX, THINK_MIN, recorder
from loadtests.tool_inputs import TIMEZONES

ADMIN_EMAIL = os.environ.get("LOADTEST_WEBUI_ADMIN_EMAIL", "")
ADMIN_PASSWORD = os.environ.get("LOADTEST_WEBUI_ADMIN_PASSWORD", "")
MODEL = os.environ.get("LOADTEST_WEBUI_MODEL", "")
ACCOUNTS = int(os.environ.get("LOADTEST_WEBUI_ACCOUNTS") or "10")
DOMAIN = os.environ.get("LOADTEST_WEBUI_DOMAIN", "example.com")  # chooses the users' tenant at the gateway
MAX_ACCOUNTS = 50  # a load test never fills Open WebUI with more people than this
SNIPPETS = (("print(6 * 7)", "42"), ("print(sum(range(10)))", "45"), ("print(2 ** 10)", "1024"))
# The turns of one user, in turn (3 time, 2 code), each user starting elsewhere: every kind is asked in a short run.
ROTATION = ("time", "code", "time", "code", "time")


@dataclass(frozen=True)
class Account:
    number: int
    id: str
    email: str
    token: str


class Accounts:
    """The run's Open WebUI accounts: created and signed in before the users start, deleted when the run stops."""

    def __init__(self) -> None:
        self.signed_in: list[Account] = []
        self._next = 0
        self._admin: httpx.Client | None = None

    def create(self, host: str, count: int) -> None:
        if not 1 <= count <= MAX_ACCOUNTS:
            raise ValueError(f"LOADTEST_WEBUI_ACCOUNTS={count}: give 1 to {MAX_ACCOUNTS} accounts")
        admin_token = _sign_in(host, ADMIN_EMAIL, ADMIN_PASSWORD)
        self._admin = httpx.Client(base_url=host, timeout=30, headers={"Authorization": f"Bearer {admin_token}"})
        for number in range(1, count + 1):
            email, password = f"{RUN}-u{number}@{DOMAIN}", secrets.token_urlsafe(16)
            body = {"name": f"Load test user {number}", "email": email, "password": password, "role": "user"}
            created = self._admin.post("/api/v1/auths/add", json=body)
            if created.status_code != 200:
                raise RuntimeError(f"cannot create {email}: {created.status_code} {created.text[:200]}")
            self.signed_in.append(Account(number, created.json()["id"], email, _sign_in(host, email, password)))

    def take(self) -> Account | None:
        if self._next >= len(self.signed_in):
            return None
        self._next += 1
        return self.signed_in[self._next - 1]

    def delete(self) -> None:
        if self._admin is None:
            return
        for account in self.signed_in:
            self._admin.delete(f"/api/v1/users/{account.id}")
        self._admin.close()
        self._admin = None


def _sign_in(host: str, email: str, password: str) -> str:
    answer = httpx.post(f"{host}/api/v1/auths/signin", json={"email": email, "password": password}, timeout=30)
    if answer.status_code != 200:
        raise RuntimeError(f"cannot sign in to {host} as {email}: {answer.status_code} {answer.text[:200]}")
    return answer.json()["token"]


accounts = Accounts()


@events.test_start.add_listener
def _create_accounts(environment: Environment, **_: Any) -> None:
    accounts.create(environment.host or "", ACCOUNTS)


@events.test_stop.add_listener
def _delete_accounts(environment: Environment, **_: Any) -> None:
    accounts.delete()


def tool_results(completion: dict[str, Any]) -> dict[str, str]:
    """Tool name -> the result Open WebUI got from the gateway (its `sources` marked tool_result)."""
    return {
        str(source["source"]["name"]): str(source["document"][0])
        for source in completion.get("sources") or []
        if source.get("tool_result") and source.get("document")
    }


def answer_of(completion: dict[str, Any]) -> str:
    return str(((completion.get("choices") or [{}])[0].get("message") or {}).get("content") or "")


class WebUIChatter(FastHttpUser):
    """One Open WebUI account chatting: a question that needs a tool, a think time, and so on."""

    concurrency = 1
    connection_timeout = 10.0
    network_timeout = 90.0  # a chat turn: Open WebUI, two LLM rounds and the gateway's up to 30 s
    wait_time = constant(0)

    def on_start(self) -> None:
        account = accounts.take()
        if account is None:
            raise StopUser  # more users than accounts: the runner bounds both to the same count
        self.account = account
        self.sequence = 0
        gevent.sleep(random.uniform(0, THINK_MAX))  # people join mid-conversation: turns spread evenly

    @task
    def cycle(self) -> None:
        if ROTATION[(self.account.number + self.sequence) % len(ROTATION)] == "time":
            zone = random.choice(TIMEZONES)
            self.chat("chat/time/get_current_time", f"What time is it in {zone}?", "time", "get_current_time", zone)
        else:
            code, printed = random.choice(SNIPPETS)
            question = f"Run this:\n```python\n{code}\n```"
            self.chat("chat/sandbox/execute_python", question, "sandbox", "execute_python", printed)
        gevent.sleep(random.uniform(THINK_MIN, THINK_MAX))

    def chat(self, name: str, question: str, route: str, tool: str, expected: str) -> None:
        """One chat turn with the route's tools; a failure unless the tool's own result is in the answer."""
        self.sequence += 1
        cid = f"{RUN}-{self.account.email}-{self.sequence}"
        body = {
            "model": MODEL,
            "stream": False,
            "tool_ids": [f"server:{route}"],
            "params": {"function_calling": "legacy"},
            "messages": [{"role": "user", "content": question}],
        }
        headers = {"Authorization": f"Bearer {self.account.token}"}
        recorder.pending[cid] = time.time()
        try:
            with self.client.post(
                "/api/chat/completions",
                name=name,
                json=body,
                headers=headers,
                catch_response=True,
                context={"cid": cid, "user": self.account.email},
            ) as response:
                problem = _problem(response, tool, expected)
                if problem:
                    response.failure(problem)
                else:
                    response.success()
        finally:
            started = recorder.pending.pop(cid, None)
            if started is not None:
                recorder.unfinished(started, name, self.account.email, cid)


def _problem(response: Any, tool: str, expected: str) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {(response.text or '')[:160]}"
    completion = response.json()
    results = [text for name, text in tool_results(completion).items() if tool in name]
    if not results:
        return f"no {tool} result in the answer: {answer_of(completion)[:160]}"
    if expected not in results[0] or "error" in results[0].lower()[:40]:
        return f"{tool} did not answer as expected: {results[0][:160]}"
    return None
