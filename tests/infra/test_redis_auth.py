"""Redis requires a password in both stacks' renders: Redis reads it from a mounted Secret file, every client
gets it from a Secret (the gateway a file, the exporter a secretKeyRef, Open WebUI a Secret holding its URL), and
no ConfigMap, command, literal env value or Helm value carries it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from infra.render import Rendered
from mcpstack.generate import redacted
from tests.infra.conftest import container, env, obj, secret_data, values

PASSWORD = "redis-password"
FORMS = (redacted(PASSWORD), quote(redacted(PASSWORD), safe=""))  # as is, and inside a URL


def secret_mount(rendered: Rendered, deployment: str, path: str) -> str:
    """The Secret a container's file at `path` comes from (asserting it is one), and its key."""
    pod = obj(rendered, "Deployment", deployment)["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == path]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert secret_data(rendered, volume["secret"]["secretName"])[mount["subPath"]] == redacted(PASSWORD)
    return mount["subPath"]


def leaks(value: Any, where: str) -> list[str]:
    text = json.dumps(value)
    return [where for form in FORMS if form in text]


def test_redis_reads_its_password_from_a_secret_file_never_its_command(prod: Rendered) -> None:
    main = container(prod, "redis")
    password_file = main["command"][1]
    assert main["command"][0] == "redis-server-auth"
    assert secret_mount(prod, "redis", password_file) == PASSWORD
    assert not any("requirepass" in part for part in main["command"] + main.get("args", []))


def test_the_gateway_reads_the_password_from_the_file_its_config_names(prod: Rendered) -> None:
    config_secret = next(
        o for o in prod.objects() if o["kind"] == "Secret" and o["metadata"]["name"].startswith("mcpo-generated")
    )
    config = json.loads(config_secret["stringData"]["gateway-config"])["gateway"]["rate_limits"]
    assert config["redis_url"] == "redis://redis:6379/0"
    assert secret_mount(prod, "mcpo", config["redis_password_file"]) == PASSWORD
    assert not leaks(config, "gateway config")


def test_the_exporter_and_open_webui_get_the_password_from_secrets(prod: Rendered) -> None:
    ref = env(container(prod, "redis-exporter")["env"])["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert secret_data(prod, ref["name"])[ref["key"]] == redacted(PASSWORD)
    websocket = values(prod, "open-webui")["websocket"]
    url = secret_data(prod, websocket["existingSecret"])[websocket["existingSecretKey"]]
    assert url.startswith(f"redis://:{FORMS[1]}@redis:")
    assert "url" not in websocket


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_configmap_env_literal_command_or_helm_value_carries_the_password(
    stack: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(stack)
    found: list[str] = []
    for o in rendered.objects():
        name = f"{o['kind']}/{o['metadata'].get('name')}"
        if o["kind"] == "ConfigMap":
            found += leaks(o.get("data"), name)
        spec = o.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            found += leaks([c.get("command"), c.get("args")], f"{name} command")
            found += leaks([e.get("value") for e in c.get("env", [])], f"{name} env")
    for release in rendered.releases():
        found += leaks(release.body["values"], f"release {release.body['chart']}")
    assert found == []
    secrets = [o for o in rendered.objects() if o["kind"] == "Secret" and leaks(o.get("stringData"), "")]
    assert secrets, "the password is in the Secrets (the check above would pass vacuously otherwise)"
