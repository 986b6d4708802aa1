"""The stack under test: started fresh from the catalog (default), or a running one (--stack).

A fresh stack runs the same containers `mcpstack up` runs (same images, commands, env, ports),
on free host ports on 127.0.0.1 so it can run beside a developer's own stack.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.catalog.models import GatewayService, PrometheusService
from mcpstack.local.stack import LocalStack


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcpstack")
    group.addoption("--stack", help="test this running local stack (see `mcpstack status`) instead of a fresh one")
    group.addoption("--env", default="dev", help="catalog environment for a fresh stack (default: dev)")


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    name = request.config.getoption("--stack")
    if name:
        yield LocalStack.attach(name)
        return
    catalog = load_catalog(DEFAULT_CONFIG_DIR, request.config.getoption("--env"))
    local = LocalStack(catalog, name=f"mcpstack-e2e-{uuid.uuid4().hex[:8]}", fixed_host_ports=False)
    try:
        local.up()
        yield local
    finally:
        local.down(volumes=True)
        local.purge_state()


@pytest.fixture(scope="session")
def gateway_name(stack: LocalStack) -> str:
    return next(n for n, s in stack.catalog.services.items() if isinstance(s, GatewayService))


@pytest.fixture(scope="session")
def gateway_key(stack: LocalStack, gateway_name: str) -> str:
    """The e2e client's API key (tenant: platform, every tool)."""
    service = stack.catalog.services[gateway_name]
    return stack.secrets.value(service.gateway.clients["e2e"].secret)


@pytest.fixture(scope="session")
def gateway(stack: LocalStack, gateway_name: str, gateway_key: str) -> Iterator[httpx.Client]:
    """An authenticated client for the gateway (mcpo)."""
    with httpx.Client(
        base_url=stack.url(gateway_name), timeout=30.0, headers={"Authorization": f"Bearer {gateway_key}"}
    ) as client:
        yield client


@pytest.fixture(scope="session")
def prometheus(stack: LocalStack) -> Iterator[httpx.Client]:
    name = next(n for n, s in stack.catalog.services.items() if isinstance(s, PrometheusService))
    with httpx.Client(base_url=stack.url(name), timeout=10.0) as client:
        yield client
