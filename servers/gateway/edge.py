"""The gateway's edge checks on a request before anything of it reaches mcpo: headers that must be unambiguous,
and a tool call's body read within the catalog's limits and checked (body.py, arguments.py).

Each check raises Refusal with the problem to answer; the pipeline logs the refusal with the request's
correlation ID and its cause, counts it, and answers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from servers.gateway import problems
from servers.gateway.arguments import check_arguments
from servers.gateway.body import BodyRefused, Receive, declared_length, read_body
from servers.gateway.problems import ProblemType
from servers.gateway.settings import GatewaySettings


@dataclass(eq=False)  # an exception stays hashable
class Refusal(Exception):
    kind: ProblemType
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


def single_headers(settings: GatewaySettings) -> dict[str, str]:
    """Headers a request may carry at most once (lower-case name -> name as shown), else it is ambiguous."""
    identity = settings.identity_headers
    names = ["Authorization", "Content-Type", "Content-Length", "X-Request-ID"]
    names += [identity.user_id, identity.email, identity.role, identity.name, identity.jwt]
    return {name.lower(): name for name in names}


def check_single(raw_headers: Iterable[tuple[bytes, bytes]], single: dict[str, str]) -> None:
    seen: set[str] = set()
    for raw_name, _ in raw_headers:
        name = raw_name.decode("latin-1").lower()
        if name in single:
            if name in seen:
                shown = single[name]
                raise Refusal(problems.AMBIGUOUS_HEADER, f"the request has more than one {shown!r} header; send one")
            seen.add(name)


async def checked_body(receive: Receive, headers: dict[str, str], settings: GatewaySettings) -> bytes:
    """A tool call's whole body, within the limits, with arguments no upstream session would choke on."""
    limits = settings.limits
    try:
        body = await read_body(
            receive,
            limit=limits.max_body_bytes,
            seconds=limits.body_timeout_seconds,
            declared=declared_length(headers),
        )
    except BodyRefused as refused:
        kind = problems.BODY_TOO_LARGE if refused.kind == "too-large" else problems.REQUEST_TIMEOUT
        # the rest of the body is not read: the connection cannot serve another request
        raise Refusal(kind, refused.reason, {"Connection": "close"}) from None
    rejection = check_arguments(body, limits.max_json_depth)
    if rejection is not None:
        raise Refusal(rejection.kind, rejection.detail)
    return body
