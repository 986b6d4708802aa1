from servers.common.cli import serve
from servers.sandbox.server import create_app


def main() -> None:
    serve("mcpstack code-execution sandbox MCP server", lambda _args: create_app(), default_port=8001)


if __name__ == "__main__":
    main()
