"""The catalog fields that name another service, declared once: in the models, as types carrying a
`ServiceReference` (e.g. `ServiceName`). Validation checks that each names a service of the right kind, the
dependency graph follows them, and the local runtime renames them when a stand-in takes a service's place.

Everything here walks the models' own annotations, so a field typed as a reference is covered everywhere
at once; tests/catalog/test_references.py fails on a field that holds a service name without being one.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from mcpstack.catalog.paths import KeyPath

Rename = Callable[[str], str]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ServiceReference:
    """Marks a string (a value or a mapping key) that names a catalog service.

    kind: the kind of service it must name (None: any); qualified: written `service` or `service.PART`;
    starts_first: the named service must run before this one (else it is only called once both run, e.g. the
    gateway asking Open WebUI, which itself needs the gateway, for a user's groups)."""

    kind: str | None = None
    qualified: bool = False
    starts_first: bool = True

    def service_of(self, text: str) -> str:
        return text.partition(".")[0] if self.qualified else text

    def renamed(self, text: str, rename: Rename) -> str:
        if not self.qualified:
            return rename(text)
        service, dot, rest = text.partition(".")
        return rename(service) + dot + rest


@dataclass(frozen=True)
class Reference:
    """One place in a model that names a service: where (a key path; `key`: the mapping key at the end of
    it, not its value), which service, and how it is marked."""

    path: KeyPath
    service: str
    marker: ServiceReference
    key: bool = False


def references(model: BaseModel, path: KeyPath = ()) -> Iterator[Reference]:
    """Every service reference inside `model` (a catalog, a service, any part of one), in field order."""
    for name, field in type(model).model_fields.items():
        yield from _walk(getattr(model, name), _annotated(field.annotation, field.metadata), (*path, name))


def rename_references(model: M, rename: Rename) -> M:
    """A copy of `model` with every service reference inside it passed through `rename`."""
    update = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        renamed = _renamed(value, _annotated(field.annotation, field.metadata), rename)
        if renamed != value:
            update[name] = renamed
    return model.model_copy(update=update) if update else model


def reference_fields(model_type: type[BaseModel], prefix: str = "") -> set[str]:
    """The declared reference fields of a model type as key patterns (`*`: any key or index, `<key>`: the
    mapping's keys), e.g. `services.*.open_webui.redis`: the one list, read from the annotations."""
    found: set[str] = set()
    for name, field in model_type.model_fields.items():
        found |= _patterns(_annotated(field.annotation, field.metadata), f"{prefix}.{name}" if prefix else name)
    return found


def _walk(value: Any, annotation: Any, path: KeyPath) -> Iterator[Reference]:
    if isinstance(value, BaseModel):
        yield from references(value, path)
        return
    marker, annotation = _unwrap(annotation, value)
    if isinstance(value, str) and marker is not None:
        yield Reference(path, marker.service_of(value), marker)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, _args(annotation, 0), (*path, index))
    elif isinstance(value, dict):
        key_marker, _ = _unwrap(_args(annotation, 0), "")
        for key, item in value.items():
            if key_marker is not None and isinstance(key, str):
                yield Reference((*path, key), key_marker.service_of(key), key_marker, key=True)
            yield from _walk(item, _args(annotation, 1), (*path, key))


def _renamed(value: Any, annotation: Any, rename: Rename) -> Any:
    if isinstance(value, BaseModel):
        return rename_references(value, rename)
    marker, annotation = _unwrap(annotation, value)
    if isinstance(value, str) and marker is not None:
        return marker.renamed(value, rename)
    if isinstance(value, list):
        return [_renamed(item, _args(annotation, 0), rename) for item in value]
    if isinstance(value, dict):
        key_marker, _ = _unwrap(_args(annotation, 0), "")
        return {
            key_marker.renamed(key, rename) if key_marker and isinstance(key, str) else key: _renamed(
                item, _args(annotation, 1), rename
            )
            for key, item in value.items()
        }
    return value


def _patterns(annotation: Any, prefix: str) -> set[str]:
    found: set[str] = set()
    marker, annotation = _unwrap(annotation, None)
    if marker is not None:
        found.add(prefix)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            found |= _patterns(member, prefix)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found |= reference_fields(annotation, prefix)
    elif origin is list:
        found |= _patterns(_args(annotation, 0), f"{prefix}[*]")
    elif origin is dict:
        if _unwrap(_args(annotation, 0), None)[0] is not None:
            found.add(f"{prefix}.<key>")
        found |= _patterns(_args(annotation, 1), f"{prefix}.*")
    return found


def _annotated(annotation: Any, metadata: list[Any]) -> Any:
    """A field's type with the metadata pydantic moved out of its top-level Annotated put back."""
    return typing.Annotated[(annotation, *metadata)] if metadata else annotation


def _unwrap(annotation: Any, value: Any) -> tuple[ServiceReference | None, Any]:
    """(the reference marker, the plain type) of `annotation`; a union resolves to the member `value` is an
    instance of (value None: the union itself, to be walked member by member)."""
    marker = None
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            base, *metadata = typing.get_args(annotation)
            marker = next((m for m in metadata if isinstance(m, ServiceReference)), marker)
            annotation = base
        elif origin in (typing.Union, types.UnionType) and value is not None:
            members = [m for m in typing.get_args(annotation) if _accepts(m, value)]
            if not members:
                return marker, Any
            annotation = members[0]
        else:
            return marker, annotation


def _accepts(annotation: Any, value: Any) -> bool:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    plain = typing.get_origin(annotation) or annotation
    return isinstance(plain, type) and isinstance(value, plain)


def _args(annotation: Any, index: int) -> Any:
    args = typing.get_args(annotation)
    return args[index] if len(args) > index else Any
