"""Where a cluster pulls the images built from this repository: a registry prefix and, per image, the
digest `mcpstack images push` recorded there.

The record (`.mcpstack/image-digests.json`, or $MCPSTACK_IMAGE_DIGESTS) maps each registry to the
images pushed to it: `{"REGISTRY": {"mcpstack/time:0.1.0": "sha256:…"}}`. It is per machine and per
registry, never committed. With a registry, every image of ours is deployed by digest
(`REGISTRY/mcpstack/time@sha256:…`): what was pushed is exactly what runs, and an image that was not
pushed fails the stack before anything is created instead of hanging in ImagePullBackOff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mcpstack import REPO_ROOT

RECORD_ENV = "MCPSTACK_IMAGE_DIGESTS"
# Offline checks only (`mcpstack render` / `policy`): an image with no recorded digest is rendered with this
# all-zero digest instead of failing, so the rest of the stack can still be checked; the command names those
# images. `pulumi up` never sets it, so a real deployment still refuses unpushed images.
UNPUSHED_ENV = "MCPSTACK_UNPUSHED_IMAGES"
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64
DEFAULT_RECORD = REPO_ROOT / ".mcpstack" / "image-digests.json"
Record = dict[str, dict[str, str]]  # registry -> local image ref -> sha256 digest


class ImagesNotPushed(ValueError):
    """Images a stack runs from its registry that have no recorded digest there."""

    def __init__(self, registry: str, missing: Iterable[str], record: Path) -> None:
        self.missing = sorted(set(missing))
        super().__init__(
            f"images not pushed to {registry} (no digest in {record}): {', '.join(self.missing)}; "
            f"run `mcpstack images push --registry {registry} --env ENV` first"
        )


def record_path() -> Path:
    return Path(os.environ.get(RECORD_ENV) or DEFAULT_RECORD)


def read_record(path: Path) -> Record:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(registry): {str(k): str(v) for k, v in images.items()} for registry, images in data.items()}


def write_record(path: Path, registry: str, digests: Mapping[str, str]) -> Record:
    """Add (or replace) the digests of images pushed to `registry`; other registries are kept."""
    record = read_record(path)
    record[normalized(registry)] = {**record.get(normalized(registry), {}), **digests}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return record


def normalized(registry: str) -> str:
    return registry.strip().rstrip("/")


def repository(ref: str) -> str:
    """`host:5000/a/b:tag` or `…@sha256:…` -> `host:5000/a/b`."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


@dataclass(frozen=True)
class ImageSource:
    """Where the images built here come from: their local names (no registry), or a registry, by digest."""

    registry: str = ""
    digests: Mapping[str, str] = field(default_factory=dict)  # local ref -> sha256:… pushed to `registry`
    record: Path = DEFAULT_RECORD
    pull_secret: str = ""  # a kubernetes.io/dockerconfigjson Secret our pods pull with; empty: none
    placeholders: bool = False  # offline checks: unpushed images get PLACEHOLDER_DIGEST instead of failing

    @staticmethod
    def from_record(registry: str, pull_secret: str = "", path: Path | None = None) -> ImageSource:
        path = path or record_path()
        registry = normalized(registry)
        digests = read_record(path).get(registry, {}) if registry else {}
        placeholders = os.environ.get(UNPUSHED_ENV) == "placeholder"
        return ImageSource(registry, digests, path, pull_secret, placeholders)

    def ref(self, image: str) -> str:
        """The reference a cluster pulls for an image built here (`image`: its local `repo:tag`)."""
        if not self.registry:
            return image
        if image not in self.digests and not self.placeholders:
            raise ImagesNotPushed(self.registry, [image], self.record)
        return f"{self.registry}/{repository(image)}@{self.digests.get(image, PLACEHOLDER_DIGEST)}"

    def missing(self, images: Iterable[str]) -> list[str]:
        return sorted({i for i in images if self.registry and i not in self.digests})

    def require(self, images: Iterable[str]) -> None:
        """Fail naming every image among `images` that has no digest in the registry."""
        missing = self.missing(images)
        if missing and not self.placeholders:
            raise ImagesNotPushed(self.registry, missing, self.record)
