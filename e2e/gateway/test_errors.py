"""Every error the gateway returns is RFC 7807 problem JSON with a stable type, against real MCP servers."""

from __future__ import annotations

import pytest

from e2e.gateway.conftest import Gateway, problem

pytestmark = pytest.mark.docker


def test_invalid_arguments_are_422_with_the_field_errors(gw: Gateway) -> None:
    body = problem(gw.post("/time/get_current_time", {}), 422, "invalid-arguments")
    assert body["errors"] == [{"field": "timezone", "message": "Field required", "type": "missing"}]
    wrong_type = problem(gw.post("/sandbox/execute_python", {"code": ["not", "a", "string"]}), 422, "invalid-arguments")
    assert [e["field"] for e in wrong_type["errors"]] == ["code"]


def test_malformed_json_is_400_naming_the_position(gw: Gateway) -> None:
    body = problem(gw.post("/time/get_current_time", raw=b'{"timezone": "UTC",\n  oops}'), 400, "malformed-json")
    assert "line 2, column 3" in body["detail"]


def test_tool_error_is_unwrapped_from_mcpos_double_wrapping(gw: Gateway) -> None:
    body = problem(gw.post("/time/get_current_time", {"timezone": "Mars/Olympus"}), 422, "tool-error")
    assert "Invalid timezone in 'timezone': 'Mars/Olympus'" in body["detail"]
    assert body["tool"] == "get_current_time" and body["route"] == "time"
    for leaked in ("500:", "{'message'", "Unexpected error", "Traceback"):
        assert leaked not in body["detail"]


def test_tool_error_from_the_stdio_server_too(gw: Gateway) -> None:
    body = problem(gw.post("/time-reference/get_current_time", {"timezone": "Mars/Olympus"}), 422, "tool-error")
    assert "Mars/Olympus" in body["detail"]


def test_unknown_tool_and_route_are_404(gw: Gateway) -> None:
    problem(gw.post("/time/no_such_tool", {}), 404, "not-found")
    problem(gw.post("/no-such-route/tool", {}), 404, "not-found")


def test_wrong_method_is_405(gw: Gateway) -> None:
    problem(gw.get("/time/get_current_time"), 405, "method-not-allowed")


def test_auth_errors_are_401_with_a_generic_message(gw: Gateway) -> None:
    missing = problem(gw.get("/time/openapi.json", client=None), 401, "unauthorized")
    wrong = gw.post("/time/get_current_time", {"timezone": "UTC"}, extra={"Authorization": "Bearer x" * 5})
    assert problem(wrong, 401, "unauthorized")["detail"] == missing["detail"]
    problem(gw.get("/docs", client=None), 401, "unauthorized")


def test_tenants_see_and_call_only_their_tools(gw: Gateway) -> None:
    guest = {"client": "open-webui", "user_id": "g-1", "email": "visitor@guest.example.com"}
    assert gw.post("/time/get_current_time", {"timezone": "UTC"}, **guest).status_code == 200
    problem(gw.post("/sandbox/execute_python", {"code": "print(1)"}, **guest), 403, "forbidden")
    problem(gw.get("/sandbox/openapi.json", **guest), 403, "forbidden")
    staff = {"client": "open-webui", "user_id": "s-1", "email": "sam@example.com"}
    spec = gw.get("/time-reference/openapi.json", **staff).json()
    assert list(spec["paths"]) == ["/get_current_time"]
    problem(gw.post("/time-reference/convert_time", {}, **staff), 403, "forbidden")
    assert gw.post("/sandbox/execute_python", {"code": "print(1)"}, **staff).json()["stdout"] == "1\n"
    stranger = {"client": "open-webui", "user_id": "x-1", "email": "x@elsewhere.test"}
    problem(gw.post("/time/get_current_time", {"timezone": "UTC"}, **stranger), 403, "forbidden")


def test_errors_never_contain_api_keys(gw: Gateway) -> None:
    responses = [
        gw.post("/time/get_current_time", {"timezone": "Mars/Olympus"}),
        gw.post("/time/get_current_time", raw=b"{"),
        gw.post("/nope/x", {}),
    ]
    for key in (gw.key(client) for client in gw.clients):
        assert all(key not in r.text for r in responses)


def test_tenant_credentials_reach_the_upstream_for_that_tenant_only(gw: Gateway) -> None:
    token = gw.stack.secrets.value("tenant-token-staff")
    staff = {"client": "open-webui", "user_id": "s-2", "email": "kim@example.com"}
    seen = gw.post("/echo/seen_headers", {}, **staff)
    assert seen.status_code == 200, seen.text
    assert seen.json() == {"x-tenant-token": token}  # the upstream received staff's credential
    assert gw.post("/echo/seen_headers", {}).json() == {}  # platform (e2e client): its own upstream, no token
    spec = gw.get("/echo/openapi.json", **staff)
    assert spec.status_code == 200 and token not in spec.text
    assert spec.json()["servers"] == [{"url": "/echo"}]  # the tenant's upstream name is not revealed
    assert token not in problem_text(gw.post("/echo/no_such_tool", {}, **staff))


def problem_text(response) -> str:
    assert response.headers["content-type"] == "application/problem+json"
    return response.text
