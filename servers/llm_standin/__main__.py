"""Runs the LLM stand-in (a test double; see servers/llm_standin/__init__.py)."""

from __future__ import annotations

import argparse

import uvicorn

from servers.common.logs import configure_logging
from servers.llm_standin.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mcpstack LLM stand-in (test double)")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all interfaces
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--model", action="append", default=[], help="model name to list (repeatable)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level, quiet=("uvicorn.access",))
    app = create_app(args.model or ["llama3.2:3b"])
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False, log_config=None
    )


if __name__ == "__main__":
    main()
