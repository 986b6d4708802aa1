"""Turns pydantic validation errors into catalog problems with file, line and key path."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from mcpstack.catalog.errors import Problem
from mcpstack.catalog.models import DNS_LABEL, PUBLISH_KEY, SERVICE_KINDS, Catalog
from mcpstack.catalog.paths import KeyPath, SourceMap, format_path

PATTERN_MEANINGS = {
    DNS_LABEL: "must be a lowercase DNS label: a-z, 0-9 and '-', starting with a letter, at most 63 characters",
    PUBLISH_KEY.pattern: "must be 'service' or 'service.port-name'",
}


def problems_from_validation_error(error: ValidationError, data: Any, source_map: SourceMap) -> list[Problem]:
    problems = []
    for err in error.errors(include_url=False):
        path = _strip_union_tags(err["loc"])
        kind = err["type"]
        location = source_map.value_at(path)
        if kind == "extra_forbidden":
            message = _unknown_key_message(path, data)
            location = source_map.key_at(path)
        elif kind in ("missing", "union_tag_not_found"):
            if kind == "union_tag_not_found":
                path = (*path, "kind")
            message = "required key is missing"
        elif kind == "union_tag_invalid":
            location = source_map.value_at((*path, "kind"))
            path = (*path, "kind")
            message = f"unknown kind {err['ctx']['tag']!r}; expected one of {', '.join(SERVICE_KINDS)}"
        elif path and path[-1] == "[key]":
            path = path[:-1]
            location = source_map.key_at(path)
            message = f"invalid name {path[-1]!r}: {_describe(err)}"
        else:
            message = _describe(err)
        problems.append(Problem(format_path(path), message, location))
    return problems


def _describe(err: Any) -> str:
    message = err["msg"].removeprefix("Value error, ")
    pattern = (err.get("ctx") or {}).get("pattern")
    if pattern in PATTERN_MEANINGS:
        message = PATTERN_MEANINGS[pattern]
    elif pattern:
        message = f"has an invalid format (expected to match {pattern})"
    value = err.get("input")
    if isinstance(value, str | int | float | bool) and err["type"] != "value_error":
        message += f"; got {value!r}"
    elif isinstance(value, list | dict) and err["type"].endswith("_type"):
        message += f"; got a {'list' if isinstance(value, list) else 'mapping'}"
    return message


def _strip_union_tags(loc: tuple[Any, ...]) -> KeyPath:
    # pydantic puts the discriminator value in the location: services.time.mcp-server.image
    if len(loc) > 2 and loc[0] == "services" and loc[2] in SERVICE_KINDS:
        return (*loc[:2], *loc[3:])
    return tuple(loc)


def _unknown_key_message(path: KeyPath, data: Any) -> str:
    key = str(path[-1])
    allowed = _allowed_keys(path[:-1], data)
    message = f"unknown key {key!r}"
    if allowed:
        close = difflib.get_close_matches(key, allowed, n=1)
        message += f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(sorted(allowed))}"
    return message


def _allowed_keys(path: KeyPath, data: Any) -> list[str]:
    """Field names of the model found at `path`, walking the catalog's type annotations."""
    annotation: Any = Catalog
    node = data
    for part in path:
        annotation = _resolve(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
    annotation = _resolve(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _resolve(annotation: Any, node: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            kind = node.get("kind") if isinstance(node, dict) else None
            by_kind = [m for m in members if m in SERVICE_KINDS.values() and SERVICE_KINDS.get(kind) is m]
            annotation = (by_kind or members)[0]
        else:
            return annotation


def _has(node: dict[Any, Any] | list[Any], part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)
