"""Only the gateway may call our MCP servers (issue 14, finding 4): the token file and MCP_AUTH settings, and the
shared HTTP app on a real loopback port refusing MCP requests without an accepted bearer token on both transports,
while /health and /metrics stay open."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from servers.common.http import build_http_app
from servers.common.tests.authorized import bearer, mcp_client
from servers.common.tests.serving import Serve, scraped
from servers.common.tests.test_http import echo_server
from servers.common.upstream_auth import (
    MODE_VARIABLE,
    TOKEN_FILE_VARIABLE,
    UpstreamAuth,
    UpstreamAuthError,
    from_env,
)

TOKEN = "gateway-token-0123456789abcdef"
NEXT_TOKEN = "gateway-token-next-fedcba9876543210"  # a rotation: the new token is accepted next to the old one
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(f"{TOKEN}\n\n{NEXT_TOKEN}\n")
    return path


@pytest.fixture
def base(serve: Serve, token_file: Path) -> str:
    auth = from_env({TOKEN_FILE_VARIABLE: str(token_file)})
    return serve(build_http_app(echo_server(), registry=CollectorRegistry(), auth=auth))


def call(base: str, **headers: str) -> httpx.Response:
    return httpx.post(base + "/mcp", json=CALL, headers={**MCP_HEADERS, **headers}, timeout=10)


# --- settings -----------------------------------------------------------------------------------


def test_every_line_of_the_token_file_is_an_accepted_token(token_file: Path) -> None:
    auth = from_env({TOKEN_FILE_VARIABLE: str(token_file)})
    assert auth.required and auth.tokens == (TOKEN.encode(), NEXT_TOKEN.encode())
    assert auth.source == str(token_file)


def test_several_files_add_up(tmp_path: Path, token_file: Path) -> None:
    other = tmp_path / "other"
    other.write_text("a-third-token-0123456789")
    auth = from_env({TOKEN_FILE_VARIABLE: f"{token_file}, {other}"})
    assert auth.refusal([(b"authorization", b"Bearer a-third-token-0123456789")]) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read the token file"),
        ("", "is empty"),
        ("\n  \n", "is empty"),
        ("short\n", "token 1 of"),
        (f"{TOKEN}\nhas a space in it 0123456789\n", "token 2 of"),
    ],
)
def test_an_unusable_token_file_stops_the_server_naming_the_file(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UpstreamAuthError) as refused:
        from_env({TOKEN_FILE_VARIABLE: str(path)})
    assert problem in str(refused.value) and str(path) in str(refused.value)
    assert "0123456789" not in str(refused.value)  # never the token itself


def test_without_a_token_file_only_an_explicit_mcp_auth_none_starts_an_open_server() -> None:
    with pytest.raises(UpstreamAuthError, match=f"set {TOKEN_FILE_VARIABLE}"):
        from_env({})
    assert from_env({MODE_VARIABLE: "none"}) == UpstreamAuth.disabled()
    with pytest.raises(UpstreamAuthError, match="the only value"):
        from_env({MODE_VARIABLE: "off"})


def test_a_token_file_and_mcp_auth_none_together_are_refused(token_file: Path) -> None:
    with pytest.raises(UpstreamAuthError, match="both set"):
        from_env({TOKEN_FILE_VARIABLE: str(token_file), MODE_VARIABLE: "none"})


def test_the_app_reads_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_FILE_VARIABLE, raising=False)
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    with pytest.raises(UpstreamAuthError):
        build_http_app(echo_server(), registry=CollectorRegistry())


def test_the_server_process_refuses_to_start_naming_the_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-token"
    env = {"PATH": "/usr/bin:/bin", TOKEN_FILE_VARIABLE: str(missing)}
    done = subprocess.run(
        [sys.executable, "-m", "servers.timeserver", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).parents[3],
    )
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and str(missing) in done.stderr


# --- over HTTP ----------------------------------------------------------------------------------


def test_a_call_without_a_credential_is_a_401_that_says_how_to_authenticate(base: str) -> None:
    response = call(base)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert "error=" not in response.headers["www-authenticate"]
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None
    assert "Unauthorized" in body["error"]["message"]


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer wrong-token-0123456789abcdef", "unknown token"),
        (f"Bearer {TOKEN}x", "unknown token"),
        (f"Bearer {TOKEN[:-1]}", "unknown token"),
        (f"Basic {TOKEN}", "not a bearer credential"),
        ("Bearer", "not a bearer credential"),
    ],
)
def test_a_wrong_credential_is_a_401_that_never_repeats_it(
    base: str, caplog: pytest.LogCaptureFixture, authorization: str, reason: str
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpstack.upstream_auth")
    response = call(base, Authorization=authorization)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert authorization.rsplit(maxsplit=1)[-1] not in response.text
    record = next(r for r in caplog.records if r.name == "mcpstack.upstream_auth")
    assert record.fields["reason"] == reason and record.fields["path"] == "/mcp"
    assert record.fields["peer"].startswith("127.0.0.1:")
    assert TOKEN[:12] not in json.dumps(record.fields) + record.getMessage()
    assert scraped(base, "mcp_unauthorized_requests_total", reason=reason) == 1


def test_two_authorization_headers_are_refused_even_if_one_is_right(base: str) -> None:
    headers = [*MCP_HEADERS.items(), ("authorization", f"Bearer {TOKEN}"), ("authorization", "Bearer other")]
    response = httpx.post(base + "/mcp", json=CALL, headers=headers, timeout=10)
    assert response.status_code == 401
    assert scraped(base, "mcp_unauthorized_requests_total", reason="several Authorization headers") == 1


@pytest.mark.parametrize("token", [TOKEN, NEXT_TOKEN])
def test_an_accepted_token_gets_the_call_through(base: str, token: str) -> None:
    response = call(base, **bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["result"]["content"][0]["text"] == "hi"


def test_sse_and_its_message_endpoint_need_the_token_too(base: str) -> None:
    with httpx.stream("GET", base + "/sse", timeout=10) as stream:
        assert stream.status_code == 401
    posted = httpx.post(base + "/messages/?session_id=0123456789abcdef0123456789abcdef", json=CALL, timeout=10)
    assert posted.status_code == 401


async def test_mcp_clients_with_the_token_work_on_both_transports(base: str) -> None:
    async with mcp_client(base + "/mcp", TOKEN) as client:
        over_http = await client.call_tool("echo", {"text": "via /mcp"})
    async with mcp_client(base + "/sse", NEXT_TOKEN) as client:
        over_sse = await client.call_tool("echo", {"text": "via /sse"})
    assert over_http.content[0].text == "via /mcp"
    assert over_sse.content[0].text == "via /sse"


def test_health_and_metrics_need_no_token(base: str) -> None:
    assert httpx.get(base + "/health").status_code == 200
    assert httpx.get(base + "/metrics").status_code == 200


def test_unknown_paths_are_refused_before_anything_else(base: str) -> None:
    assert httpx.get(base + "/anything").status_code == 401
    assert httpx.get(base + "/anything", headers=bearer(TOKEN)).status_code == 404


def test_the_credential_is_checked_before_the_host(base: str) -> None:
    """A rebinding page learns nothing: without the token even a foreign Host gets the 401, not the 421."""
    assert call(base, Host="evil.example.com").status_code == 401
    assert call(base, Host="evil.example.com", **bearer(TOKEN)).status_code == 421
