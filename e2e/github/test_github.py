"""The GitHub path on the local stack: the reference GitHub MCP server (what runs here in place of
GitHub's official image) against the api.github.com stand-in. What is proved here, and what only a
real deployment can prove, is listed in docs/github.md."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from e2e.chat.openwebui import OpenWebUI, answer_of
from e2e.target import Target

pytestmark = pytest.mark.docker
REPOSITORY = {"owner": "octo-org", "repo": "mcpstack"}


@pytest.fixture(scope="module")
def local(target: Target):
    if target.local is None or "github-api-standin" not in target.local.catalog.services:
        pytest.fail("the GitHub suite needs the local stack with its GitHub stand-ins")
    return target.local


def received(local) -> list[dict]:
    return httpx.get(local.urls("github-api-standin")["http"] + "/_standin/requests", timeout=10).json()


def test_discovery_lists_the_github_tools(gateway: httpx.Client) -> None:
    tools = {path.strip("/") for path in gateway.get("/github/openapi.json").json()["paths"]}
    assert {"list_issues", "get_issue", "search_repositories", "create_issue"} <= tools


def test_a_tool_call_reaches_github_with_the_configured_token(gateway: httpx.Client, local) -> None:
    before = len(received(local))
    response = gateway.post("/github/list_issues", json=REPOSITORY)
    assert response.status_code == 200, response.text
    assert [issue["title"] for issue in response.json()] == [
        "Tool calls time out under load",
        "Document the sandbox's isolation layers",
    ]
    calls = received(local)[before:]
    assert [c["path"] for c in calls] == ["/repos/octo-org/mcpstack/issues"]
    token = local.secrets.value("github-token")
    assert calls[0]["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()


def test_a_chat_asks_github_through_open_webui(webui: OpenWebUI, model: str) -> None:
    completion = webui.complete("List the open issues of octo-org/mcpstack", ["server:github"], model)
    assert "Tool calls time out under load" in answer_of(completion)


def test_github_unreachable_is_a_clean_error_not_a_hang(gateway: httpx.Client, local) -> None:
    standin = local._find("github-api-standin")
    standin.stop(timeout=1)
    try:
        started = time.monotonic()
        response = gateway.post("/github/get_issue", json={**REPOSITORY, "issue_number": 1})
        assert time.monotonic() - started < 15
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "urn:mcpstack:problem:tool-error"
        assert problem["detail"] and problem["route"] == "github"
        assert local.secrets.value("github-token") not in response.text
    finally:
        standin.start()
        local.restart("github-api-standin")
        local.restart("github-local")  # it trusts the stand-in's CA, which is new on every start
    deadline = time.monotonic() + 60
    while gateway.post("/github/list_issues", json=REPOSITORY).status_code != 200:
        assert time.monotonic() < deadline, "the GitHub route did not recover"
        time.sleep(1)
