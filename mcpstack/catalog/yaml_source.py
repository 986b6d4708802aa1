"""Loads YAML into plain data while recording where every key and value was written.

PyYAML silently keeps the last of two equal keys; here a duplicate key is a problem, because in the
catalog it usually means a service or setting defined twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mcpstack.catalog.errors import Location, Problem
from mcpstack.catalog.paths import KeyPath, SourceMap, format_path


class YamlDocument:
    def __init__(self, data: Any, source_map: SourceMap, problems: list[Problem]) -> None:
        self.data = data
        self.source_map = source_map
        self.problems = problems


def load_yaml(path: Path, display_name: str | None = None) -> YamlDocument:
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return YamlDocument(None, SourceMap(), [Problem("", f"cannot read file: {exc.strerror}", Location(name, 0, 0))])
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDocument:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        walker = _Walker(loader, name)
        data = walker.convert(node, ()) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 0, 0)
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        return YamlDocument(None, SourceMap(), [Problem("", f"YAML syntax error: {detail}", location)])
    finally:
        loader.dispose()
    return YamlDocument(data, walker.source_map, walker.problems)


class _Walker:
    def __init__(self, loader: yaml.SafeLoader, name: str) -> None:
        self._loader = loader
        self._name = name
        self.source_map = SourceMap()
        self.problems: list[Problem] = []

    def _location(self, node: yaml.Node) -> Location:
        return Location(self._name, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: yaml.Node, path: KeyPath) -> Any:
        self.source_map.values[path] = self._location(node)
        if isinstance(node, yaml.MappingNode):
            self._loader.flatten_mapping(node)  # resolves `<<` merge keys
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool):
                    self.problems.append(
                        Problem(format_path(path), "mapping keys must be scalars", self._location(key_node))
                    )
                    continue
                key = str(key)
                child = (*path, key)
                if key in result:
                    first = self.source_map.keys[child]
                    self.problems.append(
                        Problem(
                            format_path(child),
                            f"duplicate key '{key}' (first defined at line {first.line}); "
                            "each key may appear once in a mapping",
                            self._location(key_node),
                        )
                    )
                    continue
                self.source_map.keys[child] = self._location(key_node)
                result[key] = self.convert(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._loader.construct_object(node, deep=True)
