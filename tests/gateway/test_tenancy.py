"""Who a request belongs to, what it may see and call, and which upstream serves it."""

from __future__ import annotations

import pytest

from servers.gateway.edge import Refusal
from servers.gateway.identity import InvalidIdentity, UserIdentityVerifier
from servers.gateway.settings import GatewaySettings, TenantSettings
from servers.gateway.tenancy import Caller, TenantPolicy, filter_openapi
from tests.gateway.fake_directory import FakeOpenWebUI
from tests.gateway.identities import SIGNING_KEY, signed_user

JWT = "x-openwebui-user-jwt"


def policy(settings: GatewaySettings) -> TenantPolicy:
    return TenantPolicy(settings, UserIdentityVerifier(SIGNING_KEY))


def signed(user_id: str, email: str = "", role: str = "user") -> dict[str, str]:
    return {JWT: signed_user(user_id, email, role)}


async def test_a_signed_user_is_matched_by_email_domain_case_insensitively(settings: GatewaySettings) -> None:
    caller = await policy(settings).identify("open-webui", signed("u-1", "Ann@ACME.test"))
    assert caller == Caller("open-webui", "acme", "u-1", "Ann@ACME.test", "user", verified=True)


async def test_first_matching_tenant_wins(settings: GatewaySettings) -> None:
    assert (await policy(settings).identify("open-webui", signed("u-1", "ann@acme.test", "admin"))).tenant == "platform"


async def test_unknown_user_gets_the_default_tenant_which_is_none(settings: GatewaySettings) -> None:
    assert (await policy(settings).identify("open-webui", signed("u-9", "x@elsewhere.test"))).tenant is None


async def test_unknown_user_gets_a_configured_default(settings: GatewaySettings) -> None:
    configured = policy(settings.model_copy(update={"default_tenant": "guests"}))
    assert (await configured.identify("open-webui", signed("u-9", "x@elsewhere.test"))).tenant == "guests"


async def test_plain_identity_headers_choose_no_tenant_and_no_role(settings: GatewaySettings) -> None:
    plain = {"x-openwebui-user-id": "u-1", "x-openwebui-user-email": "ann@acme.test", "x-openwebui-user-role": "admin"}
    forwarded = await policy(settings).identify("open-webui", plain)
    assert forwarded == Caller("open-webui", None, "u-1")  # the client's own tenant (none); an id for its bucket
    assert await policy(settings).identify("ci", plain) == Caller("ci", "platform")  # a client that forwards no users


async def test_a_signed_user_from_a_client_that_forwards_no_users_is_ignored(settings: GatewaySettings) -> None:
    assert await policy(settings).identify("ci", signed("u-1", "ann@acme.test", "admin")) == Caller("ci", "platform")


async def test_a_forged_signature_is_refused(settings: GatewaySettings) -> None:
    forged = {JWT: signed_user("u-1", "boss@acme.test", "admin", key="guessed-key-0123456789abcdef-0123456789")}
    with pytest.raises(InvalidIdentity, match="Signature"):
        await policy(settings).identify("open-webui", forged)
    with pytest.raises(InvalidIdentity, match="verifies no signed"):
        await TenantPolicy(settings).identify("open-webui", signed("u-1"))  # a gateway without the key trusts none


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
async def test_rules_match_the_exact_domain_of_a_well_formed_address(
    settings: GatewaySettings, email: str, tenant: str | None
) -> None:
    assert (await policy(settings).identify("open-webui", signed("u", email))).tenant == tenant


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


def with_groups(settings: GatewaySettings) -> GatewaySettings:
    """acme's e-mail rule first, then a group tenant, then a second one; no default tenant."""
    research = TenantSettings.model_validate({"name": "research", "match": {"groups": ["Research Team"]}})
    ops = TenantSettings.model_validate({"name": "ops", "match": {"groups": ["Ops"], "roles": ["operator"]}})
    return settings.model_copy(update={"tenants": [*settings.tenants, research, ops]})


async def test_a_group_rule_admits_members_of_that_exact_group(settings: GatewaySettings) -> None:
    webui = FakeOpenWebUI({"m-1": ["Research Team"], "o-1": ["Ops", "research team"], "x-1": ["Research"]})
    tenants = TenantPolicy(with_groups(settings), UserIdentityVerifier(SIGNING_KEY), webui.directory())
    assert (await tenants.identify("open-webui", signed("m-1", "m@elsewhere.test"))).tenant == "research"
    assert (await tenants.identify("open-webui", signed("o-1", "o@elsewhere.test"))).tenant == "ops"
    assert (await tenants.identify("open-webui", signed("x-1", "x@elsewhere.test"))).tenant is None
    assert [r.url.path for r in webui.asked] == [f"/api/v1/users/{u}/groups" for u in ("m-1", "o-1", "x-1")]


async def test_groups_are_looked_up_only_when_the_decision_reaches_a_group_rule(settings: GatewaySettings) -> None:
    webui = FakeOpenWebUI({"m-1": ["Research Team"]})
    webui.down = True  # any look-up would fail
    tenants = TenantPolicy(with_groups(settings), UserIdentityVerifier(SIGNING_KEY), webui.directory())
    assert (await tenants.identify("open-webui", signed("a-1", "ann@acme.test"))).tenant == "acme"  # an earlier rule
    assert (await tenants.identify("open-webui", signed("a-2", "x@y.test", "admin"))).tenant == "platform"
    assert (await tenants.identify("ci", signed("m-1"))).tenant == "platform"  # a client that forwards no users
    assert (await tenants.identify("open-webui", {"x-openwebui-user-id": "m-1"})).tenant is None  # unsigned
    assert webui.asked == []
    with pytest.raises(Refusal) as refused:  # the decision needs the groups: fail closed, never "no groups"
        await tenants.identify("open-webui", signed("m-1", "m@elsewhere.test"))
    assert refused.value.kind.slug == "identity-unavailable"


async def test_one_look_up_serves_every_group_rule_of_a_request(settings: GatewaySettings) -> None:
    webui = FakeOpenWebUI({"o-1": ["Ops"]})
    tenants = TenantPolicy(with_groups(settings), UserIdentityVerifier(SIGNING_KEY), webui.directory(cache_seconds=0))
    assert (await tenants.identify("open-webui", signed("o-1"))).tenant == "ops"
    assert len(webui.asked) == 1


async def test_a_plain_groups_header_chooses_nothing(settings: GatewaySettings) -> None:
    webui = FakeOpenWebUI({})
    tenants = TenantPolicy(with_groups(settings), UserIdentityVerifier(SIGNING_KEY), webui.directory())
    forged = {**signed("x-1", "x@elsewhere.test"), "x-openwebui-user-groups": "Research Team"}
    assert (await tenants.identify("open-webui", forged)).tenant is None


def test_group_rules_need_a_directory(settings: GatewaySettings) -> None:
    with pytest.raises(ValueError, match="no user_directory"):
        TenantPolicy(with_groups(settings), UserIdentityVerifier(SIGNING_KEY))
