"""Local secret values: environment first, then the stored file, then generated once."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mcpstack.catalog.models import SecretSpec
from mcpstack.local.secrets import MissingSecret, SecretStore, env_var_for

SPECS = {
    "api-key": SecretSpec(description="key", generate=True),
    "github-token": SecretSpec(description="a GitHub PAT"),
}


def test_generated_once_then_reused_with_owner_only_permissions(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets", SPECS)
    first = store.value("api-key")
    assert len(first) >= 32
    assert SecretStore(tmp_path / "secrets", SPECS).value("api-key") == first
    assert stat.S_IMODE((tmp_path / "secrets" / "api-key").stat().st_mode) == 0o600


def test_environment_overrides_the_stored_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SecretStore(tmp_path, SPECS)
    store.value("api-key")
    monkeypatch.setenv(env_var_for("api-key"), "from-env")
    assert env_var_for("api-key") == "MCPSTACK_SECRET_API_KEY"
    assert store.value("api-key") == "from-env"


def test_a_secret_that_may_not_be_generated_must_be_given(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="set MCPSTACK_SECRET_GITHUB_TOKEN"):
        SecretStore(tmp_path, SPECS).value("github-token")
    assert not (tmp_path / "github-token").exists()


def test_undeclared_secret(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="not declared"):
        SecretStore(tmp_path, SPECS).value("nope")
