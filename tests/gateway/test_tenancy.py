"""Who a request belongs to, what it may see and call, and which upstream serves it."""

from __future__ import annotations

from servers.gateway.settings import GatewaySettings
from servers.gateway.tenancy import Caller, TenantPolicy, filter_openapi

OWUI = {"x-openwebui-user-id": "u-1", "x-openwebui-user-email": "Ann@ACME.test", "x-openwebui-user-role": "user"}


def test_forwarded_user_is_matched_by_email_domain_case_insensitively(settings: GatewaySettings) -> None:
    caller = TenantPolicy(settings).identify("open-webui", OWUI)
    assert caller == Caller("open-webui", "acme", "u-1", "Ann@ACME.test", "user")
    assert caller.rate_limit_key == "open-webui:u-1"


def test_first_matching_tenant_wins(settings: GatewaySettings) -> None:
    admin_of_acme = {**OWUI, "x-openwebui-user-role": "admin"}
    assert TenantPolicy(settings).identify("open-webui", admin_of_acme).tenant == "platform"


def test_unknown_user_gets_the_default_tenant_which_is_none(settings: GatewaySettings) -> None:
    stranger = {"x-openwebui-user-id": "u-9", "x-openwebui-user-email": "x@elsewhere.test"}
    assert TenantPolicy(settings).identify("open-webui", stranger).tenant is None


def test_unknown_user_gets_a_configured_default(settings: GatewaySettings) -> None:
    policy = TenantPolicy(settings.model_copy(update={"default_tenant": "guests"}))
    assert policy.identify("open-webui", {"x-openwebui-user-email": "x@elsewhere.test"}).tenant == "guests"


def test_identity_headers_from_an_untrusted_client_are_ignored(settings: GatewaySettings) -> None:
    caller = TenantPolicy(settings).identify("ci", {**OWUI, "x-openwebui-user-role": "admin"})
    assert caller == Caller("ci", "platform")  # the client's own tenant; no user identity adopted
    assert caller.rate_limit_key == "ci"


def test_client_without_forwarded_user_uses_its_own_tenant(settings: GatewaySettings) -> None:
    assert TenantPolicy(settings).identify("open-webui", {}).tenant is None


def test_allowed_tools(settings: GatewaySettings) -> None:
    policy = TenantPolicy(settings)
    acme = Caller("open-webui", "acme", "u-1")
    assert policy.allowed_tools(acme, "time") == {"get_current_time"}
    assert policy.allowed_tools(acme, "github") is None  # all tools
    assert policy.allowed_tools(acme, "sandbox") == set()  # not at all
    assert policy.may_call(acme, "time", "get_current_time")
    assert not policy.may_call(acme, "time", "convert_time")
    assert not policy.may_call(Caller("open-webui", None), "time", "get_current_time")


def test_tenant_credentials_route_to_the_tenants_own_upstream(settings: GatewaySettings) -> None:
    policy = TenantPolicy(settings)
    assert policy.upstream(Caller("open-webui", "acme", "u-1"), "github") == "github--acme"
    assert policy.upstream(Caller("ci", "platform"), "github") == "github"
    assert policy.upstream(Caller("open-webui", "acme", "u-1"), "time") == "time"


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
    from servers.gateway.settings import TenantSettings

    reader = TenantSettings(name="catalog", tools={"time": "*"}, calls=False)
    policy = TenantPolicy(settings.model_copy(update={"tenants": [*settings.tenants, reader]}))
    caller = Caller("ci", "catalog")
    assert policy.allowed_tools(caller, "time") is None  # every tool listed in its specs
    assert not policy.may_call(caller, "time", "get_current_time")
