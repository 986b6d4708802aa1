"""Our MCP servers trust only the gateway (issue 14, finding 4): on the real containers, a tools/call posted straight
to the time or sandbox server's published port, or from another container on the stack's network, is refused
(401) without the token the gateway's route sends (a Secret per server), and with a wrong one; with the right one it
runs; calls through the gateway, on both transports and through its MCP front, still work. Before, any of
these callers got the tool run (`POST 127.0.0.1:8001/mcp tools/call execute_python`).

A stack of its own: the catalog's time and sandbox servers and gateway only, plus a route to the time server over
SSE carrying the time route's credential."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest

from e2e.gateway.conftest import Gateway, container, variant_gateway
from mcpstack.local.containers import LABEL_STACK
from mcpstack.local.server_tokens import server_token
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import drop_route
from servers.common.tests.authorized import bearer

pytestmark = pytest.mark.docker
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
CALLS = {
    "time": {"name": "get_current_time", "arguments": {"timezone": "UTC"}},
    "sandbox": {"name": "execute_python", "arguments": {"code": "print('ran')"}},
}
WRONG_TOKEN = "not-the-gateways-token-0123456789"
# From another container on the stack's network: POST each server's /mcp by its service name, no token.
NEIGHBOUR = """
import json, sys, urllib.request, urllib.error
calls = json.loads(sys.argv[1])
for url, params in calls.items():
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "content-type": "application/json", "accept": "application/json, text/event-stream"})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            print(url, answer.status, answer.read()[:200].decode())
    except urllib.error.HTTPError as refused:
        print(url, refused.code, refused.read()[:200].decode())
