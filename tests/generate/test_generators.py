"""The generators the catalog may name (declared in the catalog layer) are exactly the ones implemented here."""

from __future__ import annotations

from mcpstack.catalog.models import GENERATOR_NAMES
from mcpstack.generate import GENERATORS


def test_every_generator_the_catalog_may_name_is_implemented_and_no_other() -> None:
    assert sorted(GENERATORS) == sorted(GENERATOR_NAMES)
