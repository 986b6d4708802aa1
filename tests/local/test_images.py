"""Image plans and build contexts: what goes into an image and when it must be rebuilt."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.catalog import load_catalog
from mcpstack.local.images import (
    CA_PATH,
    ImageBuildError,
    ImagePlan,
    build_context,
    find_host_wheels,
    plan_images,
)
from mcpstack.local.view import local_view


def members(context: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(context)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    (tmp_path / "app" / "tests").mkdir()
    (tmp_path / "app" / "tests" / "test_main.py").write_text("def test(): pass\n")
    (tmp_path / "app" / "__pycache__").mkdir()
    (tmp_path / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


PLAN = ImagePlan("example/app:1", "Dockerfile", ("app",), {"A": "1"})


def test_plans_cover_every_built_image_once() -> None:
    plans = {p.ref: p for p in plan_images(local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev")))}
    assert {ref.partition(":")[0] for ref in plans} == {
        "mcpstack/time",
        "mcpstack/sandbox",
        "mcpstack/mcpo",
        "mcpstack/prometheus",
        "mcpstack/open-webui",
        "mcpstack/llm-standin",
        "mcpstack/github-mcp-reference",
        "mcpstack/github-api-standin",
    }  # registry images (ollama, github, grafana) are pulled, never built; redis is prod-only
    assert len(plans) == len({ref.partition(":")[0] for ref in plans})
    assert plans["mcpstack/mcpo:0.0.20-mcpstack.2"].args == {
        "STDIO_SERVERS": "time-reference=mcp-server-time==2026.10.19"
    }
    assert plans["mcpstack/time:0.1.0"].args == {"REQUIREMENTS": "servers/timeserver/requirements.txt"}


def test_context_holds_the_includes_the_dockerfile_and_the_ca_bundle(source_tree: Path) -> None:
    files = members(build_context(PLAN, source_tree, b"CA")[0])
    assert set(files) == {"Dockerfile", "app/main.py", CA_PATH}
    assert files[CA_PATH] == b"CA"


def test_context_hash_is_stable_and_follows_inputs(source_tree: Path) -> None:
    first = build_context(PLAN, source_tree, b"")[1]
    assert build_context(PLAN, source_tree, b"other CA")[1] == first  # trusting a CA changes nothing built
    (source_tree / "app" / "main.py").write_text("print('changed')\n")
    changed = build_context(PLAN, source_tree, b"")[1]
    assert changed != first
    assert build_context(ImagePlan(PLAN.ref, PLAN.dockerfile, PLAN.include, {"A": "2"}), source_tree, b"")[1] != changed


def test_context_bytes_are_deterministic(source_tree: Path) -> None:
    assert build_context(PLAN, source_tree, b"")[0] == build_context(PLAN, source_tree, b"")[0]


def test_missing_include_is_a_clear_error(source_tree: Path) -> None:
    shutil.rmtree(source_tree / "app")
    with pytest.raises(ImageBuildError, match=r"build\.include entry 'app' does not exist"):
        build_context(PLAN, source_tree, b"")


def test_real_python_service_contexts_exclude_tests() -> None:
    plan = next(
        p for p in plan_images(local_view(load_catalog(DEFAULT_CONFIG_DIR, "dev"))) if p.ref.startswith("mcpstack/time")
    )
    names = set(members(build_context(plan, REPO_ROOT, b"")[0]))
    assert "servers/timeserver/server.py" in names
    assert "images/python-service/Dockerfile" in names
    assert not any("/tests/" in name for name in names)


def test_host_wheels_come_from_pips_find_links_into_the_context(
    source_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    links = tmp_path / "wheels"
    links.mkdir()
    (links / "torch-9.9.9+cpu-cp311-cp311-linux_x86_64.whl").write_bytes(b"wheel bytes")
    (links / "other-1.0-py3-none-any.whl").write_bytes(b"x")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    wheels = find_host_wheels(("torch-9.9.9+cpu-*.whl",))
    assert [w.name for w in wheels] == ["torch-9.9.9+cpu-cp311-cp311-linux_x86_64.whl"]
    plan = ImagePlan("example/app:1", "Dockerfile", ("app",), host_wheels=("torch-9.9.9+cpu-*.whl",))
    context, digest = build_context(plan, source_tree, b"", wheels)
    assert members(context)[".mcpstack-build/wheels/torch-9.9.9+cpu-cp311-cp311-linux_x86_64.whl"] == b"wheel bytes"
    assert build_context(plan, source_tree, b"", [])[1] == digest  # the request, not the machine, is hashed
