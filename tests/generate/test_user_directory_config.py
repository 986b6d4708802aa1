"""The gateway's config carries the user directory (Open WebUI's URL and the API key's FILE, never the key) only
when the catalog configures one, and tenant rules keep their `groups`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.deployment.build import describe_service
from mcpstack.generate import GENERATORS, redacted
from tests.catalog.test_user_directory import DIRECTORY, GROUP_RULE, MOUNT, SECRET
from tests.conftest import EditConfig

KEY_VALUE = "sk-the-real-key-0123456789"


@pytest.fixture
def with_directory(edit_config: EditConfig) -> Path:
    for old, new in (GROUP_RULE, DIRECTORY, SECRET, MOUNT):
        config = edit_config(old, new)
    return config


def rendered(config: Path, env: str = "dev") -> dict:
    catalog = load_catalog(config, env)
    return json.loads(GENERATORS["gateway-config"].render(catalog, "mcpo", lambda s: KEY_VALUE))


def test_the_default_gateway_has_no_directory_and_mounts_no_directory_key() -> None:
    section = rendered(DEFAULT_CONFIG_DIR)["gateway"]
    assert section["user_directory"] is None
    assert all(tenant["match"]["groups"] == [] for tenant in section["tenants"])
    mounts = {ref.secret for ref in load_catalog(DEFAULT_CONFIG_DIR, "dev").mounted_secrets("mcpo")}
    assert not any("directory" in secret for secret in mounts)


def test_a_configured_directory_gets_the_url_and_key_file_never_the_key(with_directory: Path) -> None:
    document = rendered(with_directory)
    section = document["gateway"]
    assert section["user_directory"] == {
        "url": "http://open-webui:8080",
        "key_file": "/run/secrets/user-directory/api-key",
        "cache_seconds": 30,
        "timeout_seconds": 2.0,
        "max_cached_users": 10_000,
    }
    guests = next(t for t in section["tenants"] if t["name"] == "guests")
    assert guests["match"]["groups"] == ["Research Team"]
    assert KEY_VALUE not in json.dumps(section)  # route headers (mcpServers) carry secrets; the gateway part never
    catalog = load_catalog(with_directory, "dev")
    assert "open-webui-directory-key" in {ref.secret for ref in catalog.mounted_secrets("mcpo")}
    assert "open-webui" not in describe_service(catalog, "mcpo").depends_on  # not a start-order dependency
    assert json.loads(GENERATORS["gateway-config"].render(catalog, "mcpo", redacted))["gateway"]["user_directory"]
