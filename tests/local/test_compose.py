"""`mcpstack compose`: Debian's docker-compose accepts the file, and as docker-compose reads it, every service
matches, field by field, the Docker options `mcpstack up` starts that service's container with."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.local.compose import compose_document, write_compose
from mcpstack.local.containers import LABEL_SPEC_HASH
from mcpstack.local.stack import LocalStack

DURATION = re.compile(r"(\d+)(h|m|s|ms)")
UNIT_NS = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6}


@pytest.fixture
def stack(tmp_path: Path) -> LocalStack:
    """The dev stack as `mcpstack up` runs it (long-lived, the catalog's host ports), state in tmp_path."""
    return LocalStack(
        load_catalog(DEFAULT_CONFIG_DIR, "dev"),
        name="mcpstack-composetest",
        state_root=tmp_path / "state",
        client=None,
        log=lambda _: None,
        long_lived=True,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalStack, dict[str, Any], dict[str, dict[str, Any]]]:
    """The dev stack, its Compose file as docker-compose reads it, and `up`'s options (once per module)."""
    directory = tmp_path_factory.mktemp("compose")
    stack = LocalStack(
        load_catalog(DEFAULT_CONFIG_DIR, "dev"),
        name="mcpstack-composetest",
        state_root=directory / "state",
        client=None,
        log=lambda _: None,
        long_lived=True,
    )
    return stack, compose_config(write_compose(stack, directory / "compose.yaml")), up_options(stack)


def compose_config(path: Path) -> dict[str, Any]:
    """The file as docker-compose reads it (`config` resolves env files, validates against its schema)."""
    done = subprocess.run(["docker-compose", "-f", str(path), "config"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def up_options(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """Service -> the Docker options `up` creates its container with (LocalStack._start)."""
    return {name: stack.run_options(spec, stack.prepare(spec)) for name, spec in stack.specs.items()}


def differences(stack: LocalStack, config: dict[str, Any], options: dict[str, dict[str, Any]]) -> list[str]:
    """Every field on which a Compose service differs from `up`'s container, as `service.field: compose != up`."""
    found = []
    if set(config["services"]) != set(options):
        found.append(f"services: {sorted(config['services'])} != {sorted(options)}")
    for name in sorted(set(config["services"]) & set(options)):
        ours = _from_options(stack, name, options[name])
        theirs = _from_compose(config, name)
        found += [f"{name}.{key}: {theirs.get(key)!r} != {ours[key]!r}" for key in ours if theirs.get(key) != ours[key]]
    return found


def _from_options(stack: LocalStack, name: str, options: dict[str, Any]) -> dict[str, Any]:
    spec = stack.specs[name]
    fixed = {spec.ports[port] for port, host in spec.published.items() if host}
    binds = {m["bind"]: Path(source).read_text() for source, m in options["volumes"].items() if m["mode"] == "ro"}
    return {
        "image": options["image"],
        "container_name": options["name"],
        "command": options.get("entrypoint"),
        "env": options["environment"],
        # a port the catalog does not publish gets a free host port when `up` starts it; Compose leaves it to Docker
        "ports": sorted(
            (ip, port if int(key.split("/")[0]) in fixed else None, int(key.split("/")[0]))
            for key, (ip, port) in options["ports"].items()
        ),
        "files": binds,
        "volumes": sorted((source, m["bind"]) for source, m in options["volumes"].items() if m["mode"] == "rw"),
        "tmpfs": options["tmpfs"],
        "limits": (options.get("nano_cpus"), options.get("mem_limit"), options.get("pids_limit")),
        "security": (
            options["user"],
            options["read_only"],
            options["cap_drop"],
            options["security_opt"],
            options.get("sysctls"),
            options.get("runtime"),
        ),
        "labels": {k: v for k, v in options["labels"].items() if k != LABEL_SPEC_HASH},
        "restart": options["restart_policy"]["Name"],
        "logging": options["log_config"],
        "healthcheck": options.get("healthcheck"),
        "depends_on": {d: stack.specs[d].ready is not None for d in spec.depends_on},
        "network": (stack.network, sorted({name, *spec.aliases})),
    }


def _from_compose(config: dict[str, Any], name: str) -> dict[str, Any]:
    service = config["services"][name]
    mounts = service.get("volumes", [])
    files = {m["target"]: Path(m["source"]).read_text() for m in mounts if m["type"] == "bind" and m["read_only"]}
    for secret in service.get("secrets", []):
        files[secret["target"]] = Path(config["secrets"][secret["source"]]["file"]).read_text()
    ports = [re.fullmatch(r"(.+):(\d*):(\d+)/tcp", port).groups() for port in service.get("ports", [])]
    health = service.get("healthcheck")
    security_opt = [_inline_seccomp(option) for option in service.get("security_opt", [])]
    network = config["networks"]["default"]["name"]
    aliases = (service["networks"]["default"] or {}).get("aliases", [])
    return {
        "image": service["image"],
        "container_name": service["container_name"],
        "command": [_unescape(part) for part in service["entrypoint"]] if "entrypoint" in service else None,
        "env": {var: _unescape(str(value)) for var, value in service.get("environment", {}).items()},
        "ports": sorted((ip, int(host) if host else None, int(port)) for ip, host, port in ports),
        "files": files,
        "volumes": sorted(
            (config["volumes"][m["source"]]["name"], m["target"]) for m in mounts if m["type"] == "volume"
        ),
        "tmpfs": dict(entry.split(":", 1) for entry in service.get("tmpfs", [])),
        "limits": (
            int(service["cpus"] * 10**9) if "cpus" in service else None,
            int(service["mem_limit"]) if "mem_limit" in service else None,
            service.get("pids_limit"),
        ),
        "security": (
            service["user"],
            service["read_only"],
            service["cap_drop"],
            security_opt,
            service.get("sysctls"),
            service.get("runtime"),
        ),
        "labels": service.get("labels", {}),
        "restart": service["restart"],
        "logging": {"Type": service["logging"]["driver"], "Config": service["logging"]["options"]},
        "healthcheck": health
        and {
            "test": [_unescape(part) for part in health["test"]],
            **{key: _nanoseconds(health[key]) for key in ("interval", "timeout", "start_period")},
            "retries": health["retries"],
        },
        "depends_on": {d: c["condition"] == "service_healthy" for d, c in service.get("depends_on", {}).items()},
        "network": (network, sorted({name, *aliases})),
    }


def _inline_seccomp(option: str) -> str:
    """Compose names the profile's file; the Docker API (and `up`) passes its JSON."""
    if option.startswith("seccomp:"):
        return "seccomp=" + json.dumps(
            json.loads(Path(option.removeprefix("seccomp:")).read_text()), separators=(",", ":")
        )
    return option


def _nanoseconds(duration: str) -> int:
    return sum(int(amount) * UNIT_NS[unit] for amount, unit in DURATION.findall(duration))


def _unescape(value: str) -> str:
    return value.replace("$$", "$")


def test_docker_compose_accepts_the_file_and_every_service_matches_what_up_starts(
    stack: LocalStack, tmp_path: Path
) -> None:
    config = compose_config(write_compose(stack, tmp_path / "compose.yaml"))
    options = up_options(stack)
    assert differences(stack, config, options) == []
    # the comparison covers the fields that matter, on services that have them
    assert {"mcpo", "time", "sandbox", "prometheus", "open-webui"} <= set(config["services"])
    assert config["services"]["open-webui"]["depends_on"]["mcpo"] == {"condition": "service_healthy"}
    assert any(o.startswith("seccomp=") for o in options["sandbox"]["security_opt"])
    assert options["mcpo"]["restart_policy"] == {"Name": "unless-stopped"}
    assert "/run/secrets/gateway-keys/open-webui" in _from_compose(config, "mcpo")["files"]


@pytest.mark.parametrize(
    ("service", "change"),
    [
        ("time", lambda s: s.update(image="mcpstack/time:other")),
        ("time", lambda s: s["entrypoint"].append("--verbose")),
        ("time", lambda s: s.setdefault("environment", {}).update(EXTRA="1")),
        ("mcpo", lambda s: s.update(ports=["127.0.0.1:18080:8080/tcp"])),
        ("mcpo", lambda s: s.update(mem_limit=1)),
        ("sandbox", lambda s: s.update(pids_limit=None)),
        ("sandbox", lambda s: s.update(security_opt=["no-new-privileges:true"])),
        ("prometheus", lambda s: s.update(read_only=False)),
        ("prometheus", lambda s: s["volumes"].pop()),
        ("open-webui", lambda s: s["depends_on"].pop("mcpo")),
        ("open-webui", lambda s: s["healthcheck"].update(retries=9)),
        ("time", lambda s: s.update(restart="no")),
    ],
)
def test_the_comparison_fails_when_one_field_differs(rendered, service: str, change) -> None:
    stack, config, options = rendered
    config = copy.deepcopy(config)
    change(config["services"][service])
    found = differences(stack, config, options)
    assert len(found) == 1 and found[0].startswith(f"{service}."), found


def test_a_changed_container_spec_shows_up_in_the_comparison(rendered) -> None:
    stack, config, options = rendered
    time = stack.specs["time"]
    changed = dataclasses.replace(time, cpu_limit="250m")
    options = options | {"time": stack.run_options(changed, stack.prepare(changed))}
    found = differences(stack, config, options)
    assert len(found) == 1 and found[0].startswith("time.limits: (1000000000,") and "(250000000," in found[0], found


def test_no_secret_value_is_written_into_the_compose_file(stack: LocalStack, tmp_path: Path) -> None:
    text = write_compose(stack, tmp_path / "compose.yaml").read_text()
    values = {
        stack.secrets.value(s)
        for spec in stack.specs.values()
        for s in [*spec.secret_env.values(), *spec.secret_files.values()]
    }
    assert values and not [v for v in values if v in text]
    env_files = list((stack.state_dir / "compose").glob("*.env"))
    assert env_files and all(f.stat().st_mode & 0o077 == 0 for f in env_files)


def test_only_a_long_lived_stack_has_a_compose_file(tmp_path: Path) -> None:
    ephemeral = LocalStack(
        load_catalog(DEFAULT_CONFIG_DIR, "dev"), state_root=tmp_path, client=None, log=lambda _: None
    )
    with pytest.raises(ValueError, match="long-lived"):
        compose_document(ephemeral)
