"""The local runtime on a real Docker engine: start-up, idempotence, failure clean-up, down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from mcpstack.catalog import load_catalog
from mcpstack.local.containers import LABEL_SERVICE, LABEL_STACK, volume_name
from mcpstack.local.stack import LocalStack, StackError
from tests.conftest import EditConfig

pytestmark = pytest.mark.docker


@pytest.fixture
def stack_factory(tmp_path: Path, built_images: None) -> Iterator:
    """stack_factory(config) -> a LocalStack on free ports; every stack made is removed afterwards."""
    made: list[LocalStack] = []

    def make(config: Path, name: str | None = None) -> LocalStack:
        stack = LocalStack(
            load_catalog(config, "dev"),
            name=name or f"mcpstack-test-{uuid.uuid4().hex[:8]}",
            fixed_host_ports=False,
            state_root=tmp_path / "state",
            log=lambda _: None,
        )
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.down(volumes=True)


def leftovers(name: str) -> list[str]:
    client = docker.from_env()
    label = {"label": f"{LABEL_STACK}={name}"}
    return [c.name for c in client.containers.list(all=True, filters=label)] + [
        n.name for n in client.networks.list(filters=label)
    ]


def container_ids(stack: LocalStack) -> dict[str, str]:
    client = docker.from_env()
    return {
        c.labels[LABEL_SERVICE]: c.id for c in client.containers.list(filters={"label": f"{LABEL_STACK}={stack.name}"})
    }


def test_failed_start_removes_the_whole_stack_and_shows_the_logs(edit_config: EditConfig, stack_factory) -> None:
    config = edit_config(
        'command: [python, -m, servers.timeserver, --port, "8003"]',
        "command: [python, -c, \"import sys; print('marker-7f3a: cannot start'); sys.exit(3)\"]",
    )
    stack = stack_factory(config)
    with pytest.raises(StackError) as failure:
        stack.up(build=False, timeout=60)
    assert "time exited during start-up" in str(failure.value)
    assert "marker-7f3a: cannot start" in str(failure.value)
    assert leftovers(stack.name) == []


def test_service_that_never_gets_healthy_times_out_and_is_removed(edit_config: EditConfig, stack_factory) -> None:
    config = edit_config(
        "    health: {path: /health, port: http}\n    metrics: {path: /metrics, port: http}\n    mcp:\n"
        "      transports:\n        streamable-http: /mcp\n        sse: /sse",
        "    health: {path: /no-such-path, port: http}\n    metrics: {path: /metrics, port: http}\n"
        "    mcp:\n      transports:\n        streamable-http: /mcp\n        sse: /sse",
    )
    stack = stack_factory(config)
    with pytest.raises(StackError, match="time did not become healthy in time"):
        stack.up(build=False, timeout=8)
    assert leftovers(stack.name) == []


def test_up_twice_keeps_containers_and_a_change_recreates_the_service_and_its_dependents(
    edit_config: EditConfig, config_copy: Path, stack_factory
) -> None:
    stack = stack_factory(config_copy)
    statuses = stack.up(build=False)
    assert {s.service: s.health for s in statuses} == dict.fromkeys(stack.specs, "healthy")
    assert {"mcpo", "time", "sandbox", "prometheus", "open-webui"} <= set(stack.specs)
    assert all(url.startswith("http://127.0.0.1:") for s in statuses for url in s.urls.values())
    before = container_ids(stack)
    stack.up(build=False)
    assert container_ids(stack) == before

    urls = stack.urls("time")
    stack.restart("time")
    assert stack.urls("time") == urls, "a restarted service must keep its host ports"
    assert httpx.get(urls["http"] + "/health", timeout=5).status_code == 200
    before = container_ids(stack)

    edit_config(
        '      PROMETHEUS_DISABLE_CREATED_SERIES: "true"\n    resources:\n      requests: {cpu: 50m',
        '      PROMETHEUS_DISABLE_CREATED_SERIES: "true"\n      EXTRA: changed\n    resources:\n'
        "      requests: {cpu: 50m",
    )
    changed = stack_factory(config_copy, name=stack.name)
    changed.up(build=False)
    after = container_ids(changed)
    assert after["sandbox"] == before["sandbox"]
    assert after["prometheus"] == before["prometheus"]
    assert after["time"] != before["time"]
    assert after["mcpo"] != before["mcpo"]  # the gateway depends on time, so it reconnects


def test_down_removes_containers_and_network_and_volumes_on_request(
    config_copy: Path, edit_config: EditConfig, stack_factory
) -> None:
    stack = stack_factory(config_copy)
    stack.up(build=False)
    # `mcpstack status` sees every stack through the default catalog: a service it lacks still shows
    edit_config("  skip: [grafana]", "  skip: [grafana, open-webui]", file="environments/dev.yaml")
    other = LocalStack(load_catalog(config_copy, "dev"), name=stack.name, log=lambda _: None)
    shown = {s.service: s for s in other.status()}
    assert "open-webui" not in other.specs and shown["open-webui"].health == "running"
    assert list(shown["open-webui"].urls) == ["8080"]
    removed = stack.down()
    assert leftovers(stack.name) == []
    assert any(item.startswith("container ") for item in removed)
    volumes = docker.from_env().volumes.list(filters={"label": f"{LABEL_STACK}={stack.name}"})
    declared = sorted(volume_name(stack.name, spec.service, v) for spec in stack.specs.values() for v in spec.volumes)
    assert f"{stack.name}-prometheus-data" in declared
    assert sorted(v.name for v in volumes) == declared  # kept, like compose
    assert f"volume {stack.name}-prometheus-data" in stack.down(volumes=True)
