"""mcpstack's code-execution sandbox MCP server."""
