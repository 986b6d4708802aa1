"""The tools a request offers, as the stand-in sees them: names, JSON schemas, and which are the platform's.

Open WebUI names a tool server's tools after the server's OpenAPI operationIds; mcpo's are
`tool_<name>_post` (e.g. `tool_get_current_time_post`), prefixed with `<server id>_` when two servers
offer the same operation. An MCP server's tools (a connection of type `mcp`) it names `<server id>_<tool>`
(e.g. `time_get_current_time`). Open WebUI's own built-in tools (e.g. `get_current_timestamp`) have plain names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MCPO_OPERATION = re.compile(r"^(?:.+?_)?tool_(?P<operation>.+)_post$")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> ToolSpec:
        function = spec.get("function", spec)  # OpenAI wraps the spec in {"type": "function", "function": ...}
        return cls(function.get("name", ""), function.get("description") or "", function.get("parameters") or {})

    @property
    def properties(self) -> dict[str, Any]:
        properties = self.parameters.get("properties") if isinstance(self.parameters, dict) else None
        return properties if isinstance(properties, dict) else {}

    @property
    def required(self) -> list[str]:
        required = self.parameters.get("required") if isinstance(self.parameters, dict) else None
        return [name for name in required or [] if isinstance(name, str)]

    @property
    def platform(self) -> bool:
        """A tool of one of the platform's tool servers (an mcpo operation), not an Open WebUI built-in."""
        return MCPO_OPERATION.match(self.name) is not None

    @property
    def operation(self) -> str:
        """The tool's own name: `get_current_time` for `tool_get_current_time_post` (or `<server>_tool_..._post`)."""
        match = MCPO_OPERATION.match(self.name)
        return match.group("operation") if match else self.name

    def offers(self, operation: str) -> bool:
        """This is the tool `operation`: as an mcpo operation, a built-in, or an MCP server's `<server>_<operation>`."""
        return self.operation == operation or self.name.endswith(f"_{operation}")

    def arguments(self, known: dict[str, Any]) -> dict[str, Any] | None:
        """`known` values of the properties the schema declares, plus a value for every required one;
        None when a required argument has no value (from `known`, the schema's default or its only enum)."""
        arguments = {name: value for name, value in known.items() if name in self.properties}
        for name in self.required:
            if name in arguments:
                continue
            schema = self.properties.get(name, {})
            if isinstance(schema, dict) and "default" in schema:
                arguments[name] = schema["default"]
            elif isinstance(schema, dict) and isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1:
                arguments[name] = schema["enum"][0]
            else:
                return None
        return arguments


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


def platform_first(tools: list[ToolSpec]) -> list[ToolSpec]:
    """The platform's tools before Open WebUI's built-ins, each group in the order offered."""
    return sorted(tools, key=lambda tool: not tool.platform)
