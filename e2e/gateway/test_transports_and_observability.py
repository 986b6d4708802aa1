"""Upstreams over each MCP transport, correlation IDs from client to MCP server, metrics, and logs that
never carry a key."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from e2e.gateway.conftest import Gateway, container

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(
    ("route", "transport"), [("time", "streamable-http"), ("time-sse", "sse"), ("time-reference", "stdio")]
)
def test_each_transport_carries_tool_calls(gw: Gateway, route: str, transport: str) -> None:
    states = gw.get("/ready").json()["upstreams"]
    assert states[route]["state"] == "up", f"{route} over {transport}: {states[route]}"
    response = gw.post(f"/{route}/get_current_time", {"timezone": "Asia/Kolkata"})
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["datetime"]).utcoffset() == timedelta(hours=5, minutes=30)
    assert sorted(gw.get(f"/{route}/openapi.json").json()["paths"]) == ["/convert_time", "/get_current_time"]


def test_correlation_id_reaches_the_response_the_gateway_log_and_the_mcp_server_log(gw: Gateway) -> None:
    trace = f"e2e-{uuid.uuid4().hex[:12]}"
    ok = gw.post("/time/get_current_time", {"timezone": "UTC"}, extra={"X-Request-ID": trace})
    failed = gw.post("/time/get_current_time", {"timezone": "Nowhere/Land"}, extra={"X-Request-ID": trace + "-2"})
    assert ok.headers["x-request-id"] == trace
    assert failed.json()["correlation_id"] == trace + "-2"
    gateway_log = container(gw.stack, "mcpo").logs().decode()
    server_log = container(gw.stack, "time").logs().decode()
    access = [line for line in gateway_log.splitlines() if trace in line and "mcpstack.gateway.access" in line]
    assert len(access) == 2
    assert '"client": "e2e"' in access[0] and '"tenant": "platform"' in access[0]
    assert f'"correlation_id": "{trace}"' in server_log  # carried upstream in the tools/call _meta
    assert f'"correlation_id": "{trace}-2"' in server_log


def test_metrics_count_requests_by_route_tool_and_status_and_upstream_health(gw: Gateway) -> None:
    gw.post("/time/convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"})
    gw.post("/time/convert_time", {"source_timezone": "UTC", "time": "99:99", "target_timezone": "Asia/Tokyo"})
    text = gw.get("/metrics", client=None).text
    assert 'gateway_requests_total{route="time",status="200",tool="convert_time"}' in text
    assert 'gateway_requests_total{route="time",status="422",tool="convert_time"}' in text
    assert 'gateway_request_duration_seconds_bucket{le="0.25",route="time",status="200",tool="convert_time"}' in text
    for upstream in ("time", "sandbox", "time-reference", "time-sse", "echo", "echo--staff"):
        assert f'gateway_upstream_up{{upstream="{upstream}"}} 1.0' in text
    assert 'gateway_client_requests_total{client="e2e",tenant="platform"}' in text


def test_no_log_line_of_any_container_contains_an_api_key(gw: Gateway) -> None:
    gw.post("/time/get_current_time", {"timezone": "UTC"}, client="open-webui", user_id="u1", email="a@example.com")
    gw.post("/time/get_current_time", {"timezone": "UTC"}, extra={"Authorization": "Bearer wrong-key-000000"})
    keys = [gw.key(client) for client in gw.clients] + [gw.stack.secrets.value("tenant-token-staff")]
    for service in gw.stack.specs:
        logs = container(gw.stack, service).logs().decode(errors="replace")
        assert not [key for key in keys if key in logs], f"an API key appears in the {service} log"
        assert "wrong-key-000000" not in logs
