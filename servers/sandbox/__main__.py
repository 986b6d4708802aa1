import logging
import sys

from servers.common.cli import serve
from servers.sandbox.layers import SandboxUnavailable
from servers.sandbox.server import create_app


def main() -> None:
    try:
        serve("mcpstack code-execution sandbox MCP server", lambda _args: create_app(), default_port=8001)
    except SandboxUnavailable as exc:
        logging.getLogger("mcpstack.sandbox").error("%s", exc)
        sys.exit(3)


if __name__ == "__main__":
    main()
