"""Checks a tool call's JSON body for what would break the upstream MCP session rather than the call alone.

The MCP client mcpo shares per route encodes every call as UTF-8 JSON; a string holding a lone surrogate
(`"\\ud800"`, valid JSON but not encodable) or a non-finite number makes that encoding fail inside the session's
transport, which then fails every call in flight on the route. Such bodies are refused here with 400 naming the
field, as are bodies nested deeper than `limits.max_json_depth`. A body that is not JSON at all passes: mcpo
refuses it with a 400 naming the position, before any session is involved.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from servers.gateway import problems
from servers.gateway.problems import ProblemType

SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Rejection:
    kind: ProblemType
    detail: str


def check_arguments(body: bytes, max_depth: int) -> Rejection | None:
    """None when the body is fine (or not JSON at all), else why it is refused."""
    try:
        document = json.loads(body)
    except RecursionError:
        return Rejection(problems.JSON_TOO_DEEP, f"the body nests deeper than {max_depth} levels")
    except ValueError:
        return None
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if SURROGATE.search(value):
                return _unencodable(path or "(body)", value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                return Rejection(problems.INVALID_NUMBER, f"{_name(path)} is {value}: JSON numbers must be finite")
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                return Rejection(
                    problems.JSON_TOO_DEEP, f"the body nests deeper than {max_depth} levels at {_name(path)}"
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and SURROGATE.search(key):
                    return _unencodable(f"{path or '(body)'} (a key)", key)
                child = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
                stack.append((item, child, depth + 1))
    return None


def _unencodable(path: str, text: str) -> Rejection:
    found = SURROGATE.search(text)
    assert found is not None
    code = f"\\u{ord(found.group()):04x}"
    return Rejection(
        problems.UNENCODABLE_TEXT,
        f"{_name(path)} holds a lone surrogate ({code}) at character {found.start()}: text must be valid Unicode",
    )


def _name(path: str) -> str:
    """A field's path for a message: never itself unencodable (keys may hold surrogates too)."""
    return repr(path.encode("utf-8", "backslashreplace").decode("utf-8"))
