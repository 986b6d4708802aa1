"""The rate-limit scenario: the SLO scenario's users, plus one noisy client - an end user of the same client
calling a tool LOADTEST_NOISY_RATE times a second, several times its per-user limit. The gateway must answer it 429
(problem+json, Retry-After) beyond its bucket while every other user stays within the objectives."""

from __future__ import annotations

import os

from locust import constant_throughput, task

from loadtests.common import Chatting, GatewayUser

NOISY_RATE = float(os.environ.get("LOADTEST_NOISY_RATE", "10"))
NOISY = "noisy time/get_current_time"


class ChatUser(Chatting):
    weight = 100


class NoisyUser(GatewayUser):
    fixed_count = 1  # spawned first, before the chat users
    start_paused = False
    wait_time = constant_throughput(NOISY_RATE)

    def on_start(self) -> None:
        super().on_start()
        self.user_id = f"{self.user_id}-noisy"
        if "X-OpenWebUI-User-Id" in self.base_headers:
            self.base_headers["X-OpenWebUI-User-Id"] = self.user_id

    @task
    def cycle(self) -> None:
        def check(response) -> str | None:
            if response.status_code == 429:
                retry = response.headers.get("retry-after") if response.headers else None
                if not retry or not retry.isdigit() or int(retry) < 1:
                    return f"429 without a valid Retry-After ({retry!r})"
                if response.json().get("type") != "urn:mcpstack:problem:rate-limited":
                    return f"429 that is not a rate-limited problem: {response.text[:120]}"
            return None

        self.call("POST", "/time/get_current_time", NOISY, body={"timezone": "UTC"}, expect=(200, 429), check=check)
