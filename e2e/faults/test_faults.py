"""Faults on the local stack that are not the gateway's own (those are in e2e/gateway): monitoring going
away must not touch the tool path. Each fault is undone before the test ends."""

from __future__ import annotations

import time

import httpx
import pytest

from e2e.chat.openwebui import OpenWebUI, answer_of
from e2e.target import Target

pytestmark = pytest.mark.docker


def test_prometheus_down_leaves_tools_and_chat_unaffected(
    target: Target, gateway: httpx.Client, webui: OpenWebUI, model: str
) -> None:
    local = target.local
    assert local is not None, "needs the local stack"
    prometheus = local._find("prometheus")
    prometheus.stop(timeout=1)
    try:
        started = time.monotonic()
        assert gateway.post("/time/get_current_time", json={"timezone": "UTC"}).status_code == 200
        assert gateway.post("/sandbox/execute_python", json={"code": "print(3)"}).json()["stdout"] == "3\n"
        assert "the time in UTC is" in answer_of(webui.complete("What time is it?", ["server:time"], model))
        assert gateway.get("/ready").status_code == 200
        assert time.monotonic() - started < 20
    finally:
        prometheus.start()
        local.restart("prometheus")
