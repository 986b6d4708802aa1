"""Key paths such as `services.sandbox.ports[0].port`, and where they were written."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mcpstack.catalog.errors import Location

KeyPath = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


@dataclass
class SourceMap:
    """Where each key and value of a (possibly merged) document came from."""

    values: dict[KeyPath, Location] = field(default_factory=dict)
    keys: dict[KeyPath, Location] = field(default_factory=dict)

    def value_at(self, path: KeyPath) -> Location | None:
        """The location of `path`, or of its nearest ancestor that exists in the document."""
        for end in range(len(path), -1, -1):
            if (loc := self.values.get(path[:end])) is not None:
                return loc
        return None

    def key_at(self, path: KeyPath) -> Location | None:
        return self.keys.get(path) or self.value_at(path)

    def update_subtree(self, path: KeyPath, other: SourceMap) -> None:
        """Replace everything under `path` with `other`'s entries under the same path."""
        for table, theirs in ((self.values, other.values), (self.keys, other.keys)):
            for key in [k for k in table if k[: len(path)] == path]:
                del table[key]
            table.update({k: v for k, v in theirs.items() if k[: len(path)] == path})
