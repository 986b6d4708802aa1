"""The stacks under Pulumi's mocks: `render_stack` sets the mocks (pulumi.runtime.set_mocks) before the
program in stacks/__main__.py runs, and records every resource it registers, with its inputs."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.render import Registered, Rendered, render_stack
from mcpstack.deployment.images import RECORD_ENV

# What `mcpstack images push` would record for the stacks' example registries (digests made up): the prod
# stack deploys our images by digest and fails without one (tests/infra/test_images_push.py).
IMAGE_DIGESTS = Path(__file__).parent / "data" / "image-digests.json"


@pytest.fixture(scope="session", autouse=True)
def image_digests() -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RECORD_ENV, str(IMAGE_DIGESTS))
        yield IMAGE_DIGESTS


@pytest.fixture(scope="session")
def dev() -> Rendered:
    return render_stack("dev")


@pytest.fixture(scope="session")
def prod() -> Rendered:
    return render_stack("prod")


def render_with(config: Path, stack: str, **settings: Any) -> Rendered:
    """A stack rendered from another catalog directory (a test's copy) and other settings."""
    return render_stack(stack, overrides={"configDir": str(config), **settings})


def obj(rendered: Rendered, kind: str, name: str) -> dict[str, Any]:
    return rendered.find(kind, name)


def objects(rendered: Rendered, kind: str) -> list[dict[str, Any]]:
    return [o for o in rendered.objects() if o["kind"] == kind]


def release(rendered: Rendered, chart: str) -> Registered:
    return next(r for r in rendered.releases() if r.body["chart"] == chart)


def values(rendered: Rendered, chart: str) -> dict[str, Any]:
    return release(rendered, chart).body["values"]


def container(rendered: Rendered, deployment: str) -> dict[str, Any]:
    return obj(rendered, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]


def env(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in entries}


def secret_data(rendered: Rendered, name: str) -> dict[str, str]:
    found = obj(rendered, "Secret", name)
    return {**found.get("data", {}), **found.get("stringData", {})}


def mutable(rendered: Rendered) -> Rendered:
    return copy.deepcopy(rendered)


def set_catalog_line(config: Path, key: str, line: str) -> Path:
    """Replace the one catalog line starting with `key` (indentation included) by `line`."""
    path = config / "catalog.yaml"
    lines = path.read_text().splitlines(keepends=True)
    found = [i for i, text in enumerate(lines) if text.startswith(key)]
    assert len(found) == 1, f"{key!r} starts {len(found)} lines"
    lines[found[0]] = line + "\n"
    path.write_text("".join(lines))
    return config
