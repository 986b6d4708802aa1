"""Redis as prod runs it, in a real local stack: it refuses unauthenticated clients (NOAUTH), and Prometheus scrapes
its exporter, which authenticates with the same catalog secret (target up, `redis_up == 1`).

The dev overlay runs no Redis (one gateway replica, in-process buckets); this suite runs a variant with Redis, its
exporter and Prometheus only. The gateway's rate limiting through the password-protected Redis is
e2e/limits/test_rate_limits.py (its backend stays `redis`, never the fallback)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest

from mcpstack.local.containers import container_name
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import variant_stack

pytestmark = pytest.mark.docker
RUNS = ("redis", "redis-exporter", "prometheus")


def redis_and_its_exporter_only(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    overlay["services"].pop("redis")  # dev drops Redis and its exporter; this suite runs them as prod does
    overlay["services"].pop("redis-exporter")
    overlay["local"]["skip"] = sorted(set(catalog["services"]) - set(RUNS))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = tmp_path_factory.mktemp("redis") / "config"
    with variant_stack(config, redis_and_its_exporter_only, "mcpstack-redis") as running:
        yield running


def redis_cli(stack: LocalStack, *args: str) -> str:
    """redis-cli inside the Redis container (the server is not published to the host)."""
    container = docker.from_env().containers.get(container_name(stack.name, "redis"))
    _, output = container.exec_run(["redis-cli", "--no-auth-warning", *args])
    return output.decode().strip()


def test_redis_refuses_clients_without_the_password(stack: LocalStack) -> None:
    assert redis_cli(stack, "PING").startswith("NOAUTH")
    assert redis_cli(stack, "INCR", "mcpstack:probe").startswith("NOAUTH")
    assert redis_cli(stack, "-a", "not-the-password", "PING").startswith(("WRONGPASS", "AUTH failed"))
    password = stack.secrets.value(stack.catalog.services["redis"].redis.password)
    assert redis_cli(stack, "-a", password, "PING") == "PONG"


def test_prometheus_scrapes_the_exporter_which_authenticates_to_redis(stack: LocalStack) -> None:
    prometheus = stack.url("prometheus")
    deadline = time.monotonic() + 60
    results: dict[str, Any] = {}
    while time.monotonic() < deadline:
        for query in ('up{job="redis-exporter"}', 'redis_up{job="redis-exporter"}'):
            answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=10).json()
            results[query] = [sample["value"][1] for sample in answer["data"]["result"]]
        if all(values == ["1"] for values in results.values()):
            return
        time.sleep(2)
    pytest.fail(f"the exporter's target or redis_up is not 1 after 60 s: {results}")
