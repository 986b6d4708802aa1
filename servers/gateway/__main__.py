"""Runs the gateway from the config file generated from the catalog."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from servers.gateway.app import build_gateway
from servers.gateway.auth import KeyFileError
from servers.gateway.context import configure_logging
from servers.gateway.settings import load_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mcpstack gateway: mcpo inside mcpstack's middleware")
    parser.add_argument("--config", required=True, help="gateway config (generated from the catalog)")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all interfaces
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        servers, settings = load_config(args.config)
        app = build_gateway(servers, settings)
    except (OSError, ValueError, KeyFileError) as exc:
        logging.getLogger("mcpstack.gateway").error("cannot start: %s", exc)
        sys.exit(2)
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False, log_config=None
    )


if __name__ == "__main__":
    main()
