"""Errors as RFC 7807 problem details (`application/problem+json`), each with a stable type.

The types are listed in docs/gateway.md. Every body carries the request's correlation ID; no body
ever carries a credential, a stack trace or an exception's repr.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from servers.gateway.context import correlation_id

MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return f"urn:mcpstack:problem:{self.slug}"


UNAUTHORIZED = ProblemType("unauthorized", 401, "Missing or invalid API key")
FORBIDDEN = ProblemType("forbidden", 403, "Not allowed for this caller")
NOT_FOUND = ProblemType("not-found", 404, "No such route or tool")
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", 405, "Method not allowed")
MALFORMED_JSON = ProblemType("malformed-json", 400, "The request body is not valid JSON")
INVALID_ARGUMENTS = ProblemType("invalid-arguments", 422, "The tool's arguments are invalid")
TOOL_ERROR = ProblemType("tool-error", 422, "The tool reported an error")
RATE_LIMITED = ProblemType("rate-limited", 429, "Too many requests")
INTERNAL_ERROR = ProblemType("internal-error", 500, "Internal error")
UPSTREAM_UNAVAILABLE = ProblemType("upstream-unavailable", 503, "The tool server is temporarily unavailable")
UPSTREAM_TIMEOUT = ProblemType("upstream-timeout", 504, "The tool server did not answer in time")
HTTP_ERROR = ProblemType("http-error", 400, "Bad request")
# Edge limits and input checks: the request is refused before it reaches mcpo or an upstream.
AMBIGUOUS_HEADER = ProblemType("ambiguous-header", 400, "A header that must appear once appears more than once")
BODY_TOO_LARGE = ProblemType("body-too-large", 413, "The request body is too large")
JSON_TOO_DEEP = ProblemType("json-too-deep", 400, "The request body is nested too deeply")
UNENCODABLE_TEXT = ProblemType("unencodable-text", 400, "A string is not valid Unicode")
INVALID_NUMBER = ProblemType("invalid-number", 400, "A number is not finite")
REQUEST_TIMEOUT = ProblemType("request-timeout", 408, "The request body did not arrive in time")
INVALID_USER_IDENTITY = ProblemType("invalid-user-identity", 401, "The signed user identity is not valid")
BAD_UPSTREAM_REPLY = ProblemType("bad-upstream-reply", 502, "The tool server's reply was broken")
IDENTITY_UNAVAILABLE = ProblemType("identity-unavailable", 503, "The user's groups could not be looked up")

ALL_TYPES = (
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    MALFORMED_JSON,
    INVALID_ARGUMENTS,
    TOOL_ERROR,
    RATE_LIMITED,
    INTERNAL_ERROR,
    UPSTREAM_UNAVAILABLE,
    UPSTREAM_TIMEOUT,
    HTTP_ERROR,
    AMBIGUOUS_HEADER,
    BODY_TOO_LARGE,
    JSON_TOO_DEEP,
    UNENCODABLE_TEXT,
    INVALID_NUMBER,
    REQUEST_TIMEOUT,
    INVALID_USER_IDENTITY,
    BAD_UPSTREAM_REPLY,
    IDENTITY_UNAVAILABLE,
)


def problem_body(kind: ProblemType, detail: str, status: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind.uri,
        "title": kind.title,
        "status": status or kind.status,
        "detail": detail,
        "correlation_id": correlation_id(),
        **extra,
    }


def problem_response(
    kind: ProblemType,
    detail: str,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, raw headers, body) for an ASGI response."""
    body = json.dumps(problem_body(kind, detail, status, **extra)).encode()
    raw = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return status or kind.status, raw, body


def for_status(status: int) -> ProblemType:
    """The problem type for a plain HTTP status raised inside mcpo (e.g. 404, 405)."""
    return {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 401: UNAUTHORIZED, 403: FORBIDDEN}.get(
        status, INTERNAL_ERROR if status >= 500 else HTTP_ERROR
    )
