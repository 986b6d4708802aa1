"""Catalog checks of Redis' authentication (its password a mounted secret file, in Redis and in the gateway) and
of scrape coverage (every service the platform runs is scraped, or the catalog says why not)."""

from __future__ import annotations

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.catalog.scrape_coverage import unscraped
from tests.catalog.test_loader import line_of, only_problem
from tests.conftest import EditConfig

GATEWAY_MOUNT = (
    "      # rate_limits.redis: the gateway authenticates to Redis with this file (never in its generated config)\n"
    "      - {secret: redis-password, file: /run/secrets/redis/password}\n"
)
REDIS_MOUNT = (
    "    secrets:\n      - {secret: redis-password, file: /run/secrets/redis/password}\n    resources:\n"
    "      requests: {cpu: 50m, memory: 32Mi}"
)


def test_the_gateway_using_redis_must_mount_its_password_as_a_file(edit_config: EditConfig) -> None:
    config = edit_config(GATEWAY_MOUNT, "")
    problem = only_problem(config, "prod")  # dev runs no Redis: nothing to authenticate to
    assert problem.path == "services.mcpo.gateway.rate_limits.redis"
    assert "requires secret 'redis-password': mount it as a file in services.mcpo.secrets" in problem.message
    assert problem.location is not None and problem.location.line == line_of(config, "redis: redis  # buckets")


def test_redis_must_read_its_password_from_a_mounted_file(edit_config: EditConfig) -> None:
    config = edit_config(REDIS_MOUNT, "    resources:\n      requests: {cpu: 50m, memory: 32Mi}")
    problem = only_problem(config, "prod")
    assert problem.path == "services.redis.redis.password"
    assert problem.message == "mount secret 'redis-password' as a file in services.redis.secrets"


def test_redis_password_must_be_a_catalog_secret(edit_config: EditConfig) -> None:
    config = edit_config("      password: redis-password  #", "      password: redis-pasword  #")
    problem = only_problem(config, "prod")
    assert problem.path == "services.redis.redis.password"
    assert "unknown secret 'redis-pasword'" in problem.message


def test_a_service_neither_scraped_nor_explained_fails_with_its_file_and_line(edit_config: EditConfig) -> None:
    config = edit_config(
        "    metrics_unavailable: Ollama 0.32.15 has no /metrics endpoint; its health is the probes on /api/version\n",
        "",
    )
    problem = only_problem(config, "prod")
    assert problem.path == "services.ollama"
    assert "declare `metrics` (its endpoint) or `metrics_unavailable` (why not)" in problem.message
    assert problem.location is not None
    assert problem.location.file.endswith("catalog.yaml")
    assert problem.location.line == line_of(config, "  ollama:") + 1


def test_a_scraped_service_cannot_also_claim_to_be_unscraped(edit_config: EditConfig) -> None:
    config = edit_config(
        "    metrics: {path: /metrics, port: http}\n    mcp:\n      transports:\n"
        "        streamable-http: /mcp\n        sse",
        "    metrics: {path: /metrics, port: http}\n    metrics_unavailable: x\n    mcp:\n      transports:\n"
        "        streamable-http: /mcp\n        sse",
    )
    problem = only_problem(config, "dev")
    assert problem.path == "services.time.metrics_unavailable"
    assert problem.message == "it declares `metrics` too: give one of the two"


def test_every_deployed_service_is_scraped_or_says_why_not() -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, "prod")
    deployed = {name for name, service in catalog.services.items() if not service.local_only}
    scraped = {name for name in deployed if catalog.services[name].metrics}
    assert scraped | set(unscraped(catalog)) == deployed
    assert {"time", "sandbox", "mcpo", "redis-exporter", "prometheus"} <= scraped
    assert {"open-webui", "ollama", "github", "redis"} <= set(unscraped(catalog))
    assert "OpenTelemetry" in unscraped(catalog)["open-webui"]
