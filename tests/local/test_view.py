"""The catalog as the local runtime runs it: stand-ins in place of what cannot run here."""

from __future__ import annotations

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.catalog.models import Catalog
from mcpstack.catalog.paths import KeyPath
from mcpstack.catalog.references import references
from mcpstack.local.view import UnknownService, local_view
from tests.catalog.test_loader import only_problem, problems
from tests.conftest import EditConfig


@pytest.fixture
def dev() -> Catalog:
    return load_catalog(DEFAULT_CONFIG_DIR, "dev")


def with_open_webui(_edit_config: EditConfig) -> Catalog:
    return load_catalog(DEFAULT_CONFIG_DIR, "dev")


def test_substitutes_take_the_place_and_the_references_of_the_real_service(edit_config: EditConfig) -> None:
    view = local_view(with_open_webui(edit_config))
    assert "ollama" not in view.services
    assert view.services["open-webui"].open_webui.llm == "llm-standin"
    assert "llm-standin" in view.services
    assert view.local.publish["llm-standin"] == 11434  # the publish entry follows the substitution


def test_real_runs_the_service_itself_and_drops_its_unused_stand_in(edit_config: EditConfig) -> None:
    view = local_view(with_open_webui(edit_config), real=["ollama"])
    assert view.services["open-webui"].open_webui.llm == "ollama"
    assert "llm-standin" not in view.services  # local_only and no longer used


def test_unknown_real_name_is_refused(dev: Catalog) -> None:
    with pytest.raises(UnknownService, match="--real time: not substituted locally"):
        local_view(dev, real=["time"])


def test_skipped_services_are_not_run_and_stand_ins_only_where_used(dev: Catalog) -> None:
    view = local_view(dev)
    assert "grafana" not in view.services
    assert {name for name, service in view.services.items() if service.local_only} == {
        "llm-standin",
        "github-local",
        "github-api-standin",
    }
    assert "github-api-standin" not in local_view(dev, real=["github"]).services  # only github-local used it


def test_the_deployed_catalog_is_untouched(dev: Catalog) -> None:
    local_view(dev)
    assert dev.services["open-webui"].open_webui.llm == "ollama"
    assert "ollama" in dev.services


def test_substitute_must_be_a_local_only_service_of_the_same_kind(edit_config: EditConfig) -> None:
    config = edit_config(
        "    github: github-local\n", "    github: time\n    ollama-x: ollama\n", "environments/dev.yaml"
    )
    found = {p.path: p.message for p in problems(config)}
    assert "must be marked local_only" in found["local.substitutes.github"]
    assert "unknown service 'ollama-x'" in found["local.substitutes.ollama-x"]


def test_only_local_only_services_may_use_a_local_only_service(edit_config: EditConfig) -> None:
    config = edit_config("    kind: prometheus\n", "    kind: prometheus\n    depends_on: [llm-standin]\n")
    problem = only_problem(config)
    assert problem.path == "services.prometheus"
    assert "llm-standin" in problem.message and "local_only" in problem.message


def with_every_named_service_substituted(catalog: Catalog) -> tuple[Catalog, dict[str, str]]:
    """The catalog with a local_only double in place of every service another service names."""
    named = {ref.service for service in catalog.services.values() for ref in references(service)}
    doubles = {name: f"{name}-double" for name in sorted(named)}
    services = dict(catalog.services)
    for name, double in doubles.items():
        services[double] = catalog.services[name].model_copy(update={"local_only": True})
    publish = {name: 20000 + index for index, name in enumerate(doubles)}
    local = catalog.local.model_copy(update={"substitutes": doubles, "skip": [], "publish": publish})
    return catalog.model_copy(update={"services": services, "local": local}), doubles


def value_at(model: object, path: KeyPath) -> object:
    for part in path:
        model = model[part] if isinstance(model, dict | list) else getattr(model, str(part))
    return model


def test_stand_ins_take_over_every_reference_including_open_webui_redis() -> None:
    catalog, doubles = with_every_named_service_substituted(load_catalog(DEFAULT_CONFIG_DIR, "prod"))
    view = local_view(catalog)
    assert view.services["open-webui"].open_webui.redis == "redis-double"
    assert view.services["mcpo-double"].gateway.rate_limits.redis == "redis-double"  # doubles are renamed too
    renamed = set()
    for name, service in catalog.services.items():
        if name in doubles or name not in view.services:  # replaced, or a stand-in nothing uses any more
            continue
        for ref in references(service):
            assert value_at(view.services[name], ref.path) == doubles.get(ref.service, ref.service), (name, ref.path)
            renamed.add(ref.path)
    assert {("open_webui", "redis"), ("gateway", "rate_limits", "redis"), ("grafana", "datasource")} <= renamed
    assert set(view.local.publish) == set(doubles.values())  # the publish entries follow the stand-ins
    assert "redis" not in {ref.service for service in view.services.values() for ref in references(service)}
