"""How a ContainerSpec runs on Docker: the one set of options (`run_options`) that both starters use.

Two starters share them: `start_long_lived` (the Docker SDK: restart policy `unless-stopped`, rotated
json-file logs, the project's labels only — the stack `mcpstack up` leaves running for days) and
`ServiceContainer` (testcontainers, for the e2e suites' short-lived stacks: no restart policy).
mcpstack.local.compose renders the same options as a Compose file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from mcpstack import REPO_ROOT
from mcpstack.deployment import labels
from mcpstack.local.healthcheck import NANOSECONDS, healthcheck
from mcpstack.local.spec import ContainerSpec
from mcpstack.quantities import cpu_cores, memory_bytes

# The Ryuk reaper image cannot be pulled without a registry, and a stack started by `mcpstack up`
# must outlive the process: mcpstack removes its containers itself (by label).
testcontainers_config.ryuk_disabled = True

# The one label scheme (mcpstack.deployment.labels): `down`, `status` and an idempotent `up` find a stack by these.
LABEL_STACK = labels.STACK
LABEL_SERVICE = labels.SERVICE
LABEL_ENVIRONMENT = labels.ENVIRONMENT
LABEL_SPEC_HASH = labels.SPEC_HASH

RESTART_POLICY = "unless-stopped"  # back after a crash of the main process and after dockerd restarts
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}  # json-file rotation: at most 30 MB per container


def free_host_port() -> int:
    """A port free on 127.0.0.1 now. Published explicitly rather than as Docker's "any port", because
    Docker picks a new ephemeral port each time a container restarts and the stack's URLs would go stale."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_options(
    spec: ContainerSpec,
    *,
    stack: str,
    environment: str,
    network: str,
    mounts: dict[str, Path],  # container path -> prepared host file
    env: dict[str, str],  # plain env plus env-injected secrets
    fingerprint: str,
    long_lived: bool,
) -> dict[str, Any]:
    """The Docker SDK's `containers.create` arguments for the service (network aliases: `spec.aliases`)."""
    volumes = {str(source): {"bind": target, "mode": "ro"} for target, source in sorted(mounts.items())}
    for volume, target in sorted(spec.volumes.items()):
        volumes[volume_name(stack, spec.service, volume)] = {"bind": target, "mode": "rw"}
    options: dict[str, Any] = {
        "image": spec.image,
        "name": container_name(stack, spec.service),
        "environment": dict(env),
        "ports": {
            f"{port}/tcp": ("127.0.0.1", spec.published.get(name) or free_host_port())
            for name, port in spec.ports.items()
        },
        "volumes": volumes,
        "tmpfs": {path: f"rw,nosuid,nodev,size={memory_bytes(spec.tmpfs_size)}" for path in spec.tmpfs},
        "user": spec.user,
        "read_only": spec.read_only,
        "cap_drop": list(spec.cap_drop),
        "security_opt": security_options(spec),
        "labels": container_labels(spec, stack=stack, environment=environment, fingerprint=fingerprint),
        "network": network,
        "restart_policy": {"Name": RESTART_POLICY if long_lived else "no"},
    }
    if spec.command:
        options["entrypoint"] = list(spec.command)
    if spec.sysctls:
        options["sysctls"] = dict(spec.sysctls)
    if spec.memory_limit:
        options["mem_limit"] = memory_bytes(spec.memory_limit)
    if spec.cpu_limit:
        options["nano_cpus"] = int(cpu_cores(spec.cpu_limit) * NANOSECONDS)
    if spec.pids_limit:
        options["pids_limit"] = spec.pids_limit
    if spec.runtime:
        options["runtime"] = spec.runtime
    if long_lived:
        options["log_config"] = {"Type": "json-file", "Config": dict(LOG_OPTIONS)}
        if check := healthcheck(spec):
            options["healthcheck"] = check
    return options


def start_long_lived(client: docker.DockerClient, options: dict[str, Any], aliases: list[str]) -> Container:
    """Create and start the container with the Docker SDK (no test library labels, the restart policy kept)."""
    endpoint = client.api.create_endpoint_config(aliases=aliases)
    container = client.containers.create(networking_config={options["network"]: endpoint}, **options)
    container.start()
    return container


class ServiceContainer(DockerContainer):
    """The service as a testcontainers container: the e2e suites' and benchmarks' short-lived stacks."""

    def __init__(self, spec: ContainerSpec, options: dict[str, Any]) -> None:
        """`options`: what `run_options(spec, ..., long_lived=False)` gives, the same options `up` uses."""
        options = dict(options)
        network = options["network"]
        super().__init__(options.pop("image"), name=options.pop("name"))
        self.spec = spec
        self.env = options.pop("environment")
        self.ports = options.pop("ports")
        self.volumes = options.pop("volumes")
        self.tmpfs = options.pop("tmpfs")
        aliases = [spec.service, *spec.aliases]
        options["networking_config"] = {
            network: self.get_docker_client().client.api.create_endpoint_config(aliases=aliases)
        }
        self.with_kwargs(**options)


def seccomp_profile(path: str) -> str:
    """The profile's JSON, compact: Docker's API takes the content, not a file name."""
    source = REPO_ROOT / path
    try:
        return json.dumps(json.loads(source.read_text()), separators=(",", ":"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"security.seccomp_profile {path!r}: cannot read it as JSON ({exc})") from exc


def container_labels(spec: ContainerSpec, *, stack: str, environment: str, fingerprint: str) -> dict[str, str]:
    """The service's labels (mcpstack.deployment) plus the stack's: its name, the environment it runs, the
    spec's fingerprint."""
    return {**spec.labels, LABEL_STACK: stack, LABEL_ENVIRONMENT: environment, LABEL_SPEC_HASH: fingerprint}


def security_options(spec: ContainerSpec) -> list[str]:
    options = ["no-new-privileges:true"] if spec.no_new_privileges else []
    if spec.seccomp_profile:
        options.append(f"seccomp={seccomp_profile(spec.seccomp_profile)}")
    if spec.apparmor_profile:
        options.append(f"apparmor={spec.apparmor_profile}")
    return options


def container_name(stack: str, service: str) -> str:
    return f"{stack}-{service}"


def volume_name(stack: str, service: str, volume: str) -> str:
    return f"{stack}-{service}-{volume}"


def fingerprint(
    spec: ContainerSpec, image_id: str, mounts: dict[str, Path], env: dict[str, str], *, long_lived: bool = False
) -> str:
    """Changes whenever anything the container runs with changes (so `up` recreates it)."""
    canonical = {**dataclasses.asdict(spec), "depends_on": sorted(spec.depends_on)}
    runtime = {"long_lived": long_lived, "restart": RESTART_POLICY, "logs": LOG_OPTIONS, "health": healthcheck(spec)}
    digest = hashlib.sha256(
        json.dumps(
            {"spec": canonical, "image": image_id, "env": sorted(env.items()), "runtime": runtime}, sort_keys=True
        ).encode()
    )
    for target, source in sorted(mounts.items()):
        digest.update(target.encode() + hashlib.sha256(source.read_bytes()).digest())
    if spec.seccomp_profile:  # a changed profile recreates the container
        digest.update(seccomp_profile(spec.seccomp_profile).encode())
    return digest.hexdigest()[:24]
