"""A catalog service as a testcontainers container: the one way mcpstack starts containers,
for `mcpstack up` and for the e2e suites alike."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
from pathlib import Path
from typing import Any

from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from mcpstack import REPO_ROOT
from mcpstack.deployment import labels
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


def free_host_port() -> int:
    """A port free on 127.0.0.1 now. Published explicitly rather than as Docker's "any port", because
    Docker picks a new ephemeral port each time a container restarts and the stack's URLs would go stale."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServiceContainer(DockerContainer):
    def __init__(
        self,
        spec: ContainerSpec,
        *,
        stack: str,
        environment: str,
        network: str,
        mounts: dict[str, Path],  # container path -> prepared host file
        env: dict[str, str],  # plain env plus env-injected secrets
        fingerprint: str,
    ) -> None:
        super().__init__(spec.image, name=container_name(stack, spec.service))
        self.spec = spec
        for target, source in sorted(mounts.items()):
            self.with_volume_mapping(str(source), target, mode="ro")
        for volume, target in sorted(spec.volumes.items()):
            self.with_volume_mapping(volume_name(stack, spec.service, volume), target, mode="rw")
        for port_name, port in spec.ports.items():
            self.ports[f"{port}/tcp"] = ("127.0.0.1", spec.published.get(port_name) or free_host_port())
        self.tmpfs = {path: f"rw,nosuid,nodev,size={memory_bytes(spec.tmpfs_size)}" for path in spec.tmpfs}
        kwargs: dict[str, Any] = {
            "user": spec.user,
            "read_only": spec.read_only,
            "cap_drop": list(spec.cap_drop),
            "security_opt": security_options(spec),
            "labels": container_labels(spec, stack=stack, environment=environment, fingerprint=fingerprint),
            "network": network,
            "networking_config": {network: self._endpoint_config(network, [spec.service, *spec.aliases])},
            "restart_policy": {"Name": "no"},
        }
        if spec.command:
            kwargs["entrypoint"] = list(spec.command)
        if spec.sysctls:
            kwargs["sysctls"] = dict(spec.sysctls)
        if spec.memory_limit:
            kwargs["mem_limit"] = memory_bytes(spec.memory_limit)
        if spec.cpu_limit:
            kwargs["nano_cpus"] = int(cpu_cores(spec.cpu_limit) * 1e9)
        if spec.pids_limit:
            kwargs["pids_limit"] = spec.pids_limit
        if spec.runtime:
            kwargs["runtime"] = spec.runtime
        self.with_kwargs(**kwargs)
        self.env = dict(env)

    def _endpoint_config(self, network: str, aliases: list[str]) -> Any:
        return self.get_docker_client().client.api.create_endpoint_config(aliases=aliases)


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


def fingerprint(spec: ContainerSpec, image_id: str, mounts: dict[str, Path], env: dict[str, str]) -> str:
    """Changes whenever anything the container runs with changes (so `up` recreates it)."""
    canonical = {**dataclasses.asdict(spec), "depends_on": sorted(spec.depends_on)}
    digest = hashlib.sha256(
        json.dumps({"spec": canonical, "image": image_id, "env": sorted(env.items())}, sort_keys=True).encode()
    )
    for target, source in sorted(mounts.items()):
        digest.update(target.encode() + hashlib.sha256(source.read_bytes()).digest())
    if spec.seccomp_profile:  # a changed profile recreates the container
        digest.update(seccomp_profile(spec.seccomp_profile).encode())
    return digest.hexdigest()[:24]
