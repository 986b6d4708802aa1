"""The local stack as a Compose file: what `mcpstack up` starts, written for `docker compose` to run and read.

Rendered from the same ContainerSpecs and Docker options (mcpstack.local.containers.run_options) that `up`
starts its long-lived containers with, service by service: image, command, environment, ports on 127.0.0.1,
volumes, generated files, secrets, health check, limits, security options, labels, restart policy, logs
and `depends_on: condition: service_healthy`. Secret values never appear in the file: the generated files
and secrets are written under the stack's state directory (`compose/<service>/`, readable by the service's
user only) and the environment values that carry secrets go to a private env file next to them.

The file follows the Compose Specification without a top-level `version:` (Debian's docker-compose 1.29
then accepts `depends_on` conditions); it has no `name:`, which 1.29 rejects: containers, the network and
the volumes are named explicitly, the same as `up` names them, so `mcpstack status`, `logs` and `down`
work on a stack Compose started.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from mcpstack import REPO_ROOT
from mcpstack.local.containers import LABEL_SPEC_HASH, LABEL_STACK
from mcpstack.local.healthcheck import NANOSECONDS
from mcpstack.local.spec import ContainerSpec
from mcpstack.local.stack import LocalStack, Prepared

NETWORK = "default"


def compose_document(stack: LocalStack) -> dict[str, Any]:
    """The Compose file's content; writes the files it refers to under the stack's state directory."""
    if not stack.long_lived:
        raise ValueError(f"stack {stack.name}: only a long-lived stack (as `mcpstack up` starts) has a Compose file")
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for name, spec in sorted(stack.specs.items()):
        prepared = stack.prepare(spec, area="compose")
        options = stack.run_options(spec, prepared)
        service = _service(stack, spec, prepared, options)
        for target, path in sorted(prepared.secret_files.items()):
            key = f"{name}.{path.name.removeprefix('secret-')}"
            secrets[key] = {"file": str(path)}
            service.setdefault("secrets", []).append({"source": key, "target": target})
        for target in sorted(spec.volumes.values()):
            key = _volume_key(options, target)
            volumes[key] = {"name": key, "labels": {LABEL_STACK: stack.name}}
            service.setdefault("volumes", []).append({"type": "volume", "source": key, "target": target})
        services[name] = service
    document: dict[str, Any] = {
        "services": services,
        "networks": {NETWORK: {"name": stack.network, "labels": {LABEL_STACK: stack.name}}},
    }
    if volumes:
        document["volumes"] = volumes
    if secrets:
        document["secrets"] = secrets
    return document


def write_compose(stack: LocalStack, out: Path) -> Path:
    """Write the Compose file (no secret values in it) and return its path."""
    header = "\n".join(
        [
            f"# The {stack.catalog.environment} stack `{stack.name}` as `mcpstack up` runs it, written by"
            " `mcpstack compose` from the catalog; regenerate it after a catalog change.",
            f"# Run it with `docker compose -f {out.name} up -d` (or Debian's docker-compose).",
            f"# Secrets and generated files: {stack.state_dir / 'compose'}/ (private to this machine).",
            "",
        ]
    )
    body = yaml.safe_dump(compose_document(stack), sort_keys=False, default_flow_style=False, width=1_000_000)
    out.write_text(header + body, encoding="utf-8")
    return out


def _service(stack: LocalStack, spec: ContainerSpec, prepared: Prepared, options: dict[str, Any]) -> dict[str, Any]:
    secret_env = sorted({*spec.secret_env, *spec.generated_env})
    service: dict[str, Any] = {"image": spec.image, "container_name": options["name"]}
    if spec.command:
        service["entrypoint"] = [_literal(part) for part in spec.command]
    if spec.env:
        service["environment"] = {var: _literal(value) for var, value in sorted(spec.env.items())}
    if secret_env:
        env_file = stack.state_dir / "compose" / f"{spec.service}.env"
        _write_env_file(env_file, {var: prepared.env[var] for var in secret_env})
        service["env_file"] = [str(env_file)]
    if spec.ports:
        service["ports"] = [_port(spec, name, port) for name, port in spec.ports.items()]
    if prepared.generated:
        service["volumes"] = [
            {"type": "bind", "source": str(path), "target": target, "read_only": True}
            for target, path in sorted(prepared.generated.items())
        ]
    if spec.tmpfs:
        service["tmpfs"] = [f"{path}:{value}" for path, value in options["tmpfs"].items()]
    service |= _runtime(spec, options)
    if spec.depends_on:
        service["depends_on"] = {
            name: {"condition": "service_healthy" if stack.specs[name].ready else "service_started"}
            for name in sorted(spec.depends_on)
        }
    aliases = [alias for alias in spec.aliases if alias != spec.service]
    service["networks"] = {NETWORK: {"aliases": aliases} if aliases else None}
    return service


def _runtime(spec: ContainerSpec, options: dict[str, Any]) -> dict[str, Any]:
    """Security, limits, labels, restart policy, logs and health check: `up`'s Docker options in Compose's words."""
    service: dict[str, Any] = {"user": spec.user, "read_only": spec.read_only, "cap_drop": list(spec.cap_drop)}
    service["security_opt"] = _security_options(spec)
    if spec.sysctls:
        service["sysctls"] = dict(spec.sysctls)
    if spec.runtime:
        service["runtime"] = spec.runtime
    if "nano_cpus" in options:
        service["cpus"] = options["nano_cpus"] / NANOSECONDS
    for key in ("mem_limit", "pids_limit"):
        if key in options:
            service[key] = options[key]
    service["labels"] = {key: value for key, value in options["labels"].items() if key != LABEL_SPEC_HASH}
    service["restart"] = options["restart_policy"]["Name"]
    service["logging"] = {"driver": options["log_config"]["Type"], "options": dict(options["log_config"]["Config"])}
    if "healthcheck" in options:
        service["healthcheck"] = _healthcheck(options["healthcheck"])
    return service


def _port(spec: ContainerSpec, name: str, port: int) -> str:
    host = spec.published.get(name)
    return f"127.0.0.1:{host}:{port}" if host else f"127.0.0.1::{port}"


def _volume_key(options: dict[str, Any], target: str) -> str:
    return next(source for source, mount in options["volumes"].items() if mount["bind"] == target)


def _security_options(spec: ContainerSpec) -> list[str]:
    """As mcpstack.local.containers.security_options, the seccomp profile by file (Compose reads it)."""
    options = ["no-new-privileges:true"] if spec.no_new_privileges else []
    if spec.seccomp_profile:
        options.append(f"seccomp:{REPO_ROOT / spec.seccomp_profile}")
    if spec.apparmor_profile:
        options.append(f"apparmor={spec.apparmor_profile}")
    return options


def _healthcheck(check: dict[str, Any]) -> dict[str, Any]:
    seconds = {key: f"{check[key] // NANOSECONDS}s" for key in ("interval", "timeout", "start_period")}
    return {"test": [_literal(part) for part in check["test"]], **seconds, "retries": check["retries"]}


def _literal(value: str) -> str:
    """A value Compose must not interpolate."""
    return value.replace("$", "$$")


def _write_env_file(path: Path, env: dict[str, str]) -> None:
    """Values single-quoted: docker-compose reads env files with python-dotenv, which expands nothing there."""
    lines = [
        f"{var}='{value.replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
        for var, value in env.items()
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
