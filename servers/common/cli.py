"""The command line every mcpstack MCP server shares."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

from servers.common.logs import configure_logging
from servers.common.upstream_auth import UpstreamAuth, UpstreamAuthError

EXIT_BAD_CREDENTIALS = 2  # the credential settings are unusable (servers/common/upstream_auth.py)


def upstream_auth(args: argparse.Namespace) -> UpstreamAuth | None:
    """What the MCP endpoints check: nothing over stdio (the caller is the parent process), else the environment's."""
    return UpstreamAuth.disabled() if args.transport == "stdio" else None


def serve(
    description: str,
    build: Callable[[argparse.Namespace], tuple[MCPServer[Any], Starlette]],
    argv: Sequence[str] | None = None,
    *,
    default_port: int,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Parse the shared options, build the server and run it on stdio or HTTP.

    Exits with EXIT_BAD_CREDENTIALS, the reason logged, when the credential the MCP endpoints check is unusable."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--transport",
        choices=["http", "stdio"],
        default="http",
        help="http serves streamable HTTP (/mcp) and SSE (/sse) on one port",
    )
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all interfaces
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    configure_logging(args.log_level, quiet=("uvicorn.access", "mcp"))
    try:
        server, app = build(args)
    except UpstreamAuthError as exc:
        logging.getLogger("mcpstack.upstream_auth").error("refusing to start: %s", exc)
        sys.exit(EXIT_BAD_CREDENTIALS)
    if args.transport == "stdio":
        server.run("stdio")
        return
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False, log_config=None
    )
