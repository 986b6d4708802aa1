"""The Pulumi project: its typed config schema matches the settings the program reads, the stack
files use only declared keys, the secret declarations match what both stacks need, and settings
are validated."""

from __future__ import annotations

import asyncio

import pulumi
import pytest
import yaml
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.components.platform import needed_secrets
from infra.program import StackConfigError, secret_source
from infra.render import STACKS_DIR, RenderError, render_stack
from infra.settings import PROVIDER_KEYS, SETTINGS, StackSettings, settings_attributes
from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.policy import RULES

PROJECT = yaml.safe_load((STACKS_DIR / "Pulumi.yaml").read_text())
SIMPLE_TYPES = {"string", "integer", "boolean", "array"}
DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers"


def needed(env: str) -> set[str]:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, env)
    return set(needed_secrets(catalog, helm=env == "prod"))


def test_the_project_runs_python_from_the_repository_venv() -> None:
    assert PROJECT["name"] == "mcpstack"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == "../.venv"
    assert (STACKS_DIR / "__main__.py").is_file()
    assert "-e ..[infra]" in (STACKS_DIR / "requirements.txt").read_text()


def test_every_config_declaration_is_typed_as_pulumi_accepts() -> None:
    for key, declaration in PROJECT["config"].items():
        assert isinstance(declaration, dict), key
        assert set(declaration) <= {"type", "items", "description", "secret", "default"}, key
        assert declaration["type"] in SIMPLE_TYPES, key
        if declaration["type"] == "array":
            assert declaration["items"]["type"] in SIMPLE_TYPES, key
        assert declaration.get("description"), key


def test_the_schema_declares_exactly_the_settings_the_program_reads() -> None:
    declared = {k: v for k, v in PROJECT["config"].items() if not v.get("secret")}
    assert set(declared) == {s.key for s in SETTINGS}
    for setting in SETTINGS:
        assert declared[setting.key]["type"] == setting.type, setting.key
        assert declared[setting.key]["default"] == setting.default, setting.key
        assert declared[setting.key]["description"] == setting.description, setting.key
    assert {s.attribute for s in SETTINGS} == settings_attributes()


def test_declared_secrets_are_those_both_stacks_need_and_the_rest_are_documented() -> None:
    declared = {k for k, v in PROJECT["config"].items() if v.get("secret")}
    assert all(v["type"] == "string" and "default" not in v for k, v in PROJECT["config"].items() if k in declared)
    assert declared == needed("dev") & needed("prod")
    for env in ("dev", "prod"):
        stack_file = (STACKS_DIR / f"Pulumi.{env}.yaml").read_text()
        for secret in needed(env):
            assert secret in stack_file, f"Pulumi.{env}.yaml does not tell how to set {secret}"


def unknown_keys(config: dict) -> list[str]:
    """Stack config keys that are neither a declared mcpstack setting nor one of the Kubernetes
    provider's keys (or the switch disabling the default provider)."""
    return [
        key
        for key in config
        if not (key.startswith("mcpstack:") and key.partition(":")[2] in PROJECT["config"])
        and key not in (*PROVIDER_KEYS, DISABLE_DEFAULT_PROVIDERS)
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_only_set_declared_settings_and_the_provider_s_keys(stack: str) -> None:
    config = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert unknown_keys(config) == []
    assert config["mcpstack:deployment"] == {"dev": "compose", "prod": "helm"}[stack]
    assert config["kubernetes:context"]  # the cluster is named, never "whatever is current"
    assert config[DISABLE_DEFAULT_PROVIDERS] == ["kubernetes"]


def test_undeclared_and_misspelled_keys_are_found() -> None:
    config = {
        "mcpstack:deployment": "helm",
        "mcpstack:replicas": 3,
        "kubernetes:contxt": "x",
        "kubernetes:context": "c",
    }
    assert unknown_keys(config) == ["mcpstack:replicas", "kubernetes:contxt"]


def test_a_production_stack_must_name_its_cluster() -> None:
    with pytest.raises(ValueError, match="kubernetes:context"):
        StackSettings.from_values("prod", STACKS_DIR, {"deployment": "helm"})
    settings = StackSettings.from_values(
        "prod", STACKS_DIR, {"deployment": "helm", "kubernetes:context": "c", "kubernetes:kubeconfig": "/k"}
    )
    assert (settings.kube_context, settings.kubeconfig) == ("c", "/k")


def test_settings_take_defaults_and_resolve_paths() -> None:
    settings = StackSettings.from_values("dev", STACKS_DIR, {})
    assert settings.environment == "dev"
    assert settings.config_dir == DEFAULT_CONFIG_DIR
    assert settings.deployment == "compose"
    assert not settings.helm


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"deployment": "kustomize"}, "deployment must be one of compose, helm"),
        ({"ollamaGpus": "two"}, "mcpstack:ollamaGpus must be integer"),
        ({"ollamaGpus": -1}, "must not be negative"),
        ({"runtimeClasses": ["sandbox"]}, "SERVICE=RUNTIMECLASS"),
        ({"ollamaGpuType": "tpu"}, "nvidia or amd"),
        ({"replicas": 3}, "unknown setting(s): replicas"),
    ],
)
def test_bad_settings_are_refused_with_the_key(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        StackSettings.from_values("dev", STACKS_DIR, values)


def test_runtime_classes_are_service_pairs() -> None:
    settings = StackSettings.from_values("prod", STACKS_DIR, {"runtimeClasses": ["sandbox=gvisor"]})
    assert settings.runtime_classes == {"sandbox": "gvisor"}


class NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args):
        raise AssertionError(f"nothing may be created before the secrets are checked: {args.typ}")

    def call(self, args):
        return {}, None


def test_missing_secret_config_names_every_missing_key_before_anything_is_created() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(NoResources(), project="mcpstack", stack="prod", preview=False)
    pulumi.runtime.set_all_config({"mcpstack:webui-secret-key": "x"}, ["mcpstack:webui-secret-key"])
    try:
        with pytest.raises(StackConfigError) as caught:
            _sync_await(run_pulumi_func(lambda: secret_source(catalog, helm=True)))
    finally:
        pulumi.runtime.set_all_config({}, [])
        asyncio.set_event_loop(None)
        loop.close()
    message = str(caught.value)
    for secret in needed("prod") - {"webui-secret-key"}:
        assert f"pulumi config set --secret mcpstack:{secret} VALUE" in message
    assert "mcpstack:webui-secret-key " not in message


def test_an_unknown_stack_is_refused() -> None:
    with pytest.raises(RenderError, match=r"no stack 'staging'.*dev, prod"):
        render_stack("staging")


def test_the_deploy_guide_documents_every_setting_and_policy_rule() -> None:
    guide = (STACKS_DIR.parent / "docs" / "deploy.md").read_text()
    for setting in SETTINGS:
        assert f"mcpstack:{setting.key}" in guide, setting.key
    for rule in RULES:
        assert f"| `{rule.id}` |" in guide, rule.id
