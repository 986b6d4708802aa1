from servers.common.cli import serve, upstream_auth
from servers.timeserver.server import create_app


def main() -> None:
    serve("mcpstack time MCP server", lambda args: create_app(upstream_auth(args)), default_port=8003)


if __name__ == "__main__":
    main()
