"""mcpstack's time MCP server: current time in a timezone and conversions between zones."""