"""


def gateway_and_our_servers(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    removed = {name for name, value in overlay.get("services", {}).items() if value is None}
    keep = {"time", "sandbox", "mcpo", *removed}
    overlay["local"]["skip"] = sorted(name for name in catalog["services"] if name not in keep)
    gateway = catalog["services"]["mcpo"]["gateway"]
    gateway["rate_limits"].update(per_client_per_minute=100_000, global_per_minute=100_000)
    drop_route(catalog, "github")  # not in this stack
    gateway["routes"]["time-sse"] = {**gateway["routes"]["time"], "transport": "sse", "required": False}
    catalog["tenancy"]["tenants"]["platform"]["tools"]["time-sse"] = "*"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    config = tmp_path_factory.mktemp("upstream-credential") / "config"
    with variant_gateway(
        config, gateway_and_our_servers, "mcpstack-upcred", ("time", "time-sse", "sandbox")
    ) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def gw_stack(gw: Gateway) -> LocalStack:
    return gw.stack


def tools_call(stack: LocalStack, service: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": CALLS[service]}
    return httpx.post(stack.url(service) + "/mcp", json=body, headers={**MCP_HEADERS, **(headers or {})}, timeout=30)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_direct_call_without_the_gateways_token_is_refused(gw_stack: LocalStack, service: str) -> None:
    refused = tools_call(gw_stack, service)
    assert refused.status_code == 401, refused.text
    assert refused.headers["www-authenticate"].startswith("Bearer ")
    assert "result" not in refused.json()
    wrong = tools_call(gw_stack, service, bearer(WRONG_TOKEN))
    assert wrong.status_code == 401, wrong.text
    assert WRONG_TOKEN not in wrong.text


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_direct_call_with_the_gateways_token_runs(gw_stack: LocalStack, service: str) -> None:
    answered = tools_call(gw_stack, service, bearer(server_token(gw_stack.catalog, gw_stack.secrets, service)))
    assert answered.status_code == 200, answered.text
    assert answered.json()["result"]["isError"] is False, answered.text


def test_each_server_accepts_only_its_own_token(gw_stack: LocalStack) -> None:
    sandbox_token = server_token(gw_stack.catalog, gw_stack.secrets, "sandbox")
    assert tools_call(gw_stack, "time", bearer(sandbox_token)).status_code == 401


def test_time_over_sse_needs_the_token_too(gw_stack: LocalStack) -> None:
    base = gw_stack.url("time")
    with httpx.stream("GET", base + "/sse", timeout=10) as anonymous:
        assert anonymous.status_code == 401
    posted = httpx.post(base + "/messages/?session_id=" + uuid.uuid4().hex, json={}, timeout=10)
    assert posted.status_code == 401
    token = server_token(gw_stack.catalog, gw_stack.secrets, "time")
    with httpx.stream("GET", base + "/sse", headers=bearer(token), timeout=10) as stream:
        assert stream.status_code == 200
        assert next(stream.iter_lines()).startswith("event: endpoint")


def test_probes_and_prometheus_still_reach_the_servers_without_a_token(gw_stack: LocalStack) -> None:
    for service in CALLS:
        assert tools_call(gw_stack, service).status_code == 401
        assert httpx.get(gw_stack.url(service) + "/health", timeout=10).status_code == 200
        metrics = httpx.get(gw_stack.url(service) + "/metrics", timeout=10)
        assert 'mcp_unauthorized_requests_total{reason="no Authorization header"}' in metrics.text


@pytest.mark.parametrize(
    ("path", "body", "check"),
    [
        ("/time/get_current_time", {"timezone": "UTC"}, lambda b: b["timezone"] == "UTC"),
        ("/time-sse/get_current_time", {"timezone": "UTC"}, lambda b: b["timezone"] == "UTC"),
        ("/sandbox/execute_python", {"code": "print(6 * 7)"}, lambda b: b["stdout"] == "42\n"),
    ],
)
def test_calls_through_the_gateway_still_work(gw: Gateway, path: str, body: dict[str, Any], check: Any) -> None:
    response = gw.post(path, body)
    assert response.status_code == 200, response.text
    assert check(response.json()), response.text


def test_the_gateways_mcp_front_still_reaches_the_server(gw: Gateway) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": CALLS["time"]}
    response = httpx.post(gw.url + "/mcp/time", json=body, headers={**gw.headers(), **MCP_HEADERS}, timeout=30)
    assert response.status_code == 200, response.text
    text = response.text if response.headers["content-type"].startswith("text/event-stream") else ""
    result = json.loads(text.split("data: ", 1)[1]) if text else response.json()
    assert result["result"]["isError"] is False, response.text


def test_another_container_on_the_stack_network_is_refused(gw_stack: LocalStack) -> None:
    calls = {
        f"http://{service}:{gw_stack.specs[service].ports['http']}/mcp": params for service, params in CALLS.items()
    }
    output = docker.from_env().containers.run(
        gw_stack.specs["time"].image,
        entrypoint=["python", "-c", NEIGHBOUR, json.dumps(calls)],
        network=gw_stack.network,
        user="10001:10001",
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
        labels={LABEL_STACK: gw_stack.name},
        remove=True,
    )
    answers = {line.split(" ", 2)[0]: line.split(" ", 2)[1] for line in output.decode().splitlines() if line}
    assert answers == dict.fromkeys(calls, "401"), output.decode()


def test_refusals_are_logged_without_the_token(gw_stack: LocalStack) -> None:
    tools_call(gw_stack, "time", bearer(WRONG_TOKEN))
    logs = container(gw_stack, "time").logs().decode(errors="replace")
    refusals = [json.loads(line) for line in logs.splitlines() if "refused an MCP request" in line]
    assert any(entry["reason"] == "unknown token" and entry["path"] == "/mcp" for entry in refusals), refusals
    assert all(entry["peer"] for entry in refusals)
    for service in ("time", "sandbox", "mcpo"):
        logs = container(gw_stack, service).logs().decode(errors="replace")
        assert WRONG_TOKEN not in logs
        for server in CALLS:
            assert server_token(gw_stack.catalog, gw_stack.secrets, server) not in logs, (service, server)
