"""The catalog reference and JSON Schemas are generated from the models: the committed files are current,
complete (every key described), and the schemas accept the shipped catalog and refuse a typo."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.catalog import models
from mcpstack.catalog.key_docs import DESCRIPTIONS, EXAMPLES
from mcpstack.catalog.models import ServiceBase
from mcpstack.catalog.reference import catalog_reference
from mcpstack.catalog.schema import SCHEMA_FILES, catalog_schema, overlay_schema, schema_text

REGENERATE = "regenerate: mcpstack docs catalog > docs/catalog-reference.md"


def test_committed_reference_is_the_generated_one() -> None:
    committed = (REPO_ROOT / "docs" / "catalog-reference.md").read_text()
    assert committed == catalog_reference(DEFAULT_CONFIG_DIR), REGENERATE


@pytest.mark.parametrize(("kind", "schema"), [("catalog", catalog_schema), ("overlay", overlay_schema)])
def test_committed_schemas_are_the_generated_ones(kind: str, schema) -> None:
    committed = (DEFAULT_CONFIG_DIR / SCHEMA_FILES[kind]).read_text()
    flag = " --overlay" if kind == "overlay" else ""
    assert committed == schema_text(schema()), f"regenerate: mcpstack docs schema{flag} > config/{SCHEMA_FILES[kind]}"


def test_every_key_of_every_model_has_a_row_with_a_description() -> None:
    text = catalog_reference(DEFAULT_CONFIG_DIR)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) > 150
    undescribed = [row.split(" | ")[0] for row in rows if row.split(" | ")[3].strip() == ""]
    assert not undescribed, undescribed
    for section in ("## GrafanaService", "## LlmService", "## Tenancy", "## Service"):
        assert section in text
    for key in ("`generated_env`", "`aliases`", "`host_wheels`", "`required`", "`offer_to_users`", "`tenancy`"):
        assert key in text


def test_key_docs_name_only_keys_that_exist() -> None:
    for qualified in [*DESCRIPTIONS, *EXAMPLES]:
        if "." not in qualified:
            continue
        model, key = qualified.split(".")
        owner = ServiceBase if model == "Service" else getattr(models, model)
        assert key in owner.model_fields, qualified


def test_shipped_files_validate_against_the_schemas_and_a_typo_does_not() -> None:
    catalog = yaml.safe_load((DEFAULT_CONFIG_DIR / "catalog.yaml").read_text())
    jsonschema.validate(catalog, catalog_schema())
    overlay = jsonschema.Draft202012Validator(overlay_schema())
    for path in sorted((DEFAULT_CONFIG_DIR / "environments").glob("*.yaml")):
        assert not list(overlay.iter_errors(yaml.safe_load(path.read_text()))), path
    catalog["services"]["time"]["replicaz"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(catalog, catalog_schema())
    assert list(overlay.iter_errors({"services": {"time": {"replicaz": 2}}}))


def test_catalog_and_overlays_name_their_schema_on_the_first_line() -> None:
    first = (DEFAULT_CONFIG_DIR / "catalog.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILES['catalog']}"
    for path in (DEFAULT_CONFIG_DIR / "environments").glob("*.yaml"):
        assert path.read_text().splitlines()[0] == f"# yaml-language-server: $schema=../{SCHEMA_FILES['overlay']}"
    assert json.loads((DEFAULT_CONFIG_DIR / SCHEMA_FILES["catalog"]).read_text())["title"] == "mcpstack catalog"
