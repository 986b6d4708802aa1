"""The MCP front's errors: a gateway problem (problems.py) as a JSON-RPC error whose `data` is the problem.

A refusal on the MCP front carries the same RFC 7807 body the OpenAPI path answers with (type, title, status,
detail, correlation_id) in the JSON-RPC error's `data`, under a stable JSON-RPC code per problem type. A tool's
own failure is not a protocol error: the upstream's `isError` result is passed through as a result.
"""

from __future__ import annotations

from typing import Any

from mcp.shared.exceptions import McpError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, ErrorData

from servers.gateway import problems
from servers.gateway.problems import ProblemType

# JSON-RPC codes (-32000..-32099 are the implementation-defined server errors).
CODES: dict[str, int] = {
    problems.NOT_FOUND.slug: INVALID_PARAMS,  # an unknown tool: what the MCP spec asks for
    problems.INVALID_ARGUMENTS.slug: INVALID_PARAMS,
    problems.UNAUTHORIZED.slug: -32001,
    problems.INVALID_USER_IDENTITY.slug: -32001,
    problems.FORBIDDEN.slug: -32003,
    problems.RATE_LIMITED.slug: -32029,
    problems.BAD_UPSTREAM_REPLY.slug: -32052,
    problems.UPSTREAM_UNAVAILABLE.slug: -32053,
    problems.UPSTREAM_TIMEOUT.slug: -32054,
    problems.INTERNAL_ERROR.slug: INTERNAL_ERROR,
}


def code_for(kind: ProblemType) -> int:
    return CODES.get(kind.slug, INTERNAL_ERROR if kind.status >= 500 else INVALID_REQUEST)


class ProblemError(McpError):
    """A JSON-RPC error made from a problem type; `kind` is kept for metrics and the log."""

    def __init__(self, kind: ProblemType, detail: str, **extra: Any) -> None:
        super().__init__(
            ErrorData(code=code_for(kind), message=detail, data=problems.problem_body(kind, detail, **extra))
        )
        self.kind = kind
