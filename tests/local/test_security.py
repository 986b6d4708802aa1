"""The container security settings of the catalog (seccomp and AppArmor profiles, runtime, pids limit,
tmpfs size): validated, carried into the container specs and into Docker's options."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.catalog import CatalogError, load_catalog
from mcpstack.local.containers import seccomp_profile, security_options
from mcpstack.local.spec import container_specs
from tests.conftest import EditConfig

SANDBOX_SECURITY = "    security:\n      # bubblewrap makes namespaces"


def test_the_sandbox_spec_carries_its_security_settings() -> None:
    specs = container_specs(load_catalog(DEFAULT_CONFIG_DIR, "dev"))
    sandbox, time = specs["sandbox"], specs["time"]
    assert sandbox.seccomp_profile == "servers/sandbox/data/container-seccomp.json"
    assert (sandbox.pids_limit, sandbox.tmpfs_size) == (512, "256Mi")
    assert (sandbox.apparmor_profile, sandbox.runtime) == (None, None)
    assert (time.seccomp_profile, time.pids_limit, time.tmpfs_size, time.runtime) == (None, None, "64Mi", None)


def test_docker_options_inline_the_seccomp_profile_and_name_the_apparmor_profile() -> None:
    sandbox = container_specs(load_catalog(DEFAULT_CONFIG_DIR, "dev"))["sandbox"]
    options = security_options(replace(sandbox, apparmor_profile="mcpstack-sandbox"))
    assert options[0] == "no-new-privileges:true"
    assert options[1].startswith("seccomp={")
    inlined = json.loads(options[1].removeprefix("seccomp="))
    assert inlined == json.loads((REPO_ROOT / sandbox.seccomp_profile).read_text())
    assert options[2] == "apparmor=mcpstack-sandbox"
    assert security_options(replace(sandbox, seccomp_profile=None)) == ["no-new-privileges:true"]


def test_an_unreadable_profile_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"security.seccomp_profile 'servers/nope.json': cannot read it as JSON"):
        seccomp_profile("servers/nope.json")


def test_security_settings_are_read_from_the_catalog(edit_config: EditConfig) -> None:
    config = edit_config(
        SANDBOX_SECURITY,
        "    security:\n      runtime: runsc\n      apparmor_profile: unconfined\n      # bubblewrap makes namespaces",
    )
    spec = container_specs(load_catalog(config, "dev"))["sandbox"]
    assert (spec.runtime, spec.apparmor_profile) == ("runsc", "unconfined")


@pytest.mark.parametrize(
    ("setting", "path", "message"),
    [
        ("seccomp_profile: ../outside.json", "seccomp_profile", "'..' is not allowed"),
        ("seccomp_profile: /etc/profile.json", "seccomp_profile", "has an invalid format"),
        ("seccomp_profile: profile.yaml", "seccomp_profile", "has an invalid format"),
        ("pids_limit: 0", "pids_limit", "greater than or equal to 1"),
        ("runtime: 'Run SC'", "runtime", "has an invalid format"),
        ("tmpfs_size: lots", "tmpfs_size", "has an invalid format"),
        ("apparmor_profile: 'a b'", "apparmor_profile", "has an invalid format"),
    ],
)
def test_bad_security_settings_are_reported(edit_config: EditConfig, setting: str, path: str, message: str) -> None:
    config = edit_config(SANDBOX_SECURITY, f"    security:\n      {setting}\n      # bubblewrap makes namespaces")
    with pytest.raises(CatalogError) as caught:
        load_catalog(config, "dev")
    problems = [p for p in caught.value.problems if p.path == f"services.sandbox.security.{path}"]
    assert problems and message in problems[0].message, caught.value.problems
