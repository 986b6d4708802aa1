"""The charts' real templates, where the charts are present locally: each Helm release of the render
rendered offline by helm-python-sdk (Helm as a library; no helm binary, no cluster) with its values,
so the policy checks the objects the cluster would get, not only our model of them (views.py).

Charts are third-party code and never committed: put an unpacked chart at
`CHARTS_DIR/<chart>-<version>/` (e.g. `helm pull open-webui/open-webui --version 16.0.0 --untar`
on a machine that reaches the repository, then rename the folder). CHARTS_DIR is `$MCPSTACK_CHARTS`,
else `.mcpstack/charts/` in the checkout (git-ignored). Releases whose chart is absent keep only the
values-level checks.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import helm_python
import yaml

from infra.render import Registered, Rendered
from mcpstack import REPO_ROOT

CHARTS_ENV = "MCPSTACK_CHARTS"
DEFAULT_CHARTS_DIR = REPO_ROOT / ".mcpstack" / "charts"

Obj = dict[str, Any]


class TemplateError(RuntimeError):
    pass


def charts_dir() -> Path:
    return Path(os.environ.get(CHARTS_ENV) or DEFAULT_CHARTS_DIR)


def chart_path(directory: Path, release: Registered) -> Path | None:
    """The unpacked chart of a release, if present: DIR/<chart>-<version>/Chart.yaml."""
    path = directory / f"{release.body.get('chart')}-{release.body.get('version')}"
    return path if (path / "Chart.yaml").is_file() else None


def render_release(path: Path, release: Registered) -> list[Obj]:
    """The release's chart templates rendered with its values, as Kubernetes objects (hooks and
    tests included: Helm runs them on the cluster too)."""
    body = release.body
    namespace = str(body.get("namespace"))
    try:
        manifests = helm_python.Chart.load(str(path)).render(
            values=body.get("values") or {}, name=str(body.get("name")), namespace=namespace, is_install=True
        )
    except Exception as exc:  # helm_python's errors: values or templates that do not render
        raise TemplateError(f"{path.name}: {exc}") from exc
    objects: list[Obj] = []
    for template, text in sorted(manifests.items()):
        if not template.endswith((".yaml", ".yml")):
            continue  # NOTES.txt and helpers
        for document in yaml.safe_load_all(text):
            if isinstance(document, dict) and document.get("kind"):
                document.setdefault("metadata", {}).setdefault("namespace", namespace)
                objects.append(document)
    return objects


def with_templates(rendered: Rendered, directory: Path | None = None) -> tuple[Rendered, list[str]]:
    """The render plus, for each release whose chart is present, the objects its templates make
    (children of the release's component); and the charts so rendered."""
    directory = directory or charts_dir()
    added: list[Registered] = []
    used: list[str] = []
    for release in rendered.releases():
        path = chart_path(directory, release)
        if path is None:
            continue
        used.append(path.name)
        for index, obj in enumerate(render_release(path, release)):
            added.append(
                Registered(
                    urn=f"{release.urn}$template::{index}",
                    type=f"kubernetes:{obj.get('apiVersion')}:{obj.get('kind')}",
                    name=str(obj["metadata"].get("name")),
                    parent=release.parent,
                    custom=True,
                    inputs=obj,
                    body=obj,
                    provider=release.provider,
                )
            )
    if not added:
        return rendered, used
    return dataclasses.replace(rendered, resources=[*rendered.resources, *added]), used
