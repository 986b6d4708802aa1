"""The load generator's own ceiling (`mcpstack bench loadgen`, mcpstack/capacity/ceiling.py): closed-loop users
(no think time) against a trivial local endpoint (loadtests/trivial_server.py), so the figure is what one locust
process can drive on this machine."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

import loadtests.common  # noqa: F401 - the recorder


class Flood(FastHttpUser):
    concurrency = 1
    wait_time = constant(0)

    @task
    def trivial(self) -> None:
        self.client.get("/", name="trivial")
