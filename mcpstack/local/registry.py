"""Pushing locally built images to a registry: tag each as REGISTRY/REPO:TAG, push it, and return the
digest the registry stored (what a cluster then pulls by `REGISTRY/REPO@DIGEST`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import docker
from docker.errors import APIError, ImageNotFound


class PushError(RuntimeError):
    pass


@dataclass(frozen=True)
class Pushed:
    image: str  # the local ref, e.g. mcpstack/time:0.1.0
    target: str  # REGISTRY/mcpstack/time:0.1.0
    digest: str  # sha256:… of the manifest the registry stored


def missing_locally(client: docker.DockerClient, images: Iterable[str]) -> list[str]:
    missing = []
    for image in images:
        try:
            client.images.get(image)
        except ImageNotFound:
            missing.append(image)
    return missing


def push_image(client: docker.DockerClient, image: str, registry: str) -> Pushed:
    target = f"{registry.rstrip('/')}/{image}"
    repository, _, tag = target.rpartition(":")
    try:
        client.images.get(image).tag(repository, tag)
        digest = ""
        for event in client.images.push(repository, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise PushError(f"pushing {target}: {event['error']}")
            digest = (event.get("aux") or {}).get("Digest", digest)
    except (APIError, ImageNotFound) as exc:
        raise PushError(f"pushing {target}: {exc}") from exc
    if not digest.startswith("sha256:"):
        raise PushError(f"pushing {target}: the registry reported no digest")
    return Pushed(image=image, target=target, digest=digest)


def push_images(
    client: docker.DockerClient, images: Iterable[str], registry: str, log: Callable[[str], None]
) -> list[Pushed]:
    """Push every image (all present locally, else nothing is pushed)."""
    images = sorted(set(images))
    absent = missing_locally(client, images)
    if absent:
        raise PushError(f"not built locally: {', '.join(absent)} (mcpstack images build --env prod --all)")
    pushed = []
    for image in images:
        log(f"pushing {image} -> {registry}")
        pushed.append(push_image(client, image, registry))
    return pushed
