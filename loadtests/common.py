"""What every locustfile shares: settings from the runner (environment variables), the virtual user that calls the
gateway as one end user with correlation IDs, its paced tool-call mix, and the recorder of every request.

A virtual user is one person chatting with tools through Open WebUI: a tool call, then a think time (the LLM
generating, the person reading and typing), and so on. The gateway (uvicorn) closes a connection idle for 5 s, so
during a long think time the user sends `GET /health` on its connection every LOADTEST_KEEPALIVE seconds: the
connection stays open, as 100 concurrent connections require, and the health objective is measured under load.
"""

# ruff: noqa: S311 - random picks load, not secrets
from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

from loadtests.tool_inputs import DISCOVERY_ROUTES, SNIPPETS, TIMEZONES

RUN = os.environ.get("LOADTEST_RUN", "lt")
KEY = os.environ.get("LOADTEST_KEY", "")
RECORD = os.environ.get("LOADTEST_RECORD", "")
THINK_MIN = float(os.environ.get("LOADTEST_THINK_MIN", "8"))
THINK_MAX = float(os.environ.get("LOADTEST_THINK_MAX", "16"))
KEEPALIVE = float(os.environ.get("LOADTEST_KEEPALIVE", "3"))
# Seconds after every user was started (spawning complete) when the run stops: the measured window and a tail in
# which its last requests finish. Unset: locust's --run-time (or the load shape) ends the run.
STOP_AFTER = float(os.environ.get("LOADTEST_STOP_AFTER") or 0)
UNFINISHED = "unfinished: no answer when the run stopped"
# Each virtual user sends an id of its own (a per-user bucket inside its client's share) when the client forwards users
FORWARDS_USERS = bool(os.environ.get("LOADTEST_FORWARDS_USERS"))

Check = Callable[[Any], str | None]  # response -> problem, or None when the answer is right


class Recorder:
    """Every request (start time, endpoint, latency, status, outcome, user, correlation ID) and the user count each
    second, written as JSON when locust quits: the runner computes everything from this, not from locust's stats."""

    def __init__(self) -> None:
        self.requests: list[list[Any]] = []
        self.users: list[tuple[float, int]] = []
        self.spawned: list[tuple[float, int]] = []
        self.steps: list[dict[str, Any]] = []
        self.pending: dict[str, float] = {}  # correlation ID -> start, of requests waiting for their answer
        self.errors: list[list[Any]] = []  # exceptions that escaped a task: [time, user class, message]

    def on_request(self, name: str, response_time: float, exception: Any, context: dict, start_time: float, **kw: Any):
        response = kw.get("response")
        status = getattr(response, "status_code", 0) or 0
        error = None if exception is None else str(exception)[:200]
        self.pending.pop(context.get("cid"), None)
        self.requests.append(
            [
                round(start_time, 4),
                name,
                round(response_time, 2),
                status,
                error,
                context.get("user"),
                context.get("cid"),
            ]
        )

    def unfinished(self, start: float, name: str, user: Any, cid: str) -> None:
        """A request still waiting for its answer when the run stopped: a failure, with the time it had waited so
        far as its latency (a lower bound), so that the slowest requests are never silently left out."""
        self.requests.append([round(start, 4), name, round((time.time() - start) * 1000, 2), 0, UNFINISHED, user, cid])

    def sample_users(self, environment: Environment) -> None:
        while True:
            runner = environment.runner
            if runner is not None:
                self.users.append((round(time.time(), 3), runner.user_count))
            gevent.sleep(1.0)

    def write(self, path: str) -> None:
        document = {
            "requests": self.requests,
            "users": self.users,
            "spawned": self.spawned,
            "steps": self.steps,
            "errors": self.errors,
        }
        Path(path).write_text(json.dumps(document, separators=(",", ":")))


recorder = Recorder()


@events.init.add_listener
def _start_recording(environment: Environment, **_: Any) -> None:
    environment.events.request.add_listener(recorder.on_request)

    def spawned(user_count: int) -> None:
        first = not recorder.spawned
        recorder.spawned.append((round(time.time(), 3), user_count))
        if first and STOP_AFTER > 0 and environment.runner is not None:
            gevent.spawn_later(STOP_AFTER, environment.runner.quit)

    environment.events.spawning_complete.add_listener(spawned)
    environment.events.user_error.add_listener(
        lambda user_instance, exception, tb: recorder.errors.append(
            [round(time.time(), 3), type(user_instance).__name__, f"{type(exception).__name__}: {exception}"[:200]]
        )
    )
    gevent.spawn(recorder.sample_users, environment)


@events.quitting.add_listener
def _write_record(environment: Environment, **_: Any) -> None:
    if RECORD:
        recorder.write(RECORD)


_numbers = itertools.count(1)


