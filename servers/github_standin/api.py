"""The REST endpoints the reference GitHub MCP server calls for its read tools, with canned data."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DOCS = "https://docs.github.com/rest"
MAX_RECORDED = 500
ISSUES = [
    {"number": 1, "title": "Tool calls time out under load", "state": "open", "labels": [{"name": "bug"}]},
    {"number": 2, "title": "Document the sandbox's isolation layers", "state": "open", "labels": [{"name": "docs"}]},
]


class RequestLog:
    """What arrived: method, path and the SHA-256 of the bearer token (never the token)."""

    def __init__(self) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)

    def record(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        digest = hashlib.sha256(token.encode()).hexdigest() if scheme.lower() in ("bearer", "token") and token else None
        self.entries.append(
            {"at": time.time(), "method": request.method, "path": request.url.path, "token_sha256": digest}
        )
        return digest


def _issue(owner: str, repo: str, issue: dict[str, Any]) -> dict[str, Any]:
    number = issue["number"]
    return {
        **issue,
        "id": 1000 + number,
        "html_url": f"https://github.com/{owner}/{repo}/issues/{number}",
        "url": f"https://api.github.com/repos/{owner}/{repo}/issues/{number}",
        "user": {"login": "octocat"},
        "comments": 0,
        "body": f"Issue {number} of {owner}/{repo}.",
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-20T10:00:00Z",
    }


def create_api(log: RequestLog) -> Starlette:
    def authenticated(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if log.record(request) is None:
                return JSONResponse({"message": "Requires authentication", "documentation_url": DOCS}, status_code=401)
            return await handler(request)

        return endpoint

    async def user(_: Request) -> Response:
        return JSONResponse({"login": "mcpstack-tester", "id": 4242, "type": "User"})

    async def repository(request: Request) -> Response:
        owner, repo = request.path_params["owner"], request.path_params["repo"]
        return JSONResponse(
            {
                "id": 77,
                "name": repo,
                "full_name": f"{owner}/{repo}",
                "private": False,
                "owner": {"login": owner},
                "default_branch": "main",
                "open_issues_count": len(ISSUES),
            }
        )

    async def issues(request: Request) -> Response:
        owner, repo = request.path_params["owner"], request.path_params["repo"]
        state = request.query_params.get("state", "open")
        found = [_issue(owner, repo, i) for i in ISSUES if state in ("all", i["state"])]
        return JSONResponse(found)

    async def issue(request: Request) -> Response:
        owner, repo, number = (request.path_params[k] for k in ("owner", "repo", "number"))
        match = next((i for i in ISSUES if i["number"] == number), None)
        if match is None:
            return JSONResponse({"message": "Not Found", "documentation_url": DOCS}, status_code=404)
        return JSONResponse(_issue(owner, repo, match))

    async def search_repositories(request: Request) -> Response:
        query = request.query_params.get("q", "")
        items = [{"id": 77, "name": "mcpstack", "full_name": "octo-org/mcpstack", "description": f"matches {query}"}]
        return JSONResponse({"total_count": len(items), "incomplete_results": False, "items": items})

    async def not_found(request: Request) -> Response:
        log.record(request)
        return JSONResponse({"message": "Not Found", "documentation_url": DOCS}, status_code=404)

    return Starlette(
        routes=[
            Route("/user", authenticated(user)),
            Route("/repos/{owner}/{repo}", authenticated(repository)),
            Route("/repos/{owner}/{repo}/issues", authenticated(issues)),
            Route("/repos/{owner}/{repo}/issues/{number:int}", authenticated(issue)),
            Route("/search/repositories", authenticated(search_repositories)),
            Route("/{path:path}", not_found, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ]
    )


def create_control(log: RequestLog, ca_pem: bytes) -> Starlette:
    """Plain HTTP, on the stack's network only: the CA to trust, health, and what was received."""

    async def ca(_: Request) -> Response:
        return Response(ca_pem, media_type="application/x-pem-file")

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def requests(_: Request) -> Response:
        return JSONResponse(list(log.entries))

    return Starlette(
        routes=[Route("/ca.pem", ca), Route("/_standin/health", health), Route("/_standin/requests", requests)]
    )
