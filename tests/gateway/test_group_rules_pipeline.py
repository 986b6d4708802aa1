"""Tenant rules on groups through the gateway pipeline: a call whose tenant depends on groups that Open WebUI
cannot answer fails closed with 503 `identity-unavailable`; a call decided before any group rule never needs Open
WebUI. (e2e/gateway/test_groups.py: the same against a real Open WebUI. The MCP front, mcp_front.py, calls the
same TenantPolicy.identify; it imports the image's MCP SDK, so it is exercised in the Docker suites only.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from servers.gateway.metrics import GatewayMetrics
from servers.gateway.settings import GatewaySettings
from tests.gateway.conftest import free_port
from tests.gateway.stub_mcpo import ACME_USER, assert_problem, build, stub_upstreams, user


def grouped_settings(settings: GatewaySettings, tmp_path: Path) -> GatewaySettings:
    """The settings with a `research` tenant matching a group, after acme's e-mail rule; Open WebUI unreachable."""
    (tmp_path / "directory-key").write_text("sk-directory-0123456789\n")
    research = {"name": "research", "match": {"groups": ["Research Team"]}, "tools": {"time": "*"}}
    grouped = GatewaySettings.model_validate(
        {
            **settings.model_dump(),
            "tenants": [*settings.model_dump()["tenants"], research],
            "user_directory": {
                "url": f"http://127.0.0.1:{free_port()}",  # nothing listens there
                "key_file": str(tmp_path / "directory-key"),
                "timeout_seconds": 1,
            },
        }
    )
    return grouped


@pytest.fixture
async def front(settings: GatewaySettings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = build(grouped_settings(settings, tmp_path), stub_upstreams(), GatewayMetrics())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http


async def test_an_unanswerable_group_decision_fails_closed(front: httpx.AsyncClient) -> None:
    member = user("m-1", "m@elsewhere.test")
    openapi = await front.post("/time/get_current_time", json={"timezone": "UTC"}, headers=member)
    body = assert_problem(openapi, 503, "identity-unavailable")
    assert openapi.headers["retry-after"] == "5" and "ConnectError" in body["detail"]
    assert "sk-directory" not in openapi.text


async def test_a_decision_before_any_group_rule_does_not_need_open_webui(front: httpx.AsyncClient) -> None:
    answer = await front.post("/time/get_current_time", json={"timezone": "UTC"}, headers=ACME_USER)
    assert answer.status_code == 200, answer.text


async def test_the_gateways_shutdown_closes_the_directorys_connections(
    settings: GatewaySettings, tmp_path: Path
) -> None:
    app = build(grouped_settings(settings, tmp_path), {}, GatewayMetrics())  # no upstreams to supervise
    directory = app.policy.directory
    assert directory is not None and not directory.closed
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert directory.closed
