"""`validate` across environments: a problem every environment shares is listed once, labelled."""

from __future__ import annotations

from mcpstack.catalog.by_environment import label_problems
from mcpstack.catalog.errors import Location, Problem

SHARED = Problem("services.time.replicaz", "unknown key", Location("catalog.yaml", 3, 5))
PROD_ONLY = Problem("services.tyme", "unknown service 'tyme'", Location("environments/prod.yaml", 2, 3))


def test_shared_problems_are_listed_once_with_every_environment() -> None:
    labelled = label_problems({"dev": [SHARED], "prod": [SHARED, PROD_ONLY]})
    assert [(item.problem, item.environments) for item in labelled] == [
        (SHARED, ("dev", "prod")),
        (PROD_ONLY, ("prod",)),
    ]
    assert labelled[0].label(("dev", "prod")) == "every environment"
    assert labelled[1].label(("dev", "prod")) == "prod"
    assert labelled[0].label(("dev", "prod", "staging")) == "dev, prod"
    assert labelled[1].to_json()["file"] == "environments/prod.yaml"
