"""Who a request belongs to, what it may see and call, and which upstream serves it."""

from __future__ import annotations

import pytest

from servers.gateway.identity import InvalidIdentity, UserIdentityVerifier
from servers.gateway.settings import GatewaySettings, TenantSettings
from servers.gateway.tenancy import Caller, TenantPolicy, filter_openapi
from tests.gateway.identities import SIGNING_KEY, signed_user

JWT = "x-openwebui-user-jwt"


def policy(settings: GatewaySettings) -> TenantPolicy:
    return TenantPolicy(settings, UserIdentityVerifier(SIGNING_KEY))


def signed(user_id: str, email: str = "", role: str = "user") -> dict[str, str]:
    return {JWT: signed_user(user_id, email, role)}


def test_a_signed_user_is_matched_by_email_domain_case_insensitively(settings: GatewaySettings) -> None:
    caller = policy(settings).identify("open-webui", signed("u-1", "Ann@ACME.test"))
    assert caller == Caller("open-webui", "acme", "u-1", "Ann@ACME.test", "user", verified=True)


def test_first_matching_tenant_wins(settings: GatewaySettings) -> None:
    assert policy(settings).identify("open-webui", signed("u-1", "ann@acme.test", "admin")).tenant == "platform"


def test_unknown_user_gets_the_default_tenant_which_is_none(settings: GatewaySettings) -> None:
    assert policy(settings).identify("open-webui", signed("u-9", "x@elsewhere.test")).tenant is None


def test_unknown_user_gets_a_configured_default(settings: GatewaySettings) -> None:
    configured = policy(settings.model_copy(update={"default_tenant": "guests"}))
    assert configured.identify("open-webui", signed("u-9", "x@elsewhere.test")).tenant == "guests"


def test_plain_identity_headers_choose_no_tenant_and_no_role(settings: GatewaySettings) -> None:
    plain = {"x-openwebui-user-id": "u-1", "x-openwebui-user-email": "ann@acme.test", "x-openwebui-user-role": "admin"}
    forwarded = policy(settings).identify("open-webui", plain)
    assert forwarded == Caller("open-webui", None, "u-1")  # the client's own tenant (none); an id for its bucket
    assert policy(settings).identify("ci", plain) == Caller("ci", "platform")  # a client that forwards no users


def test_a_signed_user_from_a_client_that_forwards_no_users_is_ignored(settings: GatewaySettings) -> None:
    assert policy(settings).identify("ci", signed("u-1", "ann@acme.test", "admin")) == Caller("ci", "platform")


def test_a_forged_signature_is_refused(settings: GatewaySettings) -> None:
    forged = {JWT: signed_user("u-1", "boss@acme.test", "admin", key="guessed-key-0123456789abcdef-0123456789")}
    with pytest.raises(InvalidIdentity, match="Signature"):
        policy(settings).identify("open-webui", forged)
    with pytest.raises(InvalidIdentity, match="verifies no signed"):
        TenantPolicy(settings).identify("open-webui", signed("u-1"))  # a gateway without the key trusts none


@pytest.mark.parametrize(
    ("email", "tenant"),
    [
        ("ann@acme.test", "acme"),
        ("a@guest.acme.test@acme.test", None),  # not an address: no domain at all
        ("ann@notacme.test", None),
        ("ann@sub.acme.test", None),  # a rule names a domain, not its subdomains
        ("ann@acme.test.", None),
        ("@acme.test", None),
        ("ann @acme.test", None),
        ("visitor@example.org", "guests"),  # an exact address rule
        ("VISITOR@Example.org", "guests"),
    ],
)
def test_rules_match_the_exact_domain_of_a_well_formed_address(
    settings: GatewaySettings, email: str, tenant: str | None
) -> None:
    assert policy(settings).identify("open-webui", signed("u", email)).tenant == tenant


def test_allowed_tools(settings: GatewaySettings) -> None:
    tenants = policy(settings)
    acme = Caller("open-webui", "acme", "u-1")
    assert tenants.allowed_tools(acme, "time") == {"get_current_time"}
    assert tenants.allowed_tools(acme, "github") is None  # all tools
    assert tenants.allowed_tools(acme, "sandbox") == set()  # not at all
    assert tenants.may_call(acme, "time", "get_current_time")
    assert not tenants.may_call(acme, "time", "convert_time")
    assert not tenants.may_call(Caller("open-webui", None), "time", "get_current_time")


def test_tenant_credentials_route_to_the_tenants_own_upstream(settings: GatewaySettings) -> None:
    tenants = policy(settings)
    assert tenants.upstream(Caller("open-webui", "acme", "u-1"), "github") == "github--acme"
    assert tenants.upstream(Caller("ci", "platform"), "github") == "github"
    assert tenants.upstream(Caller("open-webui", "acme", "u-1"), "time") == "time"


def test_openapi_is_filtered_to_the_allowed_tools_and_served_from_the_route() -> None:
    spec = {
        "openapi": "3.1.0",
        "servers": [{"url": "/github--acme"}],
        "paths": {"/get_current_time": {"post": {}}, "/convert_time": {"post": {}}},
    }
    filtered = filter_openapi(spec, {"get_current_time"}, "time")
    assert list(filtered["paths"]) == ["/get_current_time"]
    assert filtered["servers"] == [{"url": "/time"}]
    assert list(filter_openapi(spec, None, "time")["paths"]) == ["/get_current_time", "/convert_time"]
    assert list(spec["paths"]) == ["/get_current_time", "/convert_time"]  # the cached original is untouched


def test_a_discovery_only_tenant_sees_tools_but_calls_none(settings: GatewaySettings) -> None:
    reader = TenantSettings(name="catalog", tools={"time": "*"}, calls=False)
    tenants = policy(settings.model_copy(update={"tenants": [*settings.tenants, reader]}))
    caller = Caller("ci", "catalog")
    assert tenants.allowed_tools(caller, "time") is None  # every tool listed in its specs
    assert not tenants.may_call(caller, "time", "get_current_time")
