import logging
import sys

from servers.common.cli import serve, upstream_auth
from servers.sandbox.layers import SandboxUnavailable
from servers.sandbox.server import create_app


def main() -> None:
    try:
        serve(
            "mcpstack code-execution sandbox MCP server",
            lambda args: create_app(auth=upstream_auth(args)),
            default_port=8001,
        )
    except SandboxUnavailable as exc:
        logging.getLogger("mcpstack.sandbox").error("%s", exc)
        sys.exit(3)


if __name__ == "__main__":
    main()
