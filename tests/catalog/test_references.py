"""The fields that name another service are declared once (typed as service references in the models), and no
field holds a service name without being declared: validation, the dependency graph and the local renaming all
read that one declaration (mcpstack/catalog/references.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import environments, load_catalog
from mcpstack.catalog.models import Catalog, Name, RateLimits, ServiceName
from mcpstack.catalog.references import reference_fields, references
from tests.catalog.test_loader import only_problem
from tests.conftest import EditConfig

Position = tuple[tuple[str | int, ...], bool]  # (key path, whether it is a mapping key rather than a value)
KEY = "<key>"

# Places where the real catalog holds a service's name without referring to that service, and why.
NOT_REFERENCES: dict[tuple[str, ...], str] = {
    ("services", KEY): "where a service is defined: its own name",
    ("services", "*", "gateway", "routes", KEY): "a gateway route's name, usually its service's name",
    ("services", "*", "gateway", "clients", KEY): "a gateway client's name (the `open-webui` client)",
    ("services", "*", "gateway", "virtual_servers", "*", "routes", "*"): "a gateway route's name",
    ("services", "*", "open_webui", "gateway_client"): "names a gateway client (`open-webui`), not a service",
    ("services", "*", "kind"): "a service's kind, which the only service of a kind often takes as its name",
    ("services", "*", "command", "*"): "the program a service runs (`prometheus`), often its service's name",
    ("services", "*", "llm", "api"): "the API an LLM speaks (`ollama`)",
    ("services", "*", "ports", "*", "name"): "a port's name (Redis's port is `redis`)",
    ("services", "*", "health", "port"): "names a port of the service itself",
    ("tenancy", "tenants", "*", "tools", KEY): "a gateway route's name",
}


def service_names_in(data: Any, names: set[str], path: tuple[str | int, ...] = ()) -> Iterator[Position]:
    """Every position in a model whose mapping key or string value is a name from `names`, found by looking at
    the values only (never at the annotations that declare references)."""
    if isinstance(data, BaseModel):
        for field in type(data).model_fields:
            yield from service_names_in(getattr(data, field), names, (*path, field))
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in names:
                yield (*path, key), True
            yield from service_names_in(value, names, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from service_names_in(value, names, (*path, index))
    elif isinstance(data, str) and data in names:
        yield path, False


def matching(position: Position) -> list[tuple[str, ...]]:
    """The NOT_REFERENCES patterns that cover `position`."""
    path, is_key = position
    return [
        pattern
        for pattern in NOT_REFERENCES
        if (pattern[-1] == KEY) == is_key
        and len(pattern) == len(path)
        and all(part in ("*", KEY) or part == actual for part, actual in zip(pattern, path, strict=True))
    ]


def undeclared(model: BaseModel, names: set[str]) -> list[Position]:
    """Positions in `model` that hold one of `names` yet are neither declared references nor NOT_REFERENCES."""
    declared = {(ref.path, ref.key) for ref in references(model)}
    return [
        position for position in service_names_in(model, names) if position not in declared and not matching(position)
    ]


@pytest.mark.parametrize("env", environments(DEFAULT_CONFIG_DIR))
def test_every_service_name_in_the_catalog_sits_in_a_declared_reference(env: str) -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, env)
    assert undeclared(catalog, set(catalog.services)) == []
    assert len(list(references(catalog))) > 10  # the walk found the references themselves


def test_every_exception_is_needed_by_some_environment() -> None:
    used = set()
    for env in environments(DEFAULT_CONFIG_DIR):
        catalog = load_catalog(DEFAULT_CONFIG_DIR, env)
        used |= {p for position in service_names_in(catalog, set(catalog.services)) for p in matching(position)}
    assert set(NOT_REFERENCES) - used == set()


def test_a_field_holding_a_service_name_without_being_declared_is_caught() -> None:
    class RateLimitsWithFallback(RateLimits):
        fallback_redis: Name | None = None  # names a service, not typed ServiceName
        shards: dict[Name, list[Name]] = {}

    limits = RateLimitsWithFallback(redis="redis", fallback_redis="redis", shards={"a": ["time", "redis"]})
    assert undeclared(limits, {"redis", "time"}) == [
        (("fallback_redis",), False),
        (("shards", "a", 0), False),
        (("shards", "a", 1), False),
    ]

    class Declared(RateLimits):
        fallback_redis: ServiceName | None = None

    assert undeclared(Declared(redis="redis", fallback_redis="redis"), {"redis"}) == []


def test_the_declared_reference_fields() -> None:
    assert reference_fields(Catalog) == {
        "services.*.depends_on[*]",
        "services.*.gateway.routes.*.service",
        "services.*.gateway.rate_limits.redis",
        "services.*.gateway.user_directory.service",  # called, not waited for (starts_first=False)
        "services.*.open_webui.llm",
        "services.*.open_webui.gateway",
        "services.*.open_webui.redis",
        "services.*.grafana.datasource",
        "kubernetes.internet_egress[*]",
        "kubernetes.exposed[*]",
        "local.publish.<key>",
        "local.substitutes.<key>",
        "local.substitutes.*",
        "local.skip[*]",
    }


def test_every_reference_is_validated_with_the_kind_its_field_asks_for(edit_config: EditConfig) -> None:
    config = edit_config("      gateway: mcpo\n", "      gateway: mcpo\n      redis: prometheus\n")
    problem = only_problem(config)
    assert problem.path == "services.open-webui.open_webui.redis"
    assert problem.message == "service 'prometheus' is a prometheus, not a redis"
