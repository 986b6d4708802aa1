"""Examples for the catalog reference: the first value the shipped catalog (then each overlay) gives each key
of each model, found by walking the documents along the catalog's JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mcpstack.catalog.loader import CATALOG_FILE, ENVIRONMENTS_DIR, environments
from mcpstack.catalog.models import SERVICE_KINDS, ServiceBase
from mcpstack.catalog.schema import Schema

SERVICE_SECTION = "Service"  # the keys every kind shares (ServiceBase)
KIND_MODELS = frozenset(cls.__name__ for cls in SERVICE_KINDS.values())


def shipped_examples(schema: Schema, config_dir: Path) -> dict[str, dict[str, Any]]:
    """Model name -> key -> the first value a document gives it (ServiceBase keys under SERVICE_SECTION)."""
    walker = _Walker(schema["$defs"])
    for document in _documents(config_dir):
        if isinstance(document, dict):
            walker.mapping("Catalog", schema["properties"], document)
    return walker.found


def _documents(config_dir: Path) -> list[Any]:
    """The catalog, then each overlay with its services' kinds filled in from the catalog."""
    base = yaml.safe_load((config_dir / CATALOG_FILE).read_text(encoding="utf-8")) or {}
    kinds = {name: s.get("kind") for name, s in (base.get("services") or {}).items() if isinstance(s, dict)}
    documents = [base]
    for env in environments(config_dir):
        overlay = yaml.safe_load((config_dir / ENVIRONMENTS_DIR / f"{env}.yaml").read_text(encoding="utf-8")) or {}
        for name, service in (overlay.get("services") or {}).items():
            if isinstance(service, dict) and name in kinds:
                service.setdefault("kind", kinds[name])
        documents.append(overlay)
    return documents


class _Walker:
    def __init__(self, defs: dict[str, Schema]) -> None:
        self.defs = defs
        self.found: dict[str, dict[str, Any]] = {}
        self.shared = set(ServiceBase.model_fields) - {"kind"}

    def mapping(self, model: str, properties: Schema, data: dict[str, Any]) -> None:
        for key, value in data.items():
            owner = SERVICE_SECTION if model in KIND_MODELS and key in self.shared else model
            if value is not None:
                self.found.setdefault(owner, {}).setdefault(key, value)
            if key in properties:
                self.walk(properties[key], value)

    def walk(self, node: Schema, data: Any) -> None:
        if data is None:
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if isinstance(data, dict):
                self.mapping(name, self.defs[name].get("properties", {}), data)
        elif "discriminator" in node:
            target = node["discriminator"]["mapping"].get(data.get("kind") if isinstance(data, dict) else None)
            if target:
                self.walk({"$ref": target}, data)
        elif "anyOf" in node:
            option = next((o for o in node["anyOf"] if _fits(o, data)), None)
            if option is not None:
                self.walk(option, data)
        else:
            self.containers(node, data)

    def containers(self, node: Schema, data: Any) -> None:
        if isinstance(data, list) and "items" in node:
            for item in data:
                self.walk(node["items"], item)
        if isinstance(data, dict):
            values = next(iter(node.get("patternProperties", {}).values()), node.get("additionalProperties"))
            if isinstance(values, dict):
                for value in data.values():
                    self.walk(values, value)


def _fits(option: Schema, data: Any) -> bool:
    kind = option.get("type")
    if "$ref" in option or kind == "object":
        return isinstance(data, dict)
    if kind == "array":
        return isinstance(data, list)
    return kind != "null"