class GatewayUser(FastHttpUser):
    """One end user of the gateway, on one connection of its own. Subclasses pick what to call."""

    abstract = True
    concurrency = 1  # one connection per user: users == connections
    connection_timeout = 10.0
    network_timeout = 40.0  # the gateway's own time limit is 30 s
    wait_time = constant(0)  # pacing is the think time inside each cycle (think())
    think_min = THINK_MIN
    think_max = THINK_MAX
    start_paused = True

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.user_id = f"{RUN}-u{self.number}"
        self.sequence = 0
        self.base_headers = {"Authorization": f"Bearer {KEY}"}
        if FORWARDS_USERS:
            self.base_headers["X-OpenWebUI-User-Id"] = self.user_id
        if self.start_paused:
            self.health()  # connect, as a client checks a server before using it
            self.pause(random.uniform(0, self.think_max))  # users join mid-conversation: calls spread evenly

    def context(self) -> dict[str, Any]:
        return {"user": getattr(self, "number", None)}

    # -- one request -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        body: Any = None,
        check: Check | None = None,
        expect: tuple[int, ...] = (200,),
        auth: bool = True,
    ) -> Any:
        """One request with its own correlation ID; a failure unless the status is expected, the gateway echoed the
        ID and `check` finds nothing wrong with the answer."""
        self.sequence += 1
        cid = f"{self.user_id}-{self.sequence}"
        headers = {**(self.base_headers if auth else {}), "X-Request-ID": cid}
        recorder.pending[cid] = time.time()
        try:
            return self._request(method, path, name, headers, body, cid, check, expect)
        finally:
            started = recorder.pending.pop(cid, None)
            if started is not None:  # no request event: the run stopped (the user was killed) while it waited
                recorder.unfinished(started, name, self.number, cid)

    def _request(
        self, method: str, path: str, name: str, headers: dict, body: Any, cid: str, check: Check | None, expect: tuple
    ) -> Any:
        with self.client.request(
            method, path, name=name, headers=headers, json=body, catch_response=True, context={"cid": cid}
        ) as response:
            problem = None
            if response.status_code not in expect:
                problem = f"HTTP {response.status_code}: {(response.text or '')[:160]}"
            elif response.headers is not None and response.headers.get("x-request-id") != cid:
                problem = "the correlation ID was not echoed in X-Request-ID"
            elif check is not None:
                problem = check(response)
            if problem:
                response.failure(problem)
            else:
                response.success()
            return response

    # -- the tool mix --------------------------------------------------------------------------------

    def current_time(self) -> None:
        zone = random.choice(TIMEZONES)
        self.call(
            "POST",
            "/time/get_current_time",
            "time/get_current_time",
            body={"timezone": zone},
            check=lambda r: None if r.json().get("timezone") == zone else f"wrong answer: {r.text[:120]}",
        )

    def convert_time(self) -> None:
        source, target = random.sample(TIMEZONES, 2)
        self.call(
            "POST",
            "/time/convert_time",
            "time/convert_time",
            body={"source_timezone": source, "time": f"{random.randint(0, 23):02d}:30", "target_timezone": target},
            check=lambda r: None if "target" in r.json() else f"wrong answer: {r.text[:120]}",
        )

    def reference_time(self) -> None:
        self.call(
            "POST",
            "/time-reference/get_current_time",
            "time-reference/get_current_time",
            body={"timezone": random.choice(TIMEZONES)},
            check=lambda r: None if "datetime" in r.json() else f"wrong answer: {r.text[:120]}",
        )

    def run_code(self) -> None:
        code, printed = random.choice(SNIPPETS)

        def check(response: Any) -> str | None:
            answer = response.json()
            if answer.get("exit_code") != 0 or answer.get("stdout", "").strip() != printed:
                return f"wrong answer: {response.text[:160]}"
            return None

        self.call("POST", "/sandbox/execute_python", "sandbox/execute_python", body={"code": code}, check=check)

    def discover(self) -> None:
        route = random.choice(DISCOVERY_ROUTES)
        self.call(
            "GET",
            f"/{route}/openapi.json",
            f"{route}/openapi.json",
            check=lambda r: None if r.json().get("paths") else "no tools in the spec",
        )

    def health(self) -> None:
        self.call(
            "GET",
            "/health",
            "health",
            auth=False,
            check=lambda r: None if r.json().get("status") == "ok" else f"unhealthy: {r.text[:80]}",
        )

    # weight per cycle: what an LLM calls for a user, plus discovery and a health probe now and then
    MIX: tuple[tuple[str, int], ...] = (
        ("current_time", 35),
        ("convert_time", 15),
        ("reference_time", 10),
        ("run_code", 20),
        ("discover", 10),
        ("health", 10),
    )

    def think(self) -> None:
        self.pause(random.uniform(self.think_min, self.think_max))

    def pause(self, seconds: float) -> None:
        """Wait, keeping the connection open with a health probe every KEEPALIVE seconds."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if KEEPALIVE > 0 and remaining > KEEPALIVE:
                gevent.sleep(KEEPALIVE)
                self.health()
            else:
                gevent.sleep(remaining)


class Chatting(GatewayUser):
    """A person chatting with tools: one call of the weighted mix, then a think time. The task lives here, not on
    GatewayUser: locust adds a base class's tasks to every subclass's, so a user with other tasks (the noisy client)
    must not inherit it."""

    abstract = True

    @task
    def cycle(self) -> None:
        names, weights = zip(*self.MIX, strict=True)
        getattr(self, random.choices(names, weights)[0])()
        self.think()
