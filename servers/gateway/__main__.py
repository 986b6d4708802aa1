"""Runs the gateway from the config file generated from the catalog."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from servers.gateway import http_server
from servers.gateway.app import create_app
from servers.gateway.context import configure_logging
from servers.gateway.settings import CONFIG_ENV, load_config
from servers.gateway.workers import worker_count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mcpstack gateway: mcpo inside mcpstack's middleware")
    parser.add_argument("--config", required=True, help="gateway config (generated from the catalog)")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all interfaces
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--workers", type=int, default=None, help="processes, each with its own upstream sessions (default: catalog)"
    )
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    os.environ[CONFIG_ENV] = args.config
    try:
        create_app()  # fail here, with exit code 2, on a bad config or key file: not in every worker
        workers = worker_count(args.workers, load_config(args.config)[1].workers)
    except (OSError, ValueError) as exc:
        logging.getLogger("mcpstack.gateway").error("cannot start: %s", exc)
        sys.exit(2)
    uvicorn.run(
        "servers.gateway.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        loop=args.loop,
        http=http_server.protocol(args.http),  # uvicorn's protocol, with a deadline for request headers
        log_level=args.log_level.lower(),
        lifespan="on",  # a start-up that fails stops the gateway, rather than serving without its upstreams
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
