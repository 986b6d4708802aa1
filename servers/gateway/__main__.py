"""Runs the gateway: reads the API key from a secret file (never argv or env), serves mcpo."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from servers.gateway.app import build_mcpo_app, with_health


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mcpstack gateway (mcpo)")
    parser.add_argument("--config", required=True, help="mcpo config file (generated from the catalog)")
    parser.add_argument("--api-key-file", required=True, help="file holding the bearer API key")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all interfaces
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--cors-allow-origin",
        action="append",
        default=[],
        help="allowed CORS origin; repeat for several (default: none)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        api_key = Path(args.api_key_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        sys.exit(f"gateway: cannot read --api-key-file {args.api_key_file}: {exc.strerror}")
    if not api_key:
        sys.exit(f"gateway: --api-key-file {args.api_key_file} is empty")
    app = with_health(build_mcpo_app(args.config, api_key, args.cors_allow_origin))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False)


if __name__ == "__main__":
    main()
