"""Shared fixtures: a copy of the real catalog that a test can break in one precise way."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.local.docker_engine import docker_client
from mcpstack.local.images import ImageBuilder

EditConfig = Callable[..., Path]


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


@pytest.fixture
def edit_config(config_copy: Path) -> EditConfig:
    """edit_config(old, new, file="catalog.yaml"): replace text that must occur exactly once."""

    def edit(old: str, new: str, file: str = "catalog.yaml") -> Path:
        path = config_copy / file
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
        path.write_text(text.replace(old, new))
        return config_copy

    return edit


@pytest.fixture(scope="session")
def built_images() -> None:
    """Every image of the dev catalog, built if missing or outdated (offline base when no registry)."""
    ImageBuilder(docker_client(), log=lambda _: None).ensure(load_catalog(DEFAULT_CONFIG_DIR, "dev"))
