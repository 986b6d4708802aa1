"""Connection to the local Docker engine, with an error that says what to do when there is none."""

from __future__ import annotations

import docker
from docker.errors import DockerException


class DockerUnavailable(RuntimeError):
    pass


def docker_client(timeout: int = 300) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        raise DockerUnavailable(
            "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock). "
            "Run scripts/bootstrap.sh, which installs and starts one, or start dockerd yourself. "
            f"Detail: {exc}"
        ) from exc
    return client
