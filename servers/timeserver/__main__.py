from servers.common.cli import serve
from servers.timeserver.server import create_app


def main() -> None:
    serve("mcpstack time MCP server", lambda _args: create_app(), default_port=8003)


if __name__ == "__main__":
    main()
