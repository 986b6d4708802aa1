"""The local runtime on a real Docker engine: start-up, idempotence, failure clean-up, down."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from mcpstack.catalog import load_catalog
from mcpstack.local.containers import LABEL_SERVICE, LABEL_STACK, container_name, volume_name
from mcpstack.local.logs import show_logs, stack_containers
from mcpstack.local.stack import LocalStack, StackError
from tests.conftest import EditConfig

pytestmark = pytest.mark.docker


@pytest.fixture
def stack_factory(tmp_path: Path, built_images: None) -> Iterator:
    """stack_factory(config) -> a LocalStack on free ports; every stack made is removed afterwards."""
    made: list[LocalStack] = []

    def make(config: Path, name: str | None = None, *, long_lived: bool = False) -> LocalStack:
        stack = LocalStack(
            load_catalog(config, "dev"),
            name=name or f"mcpstack-test-{uuid.uuid4().hex[:8]}",
            fixed_host_ports=False,
            state_root=tmp_path / "state",
            log=lambda _: None,
            long_lived=long_lived,
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
        "      MCP_ALLOWED_HOSTS: time:8003\n",
        "      MCP_ALLOWED_HOSTS: time:8003\n      EXTRA: changed\n",
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


# Kills the main process from inside: pid 1 when it is the service (it handles SIGTERM; a namespace's init ignores
# signals it has no handler for, SIGKILL included), else pid 1's children (tini then exits with them).
KILL_MAIN = (
    "import os, signal\n"
    "stats = {int(p): open(f'/proc/{p}/stat').read().split() for p in os.listdir('/proc') if p.isdigit()}\n"
    "children = [pid for pid, stat in stats.items() if stat[3] == '1']\n"
    "comm = open('/proc/1/comm').read().strip()\n"
    "[os.kill(c, signal.SIGKILL) for c in children] if comm == 'tini' else os.kill(1, signal.SIGTERM)\n"
)


def wait_for(what: str, condition, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.5)


def test_long_lived_stack_comes_back_by_itself_after_its_main_processes_die(
    edit_config: EditConfig, stack_factory
) -> None:
    config = edit_config("  skip: [grafana]", "  skip: [grafana, open-webui, mcpo]", file="environments/dev.yaml")
    stack = stack_factory(config, long_lived=True)
    assert set(stack.specs) == {"time", "sandbox", "prometheus"}
    stack.up(build=False)
    client = docker.from_env()
    urls = {service: stack.urls(service) for service in ("time", "sandbox")}
    for service in stack.specs:
        attrs = client.containers.get(container_name(stack.name, service)).attrs
        assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert attrs["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
        container_labels = attrs["Config"]["Labels"]
        assert not [key for key in container_labels if key.startswith("org.testcontainers")]
        assert container_labels[LABEL_STACK] == stack.name and container_labels[LABEL_SERVICE] == service
        wait_for(f"{service}'s Docker health check", lambda c=attrs["Id"]: _docker_health(client, c) == "healthy")

    for service in ("time", "sandbox"):  # pid 1 is python in one, tini in the other
        container = client.containers.get(container_name(stack.name, service))
        container.exec_run(["python3", "-c", KILL_MAIN], user=stack.specs[service].user)
        wait_for(f"{service} restarted", lambda c=container: client.containers.get(c.id).attrs["RestartCount"] >= 1)
        wait_for(f"{service} healthy again", lambda s=service: _health(stack, s) == "healthy")
        assert stack.urls(service) == urls[service], "a restarted container keeps its host ports"
        assert httpx.get(urls[service]["http"] + "/health", timeout=5).status_code == 200

    logged: list[str] = []
    show_logs(stack_containers(client, stack.name), logged.append, tail=50)
    assert {line.partition(" ")[0] for line in logged} == {"time", "sandbox", "prometheus"}
    one: list[str] = []
    show_logs(stack_containers(client, stack.name, "time"), one.append, tail=3)
    assert 0 < len(one) <= 3 and not one[0].startswith("time ")


def test_the_e2e_stacks_stay_short_lived(edit_config: EditConfig, stack_factory) -> None:
    config = edit_config(
        "  skip: [grafana]", "  skip: [grafana, open-webui, mcpo, sandbox]", file="environments/dev.yaml"
    )
    stack = stack_factory(config)
    stack.up(build=False)
    attrs = docker.from_env().containers.get(container_name(stack.name, "time")).attrs
    assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "no"


def _health(stack: LocalStack, service: str) -> str:
    return {s.service: s.health for s in stack.status()}.get(service, "missing")


def _docker_health(client: docker.DockerClient, container: str) -> str:
    return client.containers.get(container).attrs["State"].get("Health", {}).get("Status", "none")
