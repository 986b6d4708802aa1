"""Finding 2 (and the gateway parts of 10) of issue 14: holding a gateway key is not enough to become another
user or the admin. An end user is taken only from an identity Open WebUI signed (X-OpenWebUI-User-Jwt, HS256 with
the catalog's `user_identity_secret`); plain X-OpenWebUI-User-* headers choose no tenant and no role. Tenant rules
match the exact domain of a well-formed e-mail address; unknown routes get the tenant check too; /ready's details
need a key."""

from __future__ import annotations

import pytest

from e2e.gateway.conftest import Gateway, problem

pytestmark = pytest.mark.docker
CODE = {"code": "print(6 * 7)"}


def test_the_open_webui_key_cannot_assert_an_admin_with_plain_headers(gw: Gateway) -> None:
    forged = gw.post("/sandbox/execute_python", CODE, client="open-webui", signed=False, user_id="x", role="admin")
    problem(forged, 403, "forbidden")
    forged_email = {"user_id": "x", "email": "boss@example.com"}
    problem(
        gw.post("/sandbox/execute_python", CODE, client="open-webui", signed=False, **forged_email), 403, "forbidden"
    )


def test_a_test_key_cannot_assert_a_role_or_another_tenant(gw: Gateway) -> None:
    # loadtest forwards users for per-user buckets only: its users are always its own tenant (platform)
    as_guest = gw.post(
        "/sandbox/execute_python", CODE, client="loadtest", signed=False, user_id="v", email="v@guest.example.com"
    )
    assert as_guest.status_code == 200, as_guest.text  # platform's tools, not the guests' (who may not run code)
    as_admin = gw.post("/sandbox/execute_python", CODE, client="e2e", signed=False, user_id="v", role="admin")
    assert as_admin.status_code == 200  # e2e forwards no users at all: its own tenant, headers ignored


def test_a_signed_identity_chooses_the_tenant(gw: Gateway) -> None:
    staff = {"client": "open-webui", "user_id": "s-1", "email": "sam@example.com"}
    assert gw.post("/sandbox/execute_python", CODE, **staff).json()["stdout"] == "42\n"
    guest = {"client": "open-webui", "user_id": "g-1", "email": "gus@guest.example.com"}
    problem(gw.post("/sandbox/execute_python", CODE, **guest), 403, "forbidden")
    admin = {"client": "open-webui", "user_id": "a-1", "email": "root@elsewhere.test", "role": "admin"}
    assert gw.post("/sandbox/execute_python", CODE, **admin).status_code == 200


def test_a_forged_or_expired_signed_identity_is_401(gw: Gateway) -> None:
    def call(token: str):
        headers = {"X-OpenWebUI-User-Jwt": token}
        return gw.post("/time/get_current_time", {"timezone": "UTC"}, client="open-webui", extra=headers)

    forged = gw.user_token("a-1", "root@elsewhere.test", role="admin", secret="guessed-" + "x" * 32)
    problem(call(forged), 401, "invalid-user-identity")
    expired = gw.user_token("s-1", "sam@example.com", exp=1_700_000_000)
    problem(call(expired), 401, "invalid-user-identity")
    problem(call("not.a.jwt"), 401, "invalid-user-identity")
    unsigned = gw.user_token("s-1", "sam@example.com").rsplit(".", 1)[0] + "."
    problem(call(unsigned), 401, "invalid-user-identity")


def test_a_domain_rule_matches_only_the_exact_domain_of_a_well_formed_address(gw: Gateway) -> None:
    tricky = "a@guest.example.com@example.com"  # not an address; "example.com" is staff's domain rule
    plain = gw.post("/sandbox/execute_python", CODE, client="open-webui", signed=False, user_id="t", email=tricky)
    problem(plain, 403, "forbidden")
    problem(gw.post("/sandbox/execute_python", CODE, client="open-webui", user_id="t", email=tricky), 403, "forbidden")
    lookalike = "eve@notexample.com"
    problem(
        gw.post("/sandbox/execute_python", CODE, client="open-webui", user_id="e", email=lookalike), 403, "forbidden"
    )
    assert (
        gw.post("/sandbox/execute_python", CODE, client="open-webui", user_id="t", email="T@Example.COM").status_code
        == 200
    )


def test_unknown_routes_get_the_tenant_check_too(gw: Gateway) -> None:
    stranger = {"client": "open-webui", "user_id": "x-1", "email": "x@elsewhere.test"}
    problem(gw.post("/no-such-route/tool", {}, **stranger), 403, "forbidden")
    problem(gw.get("/docs", **stranger), 403, "forbidden")
    problem(gw.post("/no-such-route/tool", {}), 404, "not-found")  # a caller with a tenant learns it does not exist


def test_ready_details_need_a_key_and_its_status_does_not(gw: Gateway) -> None:
    anonymous = gw.get("/ready", client=None)
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ready"}
    assert "upstreams" in gw.get("/ready").json()  # with a client's key
