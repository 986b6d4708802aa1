"""The stack under test: a fresh one from the catalog (default), a running local one (--stack), or a
deployed one described by a file (--target).

A fresh stack runs the same containers `mcpstack up` runs (same images, commands, env, ports), on free
host ports on 127.0.0.1 so it can run beside a developer's own stack.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from e2e.chat.openwebui import OpenWebUI
from e2e.target import Target
from mcpstack.catalog import load_catalog
from mcpstack.catalog.discovery import find_config_dir
from mcpstack.local.stack import LocalStack


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcpstack")
    group.addoption("--stack", help="test this running local stack (see `mcpstack status`) instead of a fresh one")
    group.addoption("--target", type=Path, help="test a deployed stack described by this YAML file (e2e/target.py)")
    group.addoption("--env", default="dev", help="catalog environment for a fresh stack (default: dev)")


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    if request.config.getoption("--target"):
        pytest.fail("this test needs a local stack (it inspects or restarts containers); run it without --target")
    name = request.config.getoption("--stack")
    if name:
        yield LocalStack.attach(name, config_dir=find_config_dir().path)
        return
    catalog = load_catalog(find_config_dir().path, request.config.getoption("--env"))
    local = LocalStack(catalog, name=f"mcpstack-e2e-{uuid.uuid4().hex[:8]}", fixed_host_ports=False)
    try:
        local.up(timeout=180)
        yield local
    finally:
        local.down(volumes=True)
        local.purge_state()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    described = request.config.getoption("--target")
    if described:
        return Target.from_file(described, find_config_dir().path)
    return Target.from_stack(request.getfixturevalue("stack"))


@pytest.fixture(scope="session")
def gateway(target: Target) -> Iterator[httpx.Client]:
    """An authenticated client for the gateway, as the e2e client (tenant: platform)."""
    with httpx.Client(
        base_url=target.gateway_url, timeout=30.0, headers={"Authorization": f"Bearer {target.gateway_key}"}
    ) as client:
        yield client


@pytest.fixture(scope="session")
def prometheus(target: Target) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.prometheus_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def webui(target: Target) -> Iterator[OpenWebUI]:
    if target.open_webui is None:
        pytest.fail("this target has no Open WebUI")
    session = OpenWebUI.sign_in(target.open_webui.url, target.open_webui.email, target.open_webui.password)
    yield session
    session.close()


@pytest.fixture(scope="session")
def model(webui: OpenWebUI) -> str:
    models = webui.models()
    assert models, "Open WebUI lists no model: is the LLM reachable?"
    return models[0]
