"""The gateway pipeline in process, around a stub of mcpo's app (the real mcpo is exercised by the
Docker suites in e2e/). Upstream connection state is set directly, so every branch is reachable."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from servers.gateway.metrics import GatewayMetrics
from tests.gateway.identities import signed_user
from tests.gateway.stub_mcpo import ACME_USER, assert_problem, auth, build, user


async def test_probes_need_no_key_but_readiness_details_do(client: httpx.AsyncClient, upstreams) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    detailed = await client.get("/ready", headers=auth("ci"))
    assert detailed.json()["upstreams"]["sandbox"] == {"state": "up", "required": False}
    assert "gateway_requests_total" in (await client.get("/metrics")).text  # public_details.metrics: the default


async def test_status_details_follow_the_public_details_setting(settings, upstreams, metrics) -> None:
    public = settings.public_details.model_copy(update={"ready": True, "metrics": False})
    app = build(settings.model_copy(update={"public_details": public}), upstreams, metrics)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        assert "upstreams" in (await http.get("/ready")).json()
        assert_problem(await http.get("/metrics"), 401, "unauthorized")
        assert "gateway_requests_total" in (await http.get("/metrics", headers=auth("ci"))).text


async def test_ready_reflects_required_upstreams_only(client: httpx.AsyncClient, upstreams) -> None:
    upstreams["sandbox"].state = "down"
    assert (await client.get("/ready")).status_code == 200
    upstreams["time"].state = "down"
    ready = await client.get("/ready", headers=auth("ci"))
    assert ready.status_code == 503
    assert ready.json()["upstreams"]["time"]["state"] == "down"


async def test_missing_and_wrong_keys_are_401_without_echoing_anything(client: httpx.AsyncClient) -> None:
    missing = await client.post("/time/get_current_time", json={})
    assert_problem(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await client.post("/time/get_current_time", json={}, headers={"Authorization": "Bearer guess-12345"})
    body = assert_problem(wrong, 401, "unauthorized")
    assert "guess-12345" not in wrong.text
    assert body["detail"] == assert_problem(missing, 401, "unauthorized")["detail"]  # no oracle
    assert_problem(await client.get("/time/openapi.json"), 401, "unauthorized")
    assert_problem(await client.get("/docs"), 401, "unauthorized")


async def test_public_docs_serve_specs_without_a_key(settings, upstreams, metrics) -> None:
    app = build(settings.model_copy(update={"public_docs": True}), upstreams, metrics)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        assert (await http.get("/time/openapi.json")).status_code == 200
        assert (await http.post("/time/get_current_time", json={})).status_code == 401


async def test_correlation_id_is_adopted_when_well_formed_and_minted_otherwise(client: httpx.AsyncClient) -> None:
    given = await client.post("/time/get_current_time", json={}, headers={**auth("ci"), "X-Request-ID": "req-42"})
    assert given.headers["x-request-id"] == "req-42"
    hostile = await client.get("/health", headers={"X-Request-ID": "bad id\r\nx" * 3})
    assert hostile.headers["x-request-id"] != "bad id\r\nx" * 3
    assert len(hostile.headers["x-request-id"]) == 32
    assert (
        assert_problem(await client.get("/nope", headers={"X-Request-ID": "r-1"}), 401, "unauthorized")[
            "correlation_id"
        ]
        == "r-1"
    )


async def test_tenant_sees_and_calls_only_its_tools(client: httpx.AsyncClient) -> None:
    assert (await client.post("/time/get_current_time", json={}, headers=ACME_USER)).status_code == 200
    assert_problem(await client.post("/time/convert_time", json={}, headers=ACME_USER), 403, "forbidden")
    assert_problem(await client.post("/sandbox/execute_python", json={}, headers=ACME_USER), 403, "forbidden")
    assert_problem(await client.get("/sandbox/openapi.json", headers=ACME_USER), 403, "forbidden")
    spec = (await client.get("/time/openapi.json", headers=ACME_USER)).json()
    assert list(spec["paths"]) == ["/get_current_time"]
    everything = (await client.get("/time/openapi.json", headers=auth("ci"))).json()
    assert list(everything["paths"]) == ["/get_current_time", "/convert_time"]


async def test_unknown_users_are_denied_by_default_on_known_and_unknown_routes(client: httpx.AsyncClient) -> None:
    stranger = user("x-1", "x@elsewhere.test")
    body = assert_problem(await client.post("/time/get_current_time", json={}, headers=stranger), 403, "forbidden")
    assert "no tenant" in body["detail"]
    assert_problem(await client.post("/no-such-route/tool", json={}, headers=stranger), 403, "forbidden")
    assert_problem(await client.get("/docs", headers=stranger), 403, "forbidden")
    assert_problem(await client.post("/no-such-route/tool", json={}, headers=auth("ci")), 404, "not-found")


async def test_plain_identity_headers_cannot_make_an_admin(client: httpx.AsyncClient) -> None:
    plain = {**auth("open-webui"), "X-OpenWebUI-User-Id": "u-1", "X-OpenWebUI-User-Role": "admin"}
    assert_problem(await client.post("/sandbox/execute_python", json={}, headers=plain), 403, "forbidden")
    admin = user("u-1", "root@elsewhere.test", "admin")
    assert (await client.post("/sandbox/execute_python", json={}, headers=admin)).status_code == 200


async def test_a_forged_signed_user_is_401_and_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    forged = {**auth("open-webui"), "X-OpenWebUI-User-Jwt": signed_user("u", role="admin", key="x" * 40)}
    response = await client.post("/time/get_current_time", json={}, headers={**forged, "X-Request-ID": "forged-1"})
    assert "Signature" in assert_problem(response, 401, "invalid-user-identity")["detail"]
    refusal = next(r for r in caplog.records if r.name == "mcpstack.gateway.refused")
    assert refusal.fields["cause"] == "invalid-user-identity"


async def test_tenant_credentials_route_calls_to_the_tenants_upstream(client: httpx.AsyncClient) -> None:
    assert (await client.post("/github/search", json={}, headers=ACME_USER)).json() == {
        "called": "/github--acme/search"
    }
    assert (await client.post("/github/search", json={}, headers=auth("ci"))).json() == {"called": "/github/search"}
    spec = (await client.get("/github/openapi.json", headers=ACME_USER)).json()
    assert spec["servers"] == [{"url": "/github"}]  # never reveals the tenant's upstream name


async def test_a_down_upstream_answers_503_with_retry_after_and_others_still_work(
    client: httpx.AsyncClient, upstreams
) -> None:
    upstreams["sandbox"].state = "down"
    response = await client.post("/sandbox/execute_python", json={}, headers=auth("ci"))
    assert_problem(response, 503, "upstream-unavailable")
    assert response.headers["retry-after"] == "7"
    assert upstreams["sandbox"].suspected == 1  # traffic prompts a reconnect attempt
    assert (await client.post("/time/get_current_time", json={}, headers=auth("ci"))).status_code == 200


async def test_slow_upstream_call_is_cut_at_the_time_limit(client: httpx.AsyncClient) -> None:
    started = asyncio.get_running_loop().time()
    response = await client.post("/time/slow", json={}, headers=auth("ci"))
    assert_problem(response, 504, "upstream-timeout")
    assert asyncio.get_running_loop().time() - started < 10  # the limit is 1 s; the stub would take 30 s


async def test_in_flight_call_fails_fast_when_its_upstream_is_lost(client: httpx.AsyncClient, upstreams) -> None:
    async def lose_soon() -> None:
        await asyncio.sleep(0.1)
        upstreams["time"].state = "down"
        upstreams["time"].lost.set()

    loser = asyncio.create_task(lose_soon())
    response = await client.post("/time/slow", json={}, headers=auth("ci"))
    await loser
    assert_problem(response, 503, "upstream-unavailable")


async def test_rate_limits_refuse_the_noisy_client_first_then_everyone(client: httpx.AsyncClient, metrics) -> None:
    statuses = [
        (await client.post("/time/get_current_time", json={}, headers=auth("noisy"))).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    limited = await client.post("/time/get_current_time", json={}, headers=auth("noisy"))
    body = assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert "client rate limit" in body["detail"]
    # the global bucket (8/min) has 3 tokens left for everybody else
    others = [(await client.post("/time/get_current_time", json={}, headers=auth("ci"))).status_code for _ in range(4)]
    assert others == [200, 200, 200, 429]
    assert metrics.registry.get_sample_value("gateway_rate_limited_total", {"client": "noisy", "scope": "client"}) == 2


async def test_forwarded_users_are_limited_one_by_one_inside_their_clients_share(client: httpx.AsyncClient) -> None:
    for user_id in ("u-1", "u-2"):
        headers = user(user_id, "ann@acme.test")
        statuses = [
            (await client.post("/time/get_current_time", json={}, headers=headers)).status_code for _ in range(3)
        ]
        assert statuses == [200] * 3  # each user has a bucket of 5, though both share one API key
    refused = await client.post("/time/get_current_time", json={}, headers=user("u-3", "ann@acme.test"))
    assert "client rate limit" in assert_problem(refused, 429, "rate-limited")["detail"]  # the key's share: 6 of 8


async def test_unexpected_failure_is_a_sanitised_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/time/explode", json={}, headers=auth("ci"))
    body = assert_problem(response, 500, "internal-error")
    assert "token=abc" not in response.text
    assert "correlation_id" in body["detail"]


async def test_cors_allows_configured_origins_only(settings, upstreams, metrics) -> None:
    preflight = {"Origin": "https://chat.example.com", "Access-Control-Request-Method": "POST"}
    closed = build(settings, upstreams, metrics)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://gateway") as http:
        refused = await http.options("/time/get_current_time", headers=preflight)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
    opened = build(
        settings.model_copy(update={"cors_origins": ["https://chat.example.com"]}), upstreams, GatewayMetrics()
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=opened), base_url="http://gateway") as http:
        allowed = await http.options("/time/get_current_time", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://chat.example.com"


async def test_metrics_have_bounded_labels_and_no_user_ids(client: httpx.AsyncClient, metrics) -> None:
    await client.post("/time/get_current_time", json={}, headers=ACME_USER)
    await client.post("/time/not_a_tool_0001", json={}, headers=auth("ci"))
    await client.get("/time/openapi.json", headers=auth("ci"))
    await client.get("/time/openapi.json", headers=auth("ci"))
    text = (await client.get("/metrics")).text
    assert 'gateway_requests_total{route="time",status="200",tool="get_current_time"}' in text
    assert 'tool="other"' in text and "not_a_tool_0001" not in text
    assert "u-1" not in text and "ann@acme.test" not in text
    assert metrics.registry.get_sample_value("gateway_discovery_cache_total", {"result": "hit"}) == 1
    assert metrics.registry.get_sample_value("gateway_active_users") == 1
    assert (
        metrics.registry.get_sample_value("gateway_client_requests_total", {"client": "open-webui", "tenant": "acme"})
        == 1
    )


async def test_access_log_carries_the_correlation_id_and_caller_but_never_the_key(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mcpstack.gateway.access")
    await client.post("/time/get_current_time", json={}, headers={**ACME_USER, "X-Request-ID": "trace-9"})
    record = next(r for r in caplog.records if r.name == "mcpstack.gateway.access")
    assert record.fields["status"] == 200
    assert record.fields["client"] == "open-webui"
    assert record.fields["tenant"] == "acme"
    assert "k-open-webui" not in caplog.text


async def test_specs_are_served_again_once_the_tool_endpoints_are_rebuilt(
    client: httpx.AsyncClient, metrics, upstreams
) -> None:
    """A changed tool list rebuilds an upstream's endpoints (openapi_rebuild.py): the cached spec must not outlive
    them (the cache is keyed by `tools_since`)."""
    await client.get("/time/openapi.json", headers=auth("ci"))
    await client.get("/time/openapi.json", headers=auth("ci"))
    upstreams["time"].tools_since += 1
    await client.get("/time/openapi.json", headers=auth("ci"))
    assert metrics.registry.get_sample_value("gateway_discovery_cache_total", {"result": "hit"}) == 1
    assert metrics.registry.get_sample_value("gateway_discovery_cache_total", {"result": "miss"}) == 2
