"""Loads `config/catalog.yaml` with an environment overlay from `config/environments/ENV.yaml`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mcpstack.catalog.checks import check_catalog
from mcpstack.catalog.errors import CatalogError, Location, Problem
from mcpstack.catalog.models import Catalog
from mcpstack.catalog.overlay import merge
from mcpstack.catalog.validation import problems_from_validation_error
from mcpstack.catalog.yaml_source import YamlDocument, load_yaml

CATALOG_FILE = "catalog.yaml"
ENVIRONMENTS_DIR = "environments"


def environments(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in (config_dir / ENVIRONMENTS_DIR).glob("*.yaml"))


def load_catalog(config_dir: Path, environment: str) -> Catalog:
    """Load and fully validate the catalog for one environment; raise CatalogError listing every problem."""
    known = environments(config_dir)
    if environment not in known:
        raise CatalogError(
            [
                Problem(
                    "",
                    f"unknown environment {environment!r} (available: {', '.join(known) or 'none'})",
                    Location(_display(config_dir / ENVIRONMENTS_DIR), 0, 0),
                )
            ]
        )
    base = _load_mapping(config_dir / CATALOG_FILE, config_dir)
    overlay = _load_mapping(config_dir / ENVIRONMENTS_DIR / f"{environment}.yaml", config_dir)
    problems = base.problems + overlay.problems
    if base.data is None or overlay.data is None:
        raise CatalogError(problems)

    problems += _unknown_services(base, overlay)
    source_map = base.source_map
    data = merge(base.data, overlay.data, source_map, overlay.source_map)
    data["environment"] = environment
    data["config_dir"] = str(config_dir.resolve())
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(problems + problems_from_validation_error(exc, data, source_map)) from None
    problems += check_catalog(catalog, source_map)
    if problems:
        raise CatalogError(problems)
    return catalog


def _unknown_services(base: YamlDocument, overlay: YamlDocument) -> list[Problem]:
    """An overlay's service without `kind` that the catalog does not have: a typo of a known one, most likely.
    Reported as such (and left out), rather than as a new service missing its required keys."""
    known = base.data.get("services") if isinstance(base.data, dict) else None
    changed = overlay.data.get("services") if isinstance(overlay.data, dict) else None
    if not isinstance(known, dict) or not isinstance(changed, dict):
        return []
    problems = []
    for name in [n for n, s in changed.items() if n not in known and not (isinstance(s, dict) and "kind" in s)]:
        close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(map(str, known)))}"
        message = f"unknown service {name!r} ({hint}); a new service needs its 'kind'"
        problems.append(Problem(f"services.{name}", message, overlay.source_map.key_at(("services", name))))
        del changed[name]
    return problems


def _load_mapping(path: Path, config_dir: Path) -> YamlDocument:
    document = load_yaml(path, _display(path))
    if document.data is not None and not isinstance(document.data, dict):
        document.problems.append(
            Problem("", "the file must contain a mapping at the top level", Location(_display(path), 1, 1))
        )
        document.data = None
    return document


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_all(config_dir: Path) -> dict[str, Catalog | CatalogError]:
    results: dict[str, Any] = {}
    for env in environments(config_dir):
        try:
            results[env] = load_catalog(config_dir, env)
        except CatalogError as exc:
            results[env] = exc
    return results
