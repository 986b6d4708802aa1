"""Tenant rules on Open WebUI groups (`tenancy.tenants.*.match.groups`) and the gateway's user directory
(`services.GATEWAY.gateway.user_directory`): a group rule needs the directory, whose key is a declared secret
mounted into the gateway as a file; the directory is called, not waited for, so it makes no start-order cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.catalog.graph import connection_graph, dependency_graph
from mcpstack.catalog.models import GatewayService
from tests.catalog.test_loader import line_of, only_problem, problems
from tests.conftest import EditConfig

GROUP_RULE = ("      match: {email_domains: [guest.example.com]}", "      match: {groups: [Research Team]}")
DIRECTORY = (
    "      user_identity_secret: user-identity-signing-key\n",
    "      user_identity_secret: user-identity-signing-key\n"
    "      user_directory: {service: open-webui, secret: open-webui-directory-key, cache_seconds: 30}\n",
)
SECRET = (
    "  webui-secret-key:\n",
    "  open-webui-directory-key:\n    description: API key of a dedicated Open WebUI admin account\n"
    "  webui-secret-key:\n",
)
MOUNT = (
    "      - {secret: user-identity-signing-key, file: /run/secrets/gateway-identity/signing-key}\n",
    "      - {secret: user-identity-signing-key, file: /run/secrets/gateway-identity/signing-key}\n"
    "      - {secret: open-webui-directory-key, file: /run/secrets/user-directory/api-key}\n",
)


@pytest.fixture
def with_directory(edit_config: EditConfig) -> Path:
    for old, new in (GROUP_RULE, DIRECTORY, SECRET, MOUNT):
        config = edit_config(old, new)
    return config


def test_the_default_catalog_matches_no_groups_and_has_no_directory() -> None:
    for env in ("dev", "prod"):
        catalog = load_catalog(DEFAULT_CONFIG_DIR, env)
        assert all(not t.match.groups for t in catalog.tenancy.tenants.values())
        gateway = catalog.services["mcpo"]
        assert isinstance(gateway, GatewayService) and gateway.gateway.user_directory is None
        assert connection_graph(catalog) == dependency_graph(catalog)  # NetworkPolicies as before


def test_a_group_rule_with_a_directory_is_valid(with_directory: Path) -> None:
    catalog = load_catalog(with_directory, "dev")
    assert catalog.tenancy.tenants["guests"].match.groups == ["Research Team"]
    gateway = catalog.services["mcpo"]
    assert isinstance(gateway, GatewayService)
    directory = gateway.gateway.user_directory
    assert directory is not None and (directory.service, directory.cache_seconds) == ("open-webui", 30)
    # The gateway calls Open WebUI, which needs the gateway running first: a connection, not a start dependency.
    assert "open-webui" not in dependency_graph(catalog)["mcpo"]
    assert "mcpo" in dependency_graph(catalog)["open-webui"]
    assert "open-webui" in connection_graph(catalog)["mcpo"]  # the NetworkPolicies admit it


def test_a_group_rule_needs_the_directory(edit_config: EditConfig) -> None:
    config = edit_config(*GROUP_RULE)
    problem = only_problem(config)
    assert problem.path == "tenancy.tenants.guests.match.groups"
    assert "needs services.mcpo.gateway.user_directory" in problem.message
    assert problem.location is not None and problem.location.file.endswith("catalog.yaml")
    assert problem.location.line == line_of(config, "match: {groups: [Research Team]}")


def test_the_directory_key_is_a_declared_secret_mounted_as_a_file(edit_config: EditConfig) -> None:
    config = edit_config(*DIRECTORY)
    problem = only_problem(config)
    assert problem.path == "services.mcpo.gateway.user_directory.secret"
    assert "unknown secret 'open-webui-directory-key'" in problem.message
    config = edit_config(*SECRET)
    problem = only_problem(config)
    assert problem.path == "services.mcpo.gateway.user_directory.secret"
    assert "is not mounted as a file in services.mcpo.secrets" in problem.message


def test_the_directory_names_an_open_webui_service_and_serves_signed_users(with_directory: Path) -> None:
    path = with_directory / "catalog.yaml"
    path.write_text(
        path.read_text().replace("user_directory: {service: open-webui,", "user_directory: {service: time,")
    )
    assert "service 'time' is a mcp-server, not an open-webui" in only_problem(with_directory).message
    text = path.read_text().replace("user_directory: {service: time,", "user_directory: {service: open-webui,")
    path.write_text(text.replace("      user_identity_secret: user-identity-signing-key\n", ""))
    found = {p.path: p.message for p in problems(with_directory)}
    assert "signed users only" in found["services.mcpo.gateway.user_directory"]
